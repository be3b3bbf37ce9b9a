"""The AsyncAPI 3.0 description of the relay's topics (served at ``/asyncapi.json``)."""

from __future__ import annotations

from typing import Any

from .envelope import EVENT_TYPES
from .messages import (
    AUDIT,
    COMPACTED,
    EVENTS,
    MOVEMENTS,
    MRR_MOVEMENT,
    SUBSCRIPTION_STATE,
    SUBSCRIPTIONS,
    TREE_HEAD,
    topic_name,
)
from .schemas import schema, schema_names

_CE_HEADERS = {
    "type": "object",
    "description": "CloudEvents 1.0 Kafka protocol binding, binary content mode.",
    "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type"],
    "properties": {
        "ce_specversion": {"const": "1.0"},
        "ce_id": {"type": "string", "description": "event_id (events, subscriptions) or `position-sequence` (movements)"},
        "ce_source": {"type": "string", "description": "`/<prefix>/<topic suffix>`"},
        "ce_type": {"type": "string", "description": "`subledger.<Type>.v<schema_version>`"},
        "ce_time": {"type": "string", "format": "date-time", "description": "when the ledger recorded it"},
        "ce_subject": {"type": "string", "description": "the aggregate (or subscriber) concerned"},
        "ce_dataschema": {"type": "string", "format": "uri"},
        "content-type": {"const": "application/json"},
    },
}


def _message(name: str, key: str, summary: str) -> dict[str, Any]:
    return {
        "name": name, "title": name, "summary": summary,
        "contentType": "application/json",
        "headers": _CE_HEADERS,
        "payload": {"$ref": f"#/components/schemas/{name}"},
        "bindings": {"kafka": {"key": {"type": "string", "format": "uuid", "description": key}}},
    }


def _messages() -> dict[str, Any]:
    by_subscriber = "the subscriber id (catalog events: their own aggregate id)"
    messages = {name: _message(name, by_subscriber, f"The {name} event's envelope.")
                for name in EVENT_TYPES}
    messages[SUBSCRIPTION_STATE] = _message(SUBSCRIPTION_STATE, "the subscription id",
                                            "A subscription's state after one of its events.")
    messages[MRR_MOVEMENT] = _message(MRR_MOVEMENT, "the subscriber id",
                                      "An MRR movement learned or retracted.")
    messages[TREE_HEAD] = _message(TREE_HEAD, "`tree-heads`, always: every head on one partition",
                                   "A tree head of the log's Merkle tree, signed.")
    messages[TREE_HEAD]["bindings"]["kafka"]["key"] = {"const": "tree-heads"}
    return messages


def _channels(prefix: str, partitions: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The three topics as channels, and the operation of receiving each."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for suffix, names, description in (
        (EVENTS, list(EVENT_TYPES), "Every event of the log, in ledger order per key."),
        (SUBSCRIPTIONS, [SUBSCRIPTION_STATE], "Each subscription's state; compacted."),
        (MOVEMENTS, [MRR_MOVEMENT], "Every MRR movement, as the mrr projection learns it."),
        (AUDIT, [TREE_HEAD], "Every tree head of the log's Merkle tree, in order (docs/audit.md)."),
    ):
        channel = suffix.replace("-", "_")
        channels[channel] = {
            "address": topic_name(prefix, suffix),
            "description": description,
            "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in names},
            "bindings": {"kafka": {
                "partitions": 1 if suffix == AUDIT else partitions,
                "topicConfiguration": {"cleanup.policy": ["compact" if suffix in COMPACTED else "delete"]},
            }},
        }
        operations[f"receive_{channel}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{n}"} for n in names],
        }
    return channels, operations


def asyncapi(prefix: str, partitions: int, *, version: str) -> dict[str, Any]:
    """The AsyncAPI 3.0 description of the three topics (served at ``/asyncapi.json``)."""
    channels, operations = _channels(prefix, partitions)
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "subledger event streams",
            "version": version,
            "description": (
                "The ledger's log and its projections' outputs, published by the relay. "
                "Delivery is at least once; per key, in ledger order. Every message carries "
                "`position` (global, increasing); drop a message at or below the last "
                "`(position, sequence)` handled on its partition to drop duplicates."),
        },
        "defaultContentType": "application/json",
        "servers": {"kafka": {"host": "localhost:9092", "protocol": "kafka",
                              "description": "SUBLEDGER_KAFKA_BOOTSTRAP"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": _messages(),
                       "schemas": {name: _payload(name) for name in schema_names()}},
    }


def _payload(name: str) -> dict[str, Any]:
    return {k: v for k, v in schema(name).items() if k not in ("$schema", "$id")}
