"""Personal data leaving the ledger: on Kafka only in the compacted ``subscribers`` topic,
with a tombstone once a subscriber is forgotten; webhooks get null fields after forgetting.
On both stores, with a cipher key, on a real broker and a real HTTP receiver."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from support.broker import read_topic
from support.ledger import FakeClock
from support.personal import BOOK_CLOCK, CIPHER_KEY, Person, personal_book
from support.receiver import Receiver, eventually

from subledger.bootstrap import build_api, build_ledger, build_relay
from subledger.config import Settings
from subledger.projections.store import ViewStore
from subledger.projections.webhook_dispatcher import UrllibSender, WebhookDispatcher


@dataclass
class Keyed:
    settings: Settings
    ledger: Any
    client: TestClient


@pytest.fixture
def keyed(relay_settings: Settings) -> Iterator[Keyed]:
    settings = replace(relay_settings, cipher_key=CIPHER_KEY)
    ledger = build_ledger(settings, clock=FakeClock(BOOK_CLOCK))
    try:
        yield Keyed(settings, ledger, TestClient(build_api(settings, ledger=ledger)))
    finally:
        ledger.close()


def _relay_once(keyed: Keyed) -> None:
    relay = build_relay(keyed.settings, keyed.ledger)
    try:
        relay.run_once()
    finally:
        relay.close()
        relay.store.close()


def _by_key(records: list[Any], person: Person) -> list[Any]:
    return [r for r in records if r.key.decode() == person.subscriber_id]


def _carries(records: list[Any], person: Person) -> list[str]:
    return [d for d in person.data if any(r.value and d.encode() in r.value for r in records)]


def test_personal_data_travels_only_on_the_subscribers_topic_and_forgetting_tombstones_it(
    keyed: Keyed, broker: Any,
) -> None:
    ada, bob = personal_book(keyed.client)
    _relay_once(keyed)
    assert keyed.client.post(f"/subscribers/{ada.subscriber_id}/forget").status_code == 200
    _relay_once(keyed)
    head = keyed.ledger.event_log.max_position()

    events = read_topic(broker.bootstrap, "ledger.events", at_least=head)
    subscribers = read_topic(broker.bootstrap, "ledger.subscribers", at_least=1)

    for topic in ("ledger.events", "ledger.subscriptions", "ledger.mrr-movements"):
        records = events if topic == "ledger.events" else read_topic(broker.bootstrap, topic, at_least=0, timeout=5)
        assert _carries(records, ada) == [] and _carries(records, bob) == [], topic
    ada_details, bob_details = _by_key(subscribers, ada), _by_key(subscribers, bob)
    assert ada_details[-1].value is None  # the tombstone: the latest message of the key
    assert all(r.value is not None for r in ada_details[:-1]) and len(ada_details) > 1
    assert bob_details[-1].value is not None and bob.email.encode() in bob_details[-1].value


def test_a_relay_that_catches_up_after_forgetting_never_sends_their_details(
    keyed: Keyed, broker: Any,
) -> None:
    ada, bob = personal_book(keyed.client)
    keyed.client.post(f"/subscribers/{ada.subscriber_id}/forget")
    _relay_once(keyed)

    subscribers = read_topic(broker.bootstrap, "ledger.subscribers", at_least=1)

    assert _carries(subscribers, ada) == []
    assert {r.value for r in _by_key(subscribers, ada)} == {None}
    assert _carries(subscribers, bob) != []


def test_the_relay_creates_the_subscribers_topic_compacted(keyed: Keyed, broker: Any) -> None:
    _relay_once(keyed)
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        described = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, t) for t in ("ledger.subscribers", "ledger.events")],
            config_filter="all")
    finally:
        admin.close()

    topics = next(iter(described.values()))

    def policy(topic: str) -> Any:
        value = topics[topic].get("cleanup.policy")
        return value.get("value") if isinstance(value, dict) else value

    assert policy("ledger.subscribers") == "compact"
    assert policy("ledger.events") != "compact"


def test_webhooks_get_a_forgotten_subscribers_fields_null(keyed: Keyed, receiver: Receiver) -> None:
    ada, bob = personal_book(keyed.client)
    keyed.client.post(f"/subscribers/{ada.subscriber_id}/forget")
    dispatcher = WebhookDispatcher(keyed.ledger.event_log, ViewStore(keyed.settings), UrllibSender(),
                                   retry_base=0.05, retry_cap=0.2, timeout=5.0)
    try:
        dispatcher.endpoints.register(receiver.url, ["SubscriberRegistered", "RefundIssued",
                                                     "SubscriptionCanceled"], "crm", 0,
                                      personal_data=True)
        def six() -> list[dict[str, Any]]:
            dispatcher.run_once()
            return receiver.delivered() if len(receiver.delivered()) >= 6 else []
        delivered = eventually(six, what="6 deliveries")
    finally:
        dispatcher.close()
        dispatcher.store.close()

    bodies = b"".join(r.body for r in receiver.requests)
    assert [d for d in ada.data if d.encode() in bodies] == []
    assert bob.data[2].encode() in bodies  # Bob's name: he was not forgotten
    ada_registered = [e for e in delivered if e["type"] == "SubscriberRegistered"
                      and e["subscriber_id"] == ada.subscriber_id]
    assert ada_registered[0]["data"] == {"email": None, "name": None, "external_ref": None}
