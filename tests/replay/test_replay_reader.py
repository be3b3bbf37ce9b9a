"""Reading the log as an analyst: every event in global order as the domain's own classes,
selections by position, time, type and subscriber, as known at K, in batches, on SQLite and
PostgreSQL; and a replay never changes the ledger."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

import pytest
from support.books import BOOK_CLOCK, small_book
from support.factories import utc
from support.ledger import (
    REGISTERED_AT,
    FakeClock,
    add_plan,
    add_subscriber,
    log_envelopes,
    store_v1_details_change,
)

from subledger.bootstrap import ledger_env
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.domain.errors import InvalidInput, InvalidPosition, UnknownEventTypeName
from subledger.domain.subscriber import Subscriber
from subledger.domain.subscription import Subscription
from subledger.replay.reader import Replay
from subledger.replay.selection import Selection, TimeRange


def test_a_replay_reads_every_event_in_global_order_as_the_domains_own_classes(book_ledger: Ledger) -> None:
    replay = Replay(book_ledger.event_log, batch=7)

    events = list(replay)

    assert [e.envelope() for e in events] == log_envelopes(book_ledger)
    assert isinstance(events[5].event, Subscription.SubscriptionStarted)
    assert all(isinstance(e.event, Subscriber.SubscriberRegistered) for e in events if e.type == "SubscriberRegistered")
    assert replay.position == book_ledger.event_log.max_position()
    assert [len(batch) for batch in replay.batches()][:-1] == [7] * (len(events) // 7)
    assert [e.position for e in replay] == [e.position for e in events]  # each pass reads again


def test_selections_keep_only_the_events_asked_for(book_ledger: Ledger) -> None:
    every = log_envelopes(book_ledger)
    ada = next(e["aggregate_id"] for e in every if e["type"] == "SubscriberRegistered")
    cases = [
        (Selection(after=10, until=20), [e for e in every if 10 < e["position"] <= 20]),
        (Selection(types=("InvoiceIssued", "ChargeSucceeded")),
         [e for e in every if e["type"] in ("InvoiceIssued", "ChargeSucceeded")]),
        (Selection(subscriber_id=UUID(ada)), [e for e in every if e["subscriber_id"] == ada]),
        (Selection(effective=TimeRange(utc(2026, 2, 1), utc(2026, 3, 1))),
         [e for e in every if utc(2026, 2, 1) <= datetime.fromisoformat(e["effective_at"]) <= utc(2026, 3, 1)]),
        (Selection(recorded=TimeRange(end=BOOK_CLOCK + timedelta(seconds=4))),
         [e for e in every if datetime.fromisoformat(e["recorded_at"]) <= BOOK_CLOCK + timedelta(seconds=4)]),
    ]
    for selection, expected in cases:
        assert [e.envelope() for e in Replay(book_ledger.event_log, selection, batch=4)] == expected, selection


def test_as_known_at_k_a_replay_ignores_the_events_recorded_after_k(book_ledger: Ledger) -> None:
    every = log_envelopes(book_ledger)
    known_at = BOOK_CLOCK + timedelta(seconds=5, milliseconds=500)

    known = [e.envelope() for e in Replay(book_ledger.event_log, Selection(as_known_at=known_at))]
    charges = Replay(book_ledger.event_log, Selection(as_known_at=known_at, types=("ChargeSucceeded",)))

    assert known == [e for e in every if datetime.fromisoformat(e["recorded_at"]) <= known_at]
    assert {e["type"] for e in known} >= {"SubscriptionStarted", "ChargeSucceeded"}
    assert [e.envelope() for e in charges] == [e for e in known if e["type"] == "ChargeSucceeded"]
    assert charges.position == known[-1]["position"]


def test_as_known_at_k_the_prefix_ends_at_the_first_event_recorded_after_k(ledger_on: Callable[..., Ledger]) -> None:
    # Two writers: one read its clock at 2 s and committed first, the other read 1 s and
    # committed second. At 1.5 s nobody could have read the second: it follows the first.
    clock = FakeClock(BOOK_CLOCK)
    ledger = ledger_on(clock=clock)
    add_plan(ledger, "basic", at=utc(2026, 1, 1))
    clock.set(BOOK_CLOCK + timedelta(seconds=2))
    add_subscriber(ledger, "late@example.com", at=utc(2026, 1, 2))
    clock.set(BOOK_CLOCK + timedelta(seconds=1))
    add_subscriber(ledger, "early@example.com", at=utc(2026, 1, 3))

    known = list(Replay(ledger.event_log, Selection(as_known_at=BOOK_CLOCK + timedelta(seconds=1.5))))
    registered = list(Replay(ledger.event_log, Selection(as_known_at=BOOK_CLOCK + timedelta(seconds=1.5),
                                                         types=("SubscriberRegistered",))))

    assert [e.type for e in known] == ["PlanCreated"]
    assert registered == []


def test_a_version_1_event_replays_as_the_current_version(ledger_on: Callable[..., Ledger]) -> None:
    ledger = ledger_on(clock=lambda: REGISTERED_AT)
    store_v1_details_change(ledger)

    (changed,) = Replay(ledger.event_log, Selection(types=("SubscriberDetailsChanged",)))

    assert changed.event.schema_version == 2
    assert changed.event.changes == {"external_ref": None, "name": "Ada L"}


def test_a_selection_refuses_what_names_nothing() -> None:
    with pytest.raises(UnknownEventTypeName):
        Selection(types=("NoSuchEvent",))
    with pytest.raises(InvalidPosition):
        Selection(after=5, until=4)
    with pytest.raises(InvalidPosition):
        Selection(after=-1)
    with pytest.raises(InvalidInput):
        TimeRange(utc(2026, 2, 1), utc(2026, 1, 1))


def test_a_consumer_slower_than_the_pools_idle_timeout_still_reads_the_whole_log(pg_schema_url: str) -> None:
    # The pool ends a session idle in a transaction for POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT
    # (5 s by default); a fold may spend longer than that over a batch.
    settings = Settings.from_env({"SUBLEDGER_DATABASE_URL": pg_schema_url})
    ledger = Ledger({**ledger_env(settings), "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "1"})
    try:
        small_book(ledger)
        read = 0
        for batch in Replay(ledger.event_log, batch=25).batches():
            read += len(batch)
            time.sleep(1.3)
        assert read == ledger.event_log.max_position()
    finally:
        ledger.close()
