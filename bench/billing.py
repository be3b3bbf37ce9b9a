"""Billing-run throughput on PostgreSQL: subscriptions caught up per second by the billing
clock (each renewal: load, decide renewal + invoice, charge the sandbox gateway, save in
one transaction), next to raw psycopg single-row INSERT+commit in the same run."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from subledger.bootstrap import build_ledger
from subledger.commands.billing import run_billing
from subledger.config import Settings

from .commands import raw_insert_commit
from .figures import record
from .pg import scratch_database


def run(n: int = 2000) -> None:
    print(f"billing benchmark, PostgreSQL, {n} monthly subscriptions, one renewal each")
    with scratch_database() as url:
        baseline = raw_insert_commit(url, 2000)
        ledger = build_ledger(Settings.from_env({"SUBLEDGER_DATABASE_URL": url + "?schema=public"}))
        try:
            now = datetime.now(UTC)
            start = now - timedelta(days=40)
            ledger.catalog.create_plan(plan_id="bench-m", name="Bench", tier="basic", currency="USD",
                               amount=1900, interval="month", effective_at=start)
            for _ in range(n):
                subscriber = ledger.subscribers.register(email="b@example.com", name="B",
                                                        effective_at=start)
                ledger.subscribers.set_payment_method(subscriber.id, gateway="sandbox", token="tok_visa",
                                          effective_at=start)
                ledger.subscriptions.start(subscriber.id, plan_id="bench-m", effective_at=start)
            began = time.perf_counter()
            summary = run_billing(ledger, now)
            seconds = time.perf_counter() - began
        finally:
            ledger.close()
    rate = summary.subscriptions / seconds
    events = sum(summary.events.values())
    print(f"  raw psycopg INSERT+commit (baseline)   {baseline:8.0f}/s   1.00x baseline")
    print(f"  billing run: subscriptions renewed     {rate:8.0f}/s   {rate / baseline:4.2f}x baseline"
          f"   ({summary.events['SubscriptionRenewed']} renewals, {events} events,"
          f" {events / seconds:,.0f} events/s, {seconds:.1f} s)")
    record("billing", "billing run: subscriptions renewed", rate, "/s", "raw psycopg INSERT+commit", baseline)
