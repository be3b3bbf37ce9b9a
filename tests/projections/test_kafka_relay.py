"""The relay publishes the log and the projections' outputs to Kafka (a real Tansu broker):
every position, keyed and ordered as docs/streaming.md says, with CloudEvents headers."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from kafka import KafkaConsumer
from support.broker import read_topic, values
from support.invoices import BOOK_CLOCK, invoice_book
from support.ledger import FakeClock, log_envelopes

from subledger.bootstrap import build_ledger, build_relay
from subledger.commands.demo import generate
from subledger.config import Settings
from subledger.contract.messages import without_personal_data
from subledger.projections.kafka_publisher import topic_specs
from subledger.projections.relay import LOG_STREAM, MOVEMENTS_STREAM


def _book(ledger: Any) -> None:
    generate(ledger, subscribers=6, months=4, seed=11)


def test_every_event_reaches_the_events_topic_as_its_envelope_without_personal_data(ledger, relay, broker) -> None:  # type: ignore[no-untyped-def]
    _book(ledger)
    relay.run_once()
    envelopes = log_envelopes(ledger)

    records = read_topic(broker.bootstrap, "ledger.events", at_least=len(envelopes))

    streamed = sorted(values(records), key=lambda v: v["position"])
    assert streamed == [without_personal_data(e) for e in envelopes]
    registered = [v for v in streamed if v["type"] == "SubscriberRegistered"]
    assert registered and all(v["data"]["email"] is None and v["data"]["name"] is None
                              for v in registered)
    for record in records:
        value = json.loads(record.value)
        assert record.key.decode() == (value["subscriber_id"] or value["aggregate_id"])


def test_messages_of_one_key_arrive_in_ledger_order(ledger, relay, broker) -> None:  # type: ignore[no-untyped-def]
    _book(ledger)
    relay.run_once()

    by_key: dict[bytes, list[int]] = defaultdict(list)
    partitions_of_key: dict[bytes, set[int]] = defaultdict(set)
    for record in read_topic(broker.bootstrap, "ledger.events", at_least=1):
        by_key[record.key].append(json.loads(record.value)["position"])
        partitions_of_key[record.key].add(record.partition)

    assert all(len(p) == 1 for p in partitions_of_key.values())
    assert all(positions == sorted(positions) for positions in by_key.values())


def test_each_message_carries_the_cloudevents_binding_headers(ledger, relay, broker) -> None:  # type: ignore[no-untyped-def]
    _book(ledger)
    relay.run_once()

    record = read_topic(broker.bootstrap, "ledger.events", at_least=1)[0]
    headers = {k: v.decode() for k, v in record.headers}
    value = json.loads(record.value)

    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_id"] == value["event_id"]
    assert headers["ce_source"] == "/ledger/events"
    assert headers["ce_type"] == f"subledger.{value['type']}.v{value['schema_version']}"
    assert headers["ce_time"] == value["recorded_at"]
    assert headers["content-type"] == "application/json"


def test_the_subscriptions_topic_holds_each_subscriptions_latest_state(ledger, relay, broker, client) -> None:  # type: ignore[no-untyped-def]
    _book(ledger)
    relay.run_once()
    envelopes = log_envelopes(ledger)
    subscriptions = {e["aggregate_id"] for e in envelopes if e["type"] == "SubscriptionStarted"}
    their_events = [e for e in envelopes if e["aggregate_id"] in subscriptions]

    records = read_topic(broker.bootstrap, "ledger.subscriptions", at_least=len(their_events))
    latest: dict[str, dict[str, Any]] = {}
    for record in records:
        value = json.loads(record.value)
        assert record.key.decode() == value["subscription_id"]
        latest[value["subscription_id"]] = value

    assert sorted(v["position"] for v in values(records)) == [e["position"] for e in their_events]
    assert set(latest) == subscriptions
    for subscription_id, value in latest.items():
        now = client.get(f"/subscriptions/{subscription_id}").json()
        assert value == {"position": value["position"], **now}
        assert value["position"] == max(e["position"] for e in their_events
                                        if e["aggregate_id"] == subscription_id)


def test_the_relay_creates_its_topics_with_the_configured_partitions(ledger, broker, relay_settings) -> None:  # type: ignore[no-untyped-def]
    relay = build_relay(replace(relay_settings, kafka_partitions=5), ledger)
    try:
        relay.run_once()
    finally:
        relay.close()
        relay.store.close()
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap)
    try:
        described = {t: len(consumer.partitions_for_topic(t) or ())
                     for t in ("ledger.events", "ledger.subscriptions", "ledger.mrr-movements",
                               "ledger.subscribers")}
    finally:
        consumer.close()

    assert described == {"ledger.events": 5, "ledger.subscriptions": 5, "ledger.mrr-movements": 5,
                         "ledger.subscribers": 5}
    specs = {s.name: s.configs() for s in topic_specs("ledger", 5, 1)}
    assert specs["ledger.subscriptions"] == specs["ledger.subscribers"] == {"cleanup.policy": "compact"}
    assert specs["ledger.events"] == specs["ledger.mrr-movements"] == {"retention.ms": "-1"}


def test_movements_are_streamed_once_the_mrr_model_has_them(ledger, relay, broker, projector, client) -> None:  # type: ignore[no-untyped-def]
    _book(ledger)
    relay.run_once()
    assert relay.store.checkpoint(MOVEMENTS_STREAM)[0] == 0  # the projector has not run

    projector.run_once()
    relay.run_once()
    head = ledger.event_log.max_position()
    current = client.get("/reports/mrr/movements", params={"from": "2000-01-01", "to": "2199-01-01",
                                                           "limit": 1000}).json()["items"]
    records = read_topic(broker.bootstrap, "ledger.mrr-movements", at_least=len(current))

    standing: dict[tuple[Any, ...], int] = defaultdict(int)
    for value in values(records):
        key = (value["subscriber_id"], value["currency"], value["effective_at"], value["kind"],
               value["amount"], value["mrr_before"], value["mrr_after"], tuple(value["event_ids"]))
        standing[key] += -1 if value["retracted"] else 1
    assert {k for k, n in standing.items() if n} == {
        (m["subscriber_id"], m["currency"], m["effective_at"], m["kind"], m["amount"],
         m["mrr_before"], m["mrr_after"], tuple(m["event_ids"])) for m in current}
    assert all(n in (0, 1) for n in standing.values())
    assert relay.store.checkpoint(LOG_STREAM)[0] == head
    assert relay.lag() == {LOG_STREAM: 0, MOVEMENTS_STREAM: 0}


def test_a_second_relay_on_postgresql_stands_by_until_the_first_is_gone(pg_schema_url, broker) -> None:  # type: ignore[no-untyped-def]
    settings = Settings.from_env({"SUBLEDGER_DATABASE_URL": pg_schema_url,
                                  "SUBLEDGER_KAFKA_BOOTSTRAP": broker.bootstrap})
    ledger = build_ledger(settings)
    first, second = build_relay(settings, ledger), build_relay(settings, ledger)
    try:
        _book(ledger)
        assert first.run_once() > 0
        generate(ledger, subscribers=1, months=1, seed=99)
        assert second.run_once() == 0  # standing by: the first holds the lock
        first.close()
        first.store.close()  # its session ends, and the lock with it
        # The server ends the session after the client has gone, so the standby may find
        # the lock still held on its next poll or two; it takes over on the one after.
        deadline = time.monotonic() + 10
        sent = second.run_once()
        while sent == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
            sent = second.run_once()
        assert sent > 0
        assert second.lag()[LOG_STREAM] == 0
    finally:
        second.close()
        second.store.close()
        ledger.close()


def test_a_relay_whose_database_session_died_takes_the_lock_again_before_sending(pg_schema_url, broker) -> None:  # type: ignore[no-untyped-def]
    settings = Settings.from_env({"SUBLEDGER_DATABASE_URL": pg_schema_url,
                                  "SUBLEDGER_KAFKA_BOOTSTRAP": broker.bootstrap})
    ledger = build_ledger(settings)
    first, second = build_relay(settings, ledger), build_relay(settings, ledger)
    try:
        _book(ledger)
        assert first.run_once() > 0
        with psycopg.connect(settings.database.conninfo(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first.store._conn.info.backend_pid,))
        generate(ledger, subscribers=1, months=1, seed=98)
        assert second.run_once() > 0  # the lock went with the dead session
        generate(ledger, subscribers=1, months=1, seed=97)
        with pytest.raises(psycopg.OperationalError):
            first.run_once()  # the transaction that met the dead session fails...
        assert first.run_once() == 0  # ...the next reconnects, and finds the lock taken
        assert second.run_once() > 0
    finally:
        for relay in (first, second):
            relay.close()
            relay.store.close()
        ledger.close()


def test_every_correction_reaches_the_events_topic(ledger_on, relay_settings, broker, settings) -> None:  # type: ignore[no-untyped-def]
    ledger = ledger_on(clock=FakeClock(BOOK_CLOCK))
    book = invoice_book(ledger, settings)
    relay = build_relay(relay_settings, ledger)
    try:
        relay.run_once()
    finally:
        relay.close()
        relay.store.close()
    envelopes = log_envelopes(ledger)

    records = read_topic(broker.bootstrap, "ledger.events", at_least=len(envelopes))

    streamed = sorted(values(records), key=lambda v: v["position"])
    assert streamed == [without_personal_data(e) for e in envelopes]
    kinds = {(v["type"], v["data"].get("invoice_id")) for v in streamed}
    assert ("InvoiceVoided", book.void) in kinds
    assert ("InvoiceMarkedUncollectible", book.uncollectible) in kinds
    notes = [v["data"]["credit_note_id"] for v in streamed if v["type"] == "CreditNoteIssued"]
    assert notes == list(book.credit_notes)
