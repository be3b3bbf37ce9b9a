"""The Kafka message contract: every message the relay produces validates against its
published JSON Schema, the subscription state's schema is the API's response model, and the
AsyncAPI document describes the five topics, as the docs name them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from uuid import UUID

import jsonschema
from support.broker import read_topic

from subledger.api.schemas import SubscriptionOut
from subledger.commands.demo import generate
from subledger.contract.asyncapi import asyncapi
from subledger.contract.bodies import subscription_body
from subledger.contract.envelope import EVENT_TYPES
from subledger.contract.schemas import schema, schema_names


def _validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema(name),
                                           format_checker=jsonschema.FormatChecker())


def test_every_message_the_relay_produces_validates_against_its_schema(ledger, projector, relay, broker) -> None:  # type: ignore[no-untyped-def]
    generate(ledger, subscribers=12, months=5, seed=23)
    projector.run_once()
    relay.run_once()
    head = ledger.event_log.max_position()

    events = read_topic(broker.bootstrap, "ledger.events", at_least=head)
    states = read_topic(broker.bootstrap, "ledger.subscriptions")
    movements = read_topic(broker.bootstrap, "ledger.mrr-movements")
    subscribers = read_topic(broker.bootstrap, "ledger.subscribers")

    for record in events:
        value = json.loads(record.value)
        _validator(value["type"]).validate(value)
    for record in states:
        _validator("SubscriptionState").validate(json.loads(record.value))
    for record in movements:
        _validator("MrrMovement").validate(json.loads(record.value))
    for record in subscribers:
        _validator("SubscriberDetails").validate(json.loads(record.value))
    assert len(states) > 0 and len(movements) > 0 and len(subscribers) > 0
    kinds = {json.loads(r.value)["kind"] for r in movements}
    assert {"new", "churn"} <= kinds


def test_a_movement_breaking_its_schema_is_refused() -> None:
    bad = {"position": 3, "sequence": 0, "subscriber_id": "not-a-uuid", "effective_at": "2026-01-01T00:00:00Z",
           "kind": "upgrade", "amount": 10.5, "currency": "usd", "mrr_before": "0.00",
           "mrr_after": "10.50", "event_ids": [], "retracted": False,
           "recorded_at": "2026-01-01T00:00:00Z"}
    paths = {tuple(e.path)[:1] for e in _validator("MrrMovement").iter_errors(bad)}
    assert paths == {("subscriber_id",), ("kind",), ("amount",), ("currency",), ("event_ids",)}


def test_a_subscription_body_is_valid_for_its_message_schema_and_its_http_model(ledger) -> None:  # type: ignore[no-untyped-def]
    generate(ledger, subscribers=6, months=3, seed=5)
    started = ledger.event_log.read(0, 10_000, ["SubscriptionStarted"]).items
    assert started
    for envelope in started:
        body = subscription_body(ledger.subscriptions.get(UUID(envelope["aggregate_id"])))
        _validator("SubscriptionState").validate({"position": envelope["position"], **body})
        assert SubscriptionOut.model_validate(body).model_dump() == body


def test_the_asyncapi_document_describes_the_five_topics(client) -> None:  # type: ignore[no-untyped-def]
    document: dict[str, Any] = client.get("/asyncapi.json").json()

    assert document["asyncapi"].startswith("3.")
    channels = document["channels"]
    assert {c["address"] for c in channels.values()} == {
        "subledger.events", "subledger.subscriptions", "subledger.mrr-movements",
        "subledger.subscribers", "subledger.audit"}
    assert set(channels["audit"]["messages"]) == {"TreeHead"}
    assert channels["audit"]["bindings"]["kafka"]["partitions"] == 1
    assert set(channels["events"]["messages"]) == set(EVENT_TYPES)
    for compacted in ("subscriptions", "subscribers"):
        assert channels[compacted]["bindings"]["kafka"]["topicConfiguration"] == {
            "cleanup.policy": ["compact"]}
    assert set(channels["subscribers"]["messages"]) == {"SubscriberDetails"}
    components = document["components"]
    for name in schema_names():
        published = {k: v for k, v in schema(name).items() if k not in ("$schema", "$id")}
        assert components["schemas"][name] == published

    def resolve(ref: str) -> Any:
        node: Any = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return node

    for operation in document["operations"].values():
        assert operation["action"] == "receive"
        resolve(operation["channel"]["$ref"])
        for ref in operation["messages"]:
            message = resolve(resolve(ref["$ref"])["$ref"])
            assert "ce_type" in message["headers"]["properties"]
            resolve(message["payload"]["$ref"])


DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_docs_name_every_topic_the_asyncapi_document_describes() -> None:
    """The topic prefix's row of docs/configuration.md and the message contract of
    docs/streaming.md name each topic, and say how many there are."""
    addresses = [c["address"] for c in asyncapi("subledger", 3, version="0")["channels"].values()]
    topics = {"`<prefix>." + address.removeprefix("subledger.") + "`" for address in addresses}
    count = {3: "three", 4: "four", 5: "five", 6: "six", 7: "seven"}[len(topics)]
    (prefix_row,) = [line for line in (DOCS / "configuration.md").read_text().splitlines()
                     if line.startswith("| `SUBLEDGER_TOPIC_PREFIX` |")]
    assert {t for t in topics if t not in prefix_row} == set()
    assert f"the {count} topics" in prefix_row
    streaming = (DOCS / "streaming.md").read_text()
    contract = streaming[streaming.index("## The message contract"):]
    contract = contract[:contract.index("\n\n", contract.index("| topic |"))]
    assert {t for t in topics if t not in contract} == set()
    said = re.findall(r"\b(three|four|five|six|seven) topics\b", streaming)
    assert said and set(said) == {count}, said
