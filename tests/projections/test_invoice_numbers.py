"""Document numbers under concurrent writers, on PostgreSQL: eight threads sign subscribers
up and credit their invoices at once, straddling a new year, while a projector follows the
log; every series is numbered 1..N in log order, with no gap and no duplicate, and a rebuild
gives every document the same number."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from support.concurrency import run_together
from support.factories import utc
from support.invoices import credit_note
from support.ledger import CARD, add_plan, add_subscriber, log_envelopes

from subledger.bootstrap import build_ledger, build_projector
from subledger.config import Settings
from subledger.domain.time import parse_instant
from subledger.replay.verify import scratch_views, verify

WRITERS = 8
SIGNUPS = 4
"""Subscriptions each writer starts, each invoiced at once and then credited."""
BEFORE_NEW_YEAR = utc(2026, 12, 31, 23, 59, 59)
AFTER_NEW_YEAR = utc(2027, 1, 1, 0, 0, 1)


class ThreadClock:
    """A server clock per thread: each writer records its events in its own year."""

    def __init__(self, default: datetime) -> None:
        self.default = default
        self.local = threading.local()

    def __call__(self) -> datetime:
        return getattr(self.local, "now", self.default)


@pytest.fixture
def pg_settings(pg_schema_url: str) -> Settings:
    return Settings.from_env({"SUBLEDGER_DATABASE_URL": pg_schema_url})


@pytest.fixture
def ledger_and_projector(pg_settings: Settings) -> Iterator[tuple[Any, Any, ThreadClock]]:
    clock = ThreadClock(BEFORE_NEW_YEAR)
    ledger = build_ledger(pg_settings, clock=clock)
    projector = build_projector(pg_settings, ledger)
    try:
        yield ledger, projector, clock
    finally:
        projector.close()
        projector.store.close()
        ledger.close()


def _numbers(projector: Any, table: str, key: str) -> dict[str, tuple[str, int, int]]:
    with projector.store.transaction() as tx:
        rows = tx.execute(f"SELECT {key}, series, sequence, position, number FROM {table}").fetchall()
    for _, series, sequence, _, number in rows:
        assert number == f"{series}-{sequence:06d}"
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def _expected(ledger: Any, event_type: str, key: str, prefix: str) -> dict[str, tuple[str, int, int]]:
    """The numbers the rules give, read from the log itself: the rank of each document
    among the earlier ones of its series (prefix and year of its recorded_at)."""
    ranks: dict[str, int] = defaultdict(int)
    expected = {}
    for envelope in log_envelopes(ledger, types=(event_type,)):
        series = f"{prefix}-{parse_instant(envelope['recorded_at']).year}"
        ranks[series] += 1
        expected[envelope["data"][key]] = (series, ranks[series], envelope["position"])
    return expected


def test_concurrent_writers_get_gapless_numbers_in_log_order_that_a_rebuild_repeats(
    pg_settings: Settings, ledger_and_projector: tuple[Any, Any, ThreadClock],
) -> None:
    ledger, projector, clock = ledger_and_projector
    add_plan(ledger)
    people = [[add_subscriber(ledger, f"w{w}s{n}@example.com", token=CARD).id for n in range(SIGNUPS)]
              for w in range(WRITERS)]
    stop = threading.Event()

    def follow() -> None:
        while not stop.is_set():
            projector.run_once()

    follower = threading.Thread(target=follow)
    follower.start()

    def write(w: int) -> None:
        clock.local.now = BEFORE_NEW_YEAR if w % 2 else AFTER_NEW_YEAR
        for n, subscriber_id in enumerate(people[w]):
            sub = ledger.subscriptions.start(subscriber_id, plan_id="basic", effective_at=utc(2026, 12, 1))
            (invoice_id,) = sub.invoices
            credit_note(ledger, sub.id, invoice_id, [(0, 10 + n)], "credit_balance", utc(2026, 12, 2))

    try:
        run_together(WRITERS, write)
    finally:
        stop.set()
        follower.join(timeout=120)
    projector.run_once()

    invoices = _numbers(projector, "view_invoices", "invoice_id")
    notes = _numbers(projector, "view_credit_notes", "credit_note_id")
    assert len(invoices) == len(notes) == WRITERS * SIGNUPS
    assert invoices == _expected(ledger, "InvoiceIssued", "invoice_id", "SL")
    assert notes == _expected(ledger, "CreditNoteIssued", "credit_note_id", "CN")
    for documents in (invoices, notes):
        by_series: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for series, sequence, position in documents.values():
            by_series[series].append((position, sequence))
        assert set(by_series) in ({"SL-2026", "SL-2027"}, {"CN-2026", "CN-2027"})
        for placed in by_series.values():
            assert [sequence for _, sequence in sorted(placed)] == list(range(1, len(placed) + 1))

    projector.rebuild_model("invoices")
    assert _numbers(projector, "view_invoices", "invoice_id") == invoices
    assert _numbers(projector, "view_credit_notes", "credit_note_id") == notes
    with scratch_views(pg_settings) as scratch:
        assert verify(projector, "invoices", scratch).identical
