"""The billing clock as a background worker: `subledger billing follow` as a real process
(a run every interval, a clean stop on SIGTERM or SIGINT, refused when the clock is off),
and the worker loop itself on both stores (each run logged, a gateway that is unavailable
left for the next run, a stop between runs)."""

from __future__ import annotations

import dataclasses
import json
import logging
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.factories import utc
from support.ledger import add_plan, log_types, paying_subscriber
from support.processes import processes, subledger_env, wait_for

from subledger.billing_worker import billing_follower
from subledger.bootstrap import build_ledger
from subledger.cli import main
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.projections.follow import follow
from subledger.workers import start_billing

JAN_31 = utc(2026, 1, 31)
MONTHS_DUE = 10
"""Renewals of a subscription started on Jan 31 2026 due by now (Dec 2026 on this machine),
at least: the tests count what the first run did, not a calendar."""


def _book(ledger: Ledger) -> Any:
    """One paying subscription, 10.00 a month from Jan 31 2026 (its first charge made)."""
    add_plan(ledger, "basic", amount=1000)
    ada = paying_subscriber(ledger, "ada@example.com")
    return ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)


# -- `subledger billing follow`, a real process -------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = "sqlite:///" + str(tmp_path / "follow.db")
    ledger = build_ledger(Settings.from_env({"SUBLEDGER_DATABASE_URL": url}))
    try:
        _book(ledger)
    finally:
        ledger.close()
    return url


def _types(url: str) -> list[str]:
    ledger = build_ledger(Settings.from_env({"SUBLEDGER_DATABASE_URL": url}))
    try:
        return log_types(ledger)
    finally:
        ledger.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_billing_follow_runs_the_clock_every_interval_and_stops_cleanly_on_a_signal(
        store: str, tmp_path: Path, sig: signal.Signals) -> None:
    env = subledger_env(SUBLEDGER_DATABASE_URL=store, SUBLEDGER_BILLING_INTERVAL="1")
    with processes() as start:
        follower = start(["billing", "follow"], env, tmp_path / "follow.log")

        wait_for(lambda: len(follower.billing_runs()) >= 2, timeout=120,
                 what=lambda: f"two billing runs in:\n{follower.text()}")

        assert follower.stop(sig) == 0, follower.text()
    first, second = follower.billing_runs()[:2]
    renewed = _types(store).count("SubscriptionRenewed")
    assert first["renewals"] == first["invoices"] == first["charges_succeeded"] == renewed >= MONTHS_DUE
    assert first["collected"] == {"USD": 1000 * renewed}
    assert (second["subscriptions"], second["invoices"], second["billed"]) == (0, 0, {})
    assert "Traceback" not in follower.text()


def test_billing_follow_is_refused_while_the_clock_is_off(
        store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", store)
    monkeypatch.setenv("SUBLEDGER_BILLING_INTERVAL", "0")
    before = _types(store)

    assert main(["billing", "follow"]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err == ("subledger: SUBLEDGER_BILLING_INTERVAL is 0: the billing clock is off; set it"
                   " to the seconds between runs\n")
    assert _types(store) == before


# -- the worker loop, in this process, on both stores --------------------------------------------


@pytest.fixture
def runs(caplog: pytest.LogCaptureFixture) -> Iterator[Any]:
    """The summaries the billing worker logs, as a function reading them so far."""
    caplog.set_level(logging.INFO, logger="subledger.billing_worker")

    def logged() -> list[dict[str, Any]]:
        return [json.loads(r.getMessage().removeprefix("billing run: ")) for r in caplog.records
                if r.name == "subledger.billing_worker" and r.getMessage().startswith("billing run: ")]

    yield logged


def _following(ledger: Ledger, interval: float) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=follow, args=(billing_follower(ledger, interval), stop),
                              daemon=True)
    thread.start()
    return stop, thread


def test_the_worker_logs_each_run_and_stops_between_runs(ledger: Ledger, runs: Any) -> None:
    subscription = _book(ledger)
    stop, thread = _following(ledger, 0.05)

    wait_for(lambda: len(runs()) >= 3, timeout=60, what=lambda: f"three runs, logged {runs()}")
    stop.set()
    thread.join(timeout=60)

    assert not thread.is_alive(), "the worker went on after the stop"
    logged = runs()
    first, later = logged[0], logged[1:]
    renewed = log_types(ledger, subscription.id).count("SubscriptionRenewed")
    assert first["renewals"] == first["charges_succeeded"] == renewed >= MONTHS_DUE
    assert all(run["subscriptions"] == 0 and run["invoices"] == 0 for run in later)
    assert len(runs()) == len(logged), "no run after the stop"


def test_a_subscription_whose_gateway_is_unavailable_is_left_for_the_next_run(
        settings: Settings, ledger: Ledger, runs: Any) -> None:
    # Recorded by a process that has Stripe configured, billed by one that has not: the
    # billing clock cannot reach the subscriber's gateway.
    with_stripe = build_ledger(dataclasses.replace(settings, stripe_api_key="sk_test_unused"))
    try:
        add_plan(with_stripe, "trial", amount=2000, trial_days=14)
        ada = paying_subscriber(with_stripe, "ada@example.com", token="tok_visa")
        ada = with_stripe.subscribers.set_payment_method(ada.id, gateway="stripe", token="cus_1:pm_1",
                                                         effective_at=JAN_31)
        subscription = with_stripe.subscriptions.start(ada.id, plan_id="trial", effective_at=JAN_31)
    finally:
        with_stripe.close()
    stop, thread = _following(ledger, 0.05)

    wait_for(lambda: len(runs()) >= 2, timeout=60, what=lambda: f"two runs, logged {runs()}")
    stop.set()
    thread.join(timeout=60)

    first, second = runs()[:2]
    assert (first["trial_conversions"], first["invoices"], first["deferred"]) == (1, 1, 1)
    assert (second["subscriptions"], second["invoices"], second["deferred"]) == (1, 0, 1)
    types = log_types(ledger, subscription.id)
    assert types.count("InvoiceIssued") == 1
    assert "ChargeSucceeded" not in types and "ChargeFailed" not in types
    assert ledger.subscriptions.get(subscription.id).open_invoices


def test_serve_leaves_the_clock_off_when_its_interval_is_0(settings: Settings, ledger: Ledger) -> None:
    stop = threading.Event()

    assert start_billing(dataclasses.replace(settings, billing_interval=0), ledger, stop) == []
    started = start_billing(dataclasses.replace(settings, billing_interval=1), ledger, stop)
    assert len(started) == 1
    started[0]()  # sets the stop and waits for the run in progress
    assert stop.is_set()
