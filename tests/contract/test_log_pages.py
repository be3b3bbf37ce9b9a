"""A page of the log (``store.scan.read_page``, what ``EventLog.read``, a subscriber's
history and a projection runner's catch-up ask for) holds exactly the stored events the
library's own ``select_notifications`` returns for the same selection, on SQLite and on
PostgreSQL; and a scan reads the same rows in batches."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

import pytest

from subledger.bootstrap import build_ledger
from subledger.commands.demo import generate
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.store.log import topics_for
from subledger.store.scan import ScanRange, read_page, scan


@pytest.fixture
def book(settings: Settings) -> Iterator[Ledger]:
    ledger = build_ledger(settings)
    try:
        generate(ledger, subscribers=6, months=2, seed=11)
        yield ledger
    finally:
        ledger.close()


def _rows(stored: Sequence[Any]) -> list[tuple[int, UUID, int, str, bytes]]:
    return [(int(n.id), UUID(str(n.originator_id)), int(n.originator_version), n.topic, bytes(n.state))
            for n in stored]


def _library(book: Ledger, after: int, limit: int, topics: Sequence[str] = ()) -> list[Any]:
    return list(book.recorder.select_notifications(start=after, limit=limit, topics=list(topics),
                                                   inclusive_of_start=False))


@pytest.mark.parametrize(("after", "limit"), [(0, 1), (0, 1000), (5, 7), (40, 3)])
def test_a_page_holds_the_events_after_a_position_the_library_reads(
        book: Ledger, after: int, limit: int) -> None:
    page = read_page(book.recorder, ScanRange(after, None), limit)

    assert _rows(page) == _rows(_library(book, after, limit))
    assert len(page) == min(limit, book.event_log.max_position() - after)


def test_a_page_of_some_types_holds_only_their_events(book: Ledger) -> None:
    topics = topics_for(["SubscriptionStarted", "InvoiceIssued"])

    page = read_page(book.recorder, ScanRange(3, None, topics), 25)

    assert page and {row.topic for row in page} <= set(topics)
    assert _rows(page) == _rows(_library(book, 3, 25, topics))


def test_a_page_of_one_subscriber_holds_their_streams_events_only(book: Ledger) -> None:
    [(_, subscriber)] = book.event_log.originators("SubscriberRegistered", 0, 1)
    streams = {subscriber, *book.recorder.select_streams(subscriber)}

    page = read_page(book.recorder, ScanRange(0, None, subscriber_id=subscriber), 1000)

    everything = _library(book, 0, 100_000)
    assert len(streams) > 1
    assert _rows(page) == _rows([n for n in everything if UUID(str(n.originator_id)) in streams])


def test_a_scan_reads_the_range_in_batches_and_stops_at_its_end(book: Ledger) -> None:
    batches = list(scan(book.recorder, ScanRange(2, 30), 8))

    assert [len(batch) for batch in batches] == [8, 8, 8, 4]
    assert _rows([row for batch in batches for row in batch]) == _rows(_library(book, 2, 28))
    assert list(scan(book.recorder, ScanRange(30, 30), 8)) == []
