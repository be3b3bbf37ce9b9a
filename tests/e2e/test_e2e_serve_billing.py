"""`subledger serve` runs the billing clock: a real server process catches a backdated
subscription up by itself, by the configured dunning policy, and stops cleanly."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
from support.http import CATALOG_AT_ISO, api_events, api_subscriber, api_subscription
from support.live import free_port
from support.processes import processes, subledger_env, wait_for


def _answers(http: httpx.Client) -> bool:
    try:
        return http.get("/healthz").status_code == 200
    except httpx.TransportError:
        return False


def test_serve_runs_the_billing_clock_with_the_configured_dunning_policy(
        database_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = subledger_env(SUBLEDGER_DATABASE_URL=database_url, SUBLEDGER_BILLING_INTERVAL="1",
                        SUBLEDGER_DUNNING="1:unpaid")
    with processes() as start, httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        server = start(["serve", "--port", str(port)], env, tmp_path / "serve.log")
        wait_for(lambda: _answers(http), timeout=60, what=lambda: f"the API:\n{server.text()}")
        declined = api_subscriber(http, token="tok_chargeDeclined")
        # Its trial ended on Jan 15; nobody runs the clock but the server itself.
        subscription = api_subscription(http, subscriber_id=declined["subscriber_id"],
                                        effective_at=CATALOG_AT_ISO)
        sub_url = f"/subscriptions/{subscription['subscription_id']}"

        wait_for(lambda: any(run["trial_conversions"] for run in server.billing_runs()), timeout=60,
                 what=lambda: f"the trial's conversion:\n{server.text()}")
        state = http.get(sub_url).json()
        written_off = api_events(http, "InvoiceMarkedUncollectible")

        assert server.stop(signal.SIGTERM) == 0, server.text()
    # 1:unpaid: one retry a day after the first failure, then the invoice is written off and
    # the subscription goes on (renewed each month since, each renewal written off in turn).
    assert state["status"] in ("active", "past_due")
    assert state["canceled_at"] is None
    assert written_off and written_off[0]["effective_at"] == "2026-01-16T00:00:00Z"
    assert "Traceback" not in server.text()
