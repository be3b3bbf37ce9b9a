"""Projector members of a Kafka consumer group (real Tansu, real PostgreSQL) build the
partitioned read models exactly as the log-following projector does, with 1, 2 or 4 members,
and a member killed mid-way is resumed from the offsets stored beside its rows."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from kafka import TopicPartition
from psycopg import sql
from support.invoices import BOOK_CLOCK, invoice_book
from support.ledger import FakeClock, log_envelopes

from subledger.bootstrap import build_group_member, build_ledger, build_projector, build_relay
from subledger.commands.demo import generate
from subledger.config import Settings
from subledger.projections.follow import follow
from subledger.projections.group_member import PARTITIONED, GroupMember, _fresh

PREFIX = "ledger"
TSN = {"session_timeout_ms": 3000}  # the consumer-group settings that work on Tansu


@pytest.fixture
def views_url(pg_database_url: str, _pg_database_conn: psycopg.Connection) -> Iterator[Callable[[], str]]:
    """Makes empty schemas for the members' views, dropped afterwards."""
    made: list[str] = []

    def make() -> str:
        made.append(f"m_{secrets.token_hex(6)}")
        _pg_database_conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(made[-1])))
        return f"{pg_database_url}?schema={made[-1]}"

    yield make
    for schema in made:
        _pg_database_conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def history(pg_schema_url: str, broker: Any) -> Iterator[tuple[Any, Settings, dict[str, list[tuple]]]]:
    """A ledger with backdated events, corrections and catalog changes, relayed to the
    broker over 4 partitions; with the rows the log-following projector builds from it."""
    settings = Settings.from_env({"SUBLEDGER_DATABASE_URL": pg_schema_url,
                                  "SUBLEDGER_KAFKA_BOOTSTRAP": broker.bootstrap,
                                  "SUBLEDGER_TOPIC_PREFIX": PREFIX,
                                  "SUBLEDGER_KAFKA_PARTITIONS": "4"})
    ledger = build_ledger(settings, clock=FakeClock(BOOK_CLOCK))
    invoice_book(ledger, settings)
    generate(ledger, subscribers=12, months=5, seed=31)
    relay, projector = build_relay(settings, ledger), build_projector(settings, ledger)
    try:
        relay.run_once()
        projector.run_once()
        yield ledger, settings, rows_of(projector.store)
    finally:
        relay.close()
        relay.store.close()
        projector.close()
        projector.store.close()
        ledger.close()


def rows_of(store: Any) -> dict[str, list[tuple]]:
    with store.transaction() as tx:
        return {"view_subscriptions": tx.execute(
            "SELECT * FROM view_subscriptions ORDER BY subscription_id").fetchall()}


def member_settings(settings: Settings, url: str, group: str) -> Settings:
    return Settings.from_env({"SUBLEDGER_DATABASE_URL": url,
                              "SUBLEDGER_KAFKA_BOOTSTRAP": settings.kafka_bootstrap[0],  # type: ignore[index]
                              "SUBLEDGER_TOPIC_PREFIX": PREFIX,
                              "SUBLEDGER_PROJECTOR_GROUP": group})


def events_in(ledger: Any) -> int:
    """Messages on the events topic: one per event in the log (Tansu's reported end offsets
    lag behind its batches, so the log is what is counted)."""
    return len(log_envelopes(ledger))


def run_members(members: list[GroupMember], until: int) -> None:
    """Run every member in its own thread until the group stored offsets past ``until``
    messages in all."""
    stop = threading.Event()
    threads = [threading.Thread(target=follow, args=(m.follower(), stop)) for m in members]
    for thread in threads:
        thread.start()
    try:
        for _ in range(600):  # the group forms in seconds on Tansu; bounded, not timed
            if sum(o for o, _ in members[0].stored().values()) == until:
                return
            stop.wait(0.1)
        raise AssertionError(f"the group stored {members[0].stored()}, not {until}")
    finally:
        stop.set()
        for thread in threads:
            thread.join()


@pytest.mark.parametrize("count", [1, 2, 4])
def test_members_build_the_partitioned_models_row_for_row_as_the_log_projector(history, views_url, count) -> None:  # type: ignore[no-untyped-def]
    ledger, settings, expected = history
    mine = member_settings(settings, views_url(), f"g-{secrets.token_hex(4)}")
    members = [build_group_member(mine, ledger, **TSN) for _ in range(count)]
    try:
        run_members(members, events_in(ledger))
        assert expected["view_subscriptions"]
        assert rows_of(members[0].store) == expected
    finally:
        for member in members:
            member.close()
            member.store.close()


def test_a_member_killed_mid_way_resumes_from_its_stored_offsets(history, views_url) -> None:  # type: ignore[no-untyped-def]
    ledger, settings, expected = history
    mine = member_settings(settings, views_url(), f"g-{secrets.token_hex(4)}")
    until = events_in(ledger)
    first = build_group_member(mine, ledger, max_records=20, **TSN)
    try:
        while not first.stored():
            first.run_once()
    finally:
        first.close()  # gone without committing anything to Kafka
        first.store.close()
    second = build_group_member(mine, ledger, **TSN)
    try:
        halfway = second.stored()  # what the first committed with its rows, before dying
        assert 0 < sum(o for o, _ in halfway.values()) < until
        run_members([second], until)
        assert rows_of(second.store) == expected
    finally:
        second.close()
        second.store.close()


def test_only_models_partitioned_by_subscriber_can_be_built_by_a_member(history, views_url) -> None:  # type: ignore[no-untyped-def]
    ledger, settings, _ = history
    assert PARTITIONED == ("subscriptions",)
    from subledger.bootstrap import read_models
    from subledger.projections.store import ViewStore

    store = ViewStore(member_settings(settings, views_url(), "g-x"))
    try:
        with pytest.raises(ValueError, match="mrr"):
            GroupMember(store, read_models(ledger), group="g-x", prefix=PREFIX,
                        consumer=lambda on_assigned: None)
    finally:
        store.close()


def test_the_log_projector_leaves_the_partitioned_models_to_the_group_once_one_is_named(history, views_url) -> None:  # type: ignore[no-untyped-def]
    ledger, settings, _ = history
    projector = build_projector(member_settings(settings, views_url(), "g-y"), ledger)
    try:
        assert "subscriptions" not in [m.name for m in projector.models]
        assert "mrr" in [m.name for m in projector.models]
    finally:
        projector.close()
        projector.store.close()



def test_messages_a_relay_sends_again_after_a_crash_are_dropped_by_position() -> None:
    part = TopicPartition(f"{PREFIX}.events", 0)
    sent = [(0, 5), (1, 9), (2, 5), (3, 9), (4, 12)]  # offsets 2 and 3: a re-send of 5 and 9
    polled = {part: [ConsumerRecord(offset=o, value=json.dumps({"position": p}).encode())
                     for o, p in sent]}

    fresh, moved = _fresh(polled, {0: (1, 5)})  # offset 0 (position 5) applied before

    assert [e["position"] for e in fresh] == [9, 12]
    assert moved == {0: (5, 12)}


@dataclass(frozen=True)
class ConsumerRecord:
    """The two fields of kafka-python's record a member reads."""

    offset: int
    value: bytes
