"""Two billing runs in two processes at once, on PostgreSQL: nothing invoiced or charged
twice, and together they do exactly what one run does."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime

from subledger.bootstrap import build_ledger
from subledger.config import Settings

START = datetime(2026, 1, 31, tzinfo=UTC)
UNTIL = "2026-07-01T00:00:00Z"
TOKENS = ("tok_visa", "tok_fail_first", "tok_chargeDeclined")


def _book(url: str, n: int) -> None:
    ledger = build_ledger(Settings.from_env({"SUBLEDGER_DATABASE_URL": url}))
    try:
        ledger.catalog.create_plan(plan_id="m", name="M", tier="basic", currency="USD", amount=1000,
                           interval="month", trial_days=14, effective_at=START)
        for i in range(n):
            subscriber = ledger.subscribers.register(email=f"s{i}@example.com", name="S",
                                                    effective_at=START)
            ledger.subscribers.set_payment_method(subscriber.id, gateway="sandbox", token=TOKENS[i % 3],
                                      effective_at=START)
            ledger.subscriptions.start(subscriber.id, plan_id="m", effective_at=START)
    finally:
        ledger.close()


def _run_billing_processes(url: str, count: int) -> list[subprocess.CompletedProcess[str]]:
    env = dict(os.environ, SUBLEDGER_DATABASE_URL=url)
    processes = [
        subprocess.Popen([sys.executable, "-m", "subledger.cli", "billing", "run", "--until", UNTIL],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return results


def _log(url: str) -> list[dict]:
    ledger = build_ledger(Settings.from_env({"SUBLEDGER_DATABASE_URL": url}))
    try:
        return ledger.event_log.read(0, 100_000).items
    finally:
        ledger.close()


def test_two_concurrent_billing_processes_never_invoice_or_charge_twice(
    pg_database_url: str, pg_schema_url: str,
) -> None:
    twice = pg_schema_url
    once = pg_schema_url.replace("?schema=", "?schema=once_")
    _book(twice, 60)
    _book(once, 60)

    results = _run_billing_processes(twice, 2)
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    assert _run_billing_processes(once, 1)[0].returncode == 0

    events = _log(twice)
    invoice_ids = [e["data"]["invoice_id"] for e in events if e["type"] == "InvoiceIssued"]
    charge_ids = [e["data"]["charge_id"] for e in events
                  if e["type"] in ("ChargeSucceeded", "ChargeFailed")]
    assert len(invoice_ids) == len(set(invoice_ids))
    assert len(charge_ids) == len(set(charge_ids))
    assert Counter(e["type"] for e in events) == Counter(e["type"] for e in _log(once))
    assert len(invoice_ids) > 60  # trial conversions and renewals did happen
