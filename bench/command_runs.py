"""The commands the commands benchmark measures: each a book made beforehand (by a ledger
closed before the measurement) and the commands run on it, counted by :mod:`.census`.

- register subscriber: a new subscriber, nothing else.
- change subscription now: a monthly subscription three days into its period, paid by the
  sandbox gateway, changed to quantity 2 at once: the change and its proration invoice
  saved, the charge taken, its outcome saved (the two-phase money protocol).
- billing run renewal: monthly subscriptions 40 days old, each renewed by one billing run
  (renewal, invoice, charge through the sandbox gateway).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from subledger.bootstrap import build_ledger
from subledger.commands.billing import run_billing
from subledger.commands.gateways.sandbox import TOKEN_SUCCEEDS
from subledger.commands.ledger import Ledger
from subledger.config import Settings

from .census import SNAPSHOT_COMMITS, Census, Counting, Snapshot, census, snapshot


def open_ledger(url: str, schema: str = "public") -> Ledger:
    return build_ledger(Settings.from_env({"SUBLEDGER_DATABASE_URL": f"{url}?schema={schema}"}))


def paying_book(ledger: Ledger, n: int, days_ago: int) -> list[Any]:
    """``n`` monthly subscriptions started ``days_ago`` days ago, paid by the sandbox."""
    start = datetime.now(UTC) - timedelta(days=days_ago)
    ledger.catalog.create_plan(plan_id="bench-m", name="Bench", tier="basic", currency="USD",
                               amount=1000, interval="month", effective_at=start)
    subs = []
    for _ in range(n):
        subscriber = ledger.subscribers.register(email="b@example.com", name="Bench",
                                                 effective_at=start)
        ledger.subscribers.set_payment_method(subscriber.id, gateway="sandbox",
                                              token=TOKEN_SUCCEEDS, effective_at=start)
        subs.append(ledger.subscriptions.start(subscriber.id, plan_id="bench-m",
                                               effective_at=start).id)
    return subs


@dataclass(frozen=True)
class Kind:
    name: str
    book: Callable[[Ledger, int], Any]
    """Makes what the commands act on (not measured)."""
    run: Callable[[Ledger, Any, int], None]
    """The ``n`` commands measured."""


def _register(ledger: Ledger, _: Any, n: int) -> None:
    for _ in range(n):
        ledger.subscribers.register(email="r@example.com", name="R")


def _change(ledger: Ledger, subs: list[Any], n: int) -> None:
    for sid in subs[:n]:
        ledger.subscriptions.change(sid, quantity=2, when="now")


def _renew(ledger: Ledger, _: Any, n: int) -> None:
    summary = run_billing(ledger, datetime.now(UTC))
    if summary.events["SubscriptionRenewed"] != n:
        raise RuntimeError(f"expected {n} renewals, the billing run made {summary.events}")


KINDS = (
    Kind("register subscriber", lambda ledger, n: None, _register),
    Kind("change subscription now", lambda ledger, n: paying_book(ledger, n, 3), _change),
    Kind("billing run: renewal", lambda ledger, n: paying_book(ledger, n, 40), _renew),
)


@dataclass(frozen=True)
class Measured:
    kind: str
    rate: float
    census: Census
    last_event: int
    """The events table's highest id before the measured commands (theirs come after)."""


def measure(url: str, schema: str, kind: Kind, n: int) -> Measured:
    """Commands per second and their census, on a book made in ``schema`` beforehand."""
    ledger = open_ledger(url, schema)
    try:
        book = kind.book(ledger, n)
    finally:
        ledger.close()
    before = snapshot(url, schema)
    overhead = _opening(url, schema, before)
    start = snapshot(url, schema)
    ledger = open_ledger(url, schema)
    try:
        with Counting(ledger) as counted:
            began = time.perf_counter()
            kind.run(ledger, book, n)
            seconds = time.perf_counter() - began
    finally:
        ledger.close()
    end = snapshot(url, schema)
    return Measured(kind.name, n / seconds, census(start, end, counted, n, overhead),
                    start.last_event)


def _opening(url: str, schema: str, before: Snapshot) -> int:
    """Transactions of opening and closing a ledger that runs nothing."""
    open_ledger(url, schema).close()
    after = snapshot(url, schema)
    return after.commits - before.commits - SNAPSHOT_COMMITS
