"""JSON Schemas of the public messages, generated from the code (one source of truth): the
envelope of every event type with its ``data`` (from the event classes), and the two other
Kafka messages, a subscription's state and an MRR movement (next to their builders in
``messages``; a test holds the state's schema to the API's response model). Committed under ``schemas/``
(``python -m subledger.schemas``, ``make schemas``) and served at ``GET /schemas/{type}``; a test keeps the two equal and
validates real messages against them."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from .base import EVENT_ENVELOPE_FIELDS
from .envelope import EVENT_TYPES
from .messages import MRR_MOVEMENT, SUBSCRIPTION_STATE
from .periods import Interval

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "https://subledger.dev/schemas/"


def _schema_of(annotation: Any) -> dict[str, Any]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_schema_of(arg) for arg in typing.get_args(annotation)]}
    if annotation is type(None):
        return {"type": "null"}
    if annotation is str:
        return {"type": "string"}
    if annotation is bool:
        return {"type": "boolean"}
    if annotation is int:
        return {"type": "integer"}
    if annotation is datetime:
        return {"type": "string", "format": "date-time", "pattern": "Z$"}
    if annotation is UUID:
        return {"type": "string", "format": "uuid"}
    if annotation is Decimal:
        return {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}
    if origin is list:
        (item,) = typing.get_args(annotation) or (Any,)
        return {"type": "array", "items": _schema_of(item)}
    if origin is typing.Literal:
        return {"enum": list(typing.get_args(annotation))}
    if origin is dict or annotation is dict:
        schema: dict[str, Any] = {"type": "object"}
        key, value = typing.get_args(annotation) or (str, Any)
        if key is not str:
            schema["propertyNames"] = _schema_of(key)
        if value is not Any:
            schema["additionalProperties"] = _schema_of(value)
        return schema
    return {}


def event_schema(type_name: str) -> dict[str, Any]:
    """The schema of one event type's envelope."""
    cls = EVENT_TYPES[type_name]
    hints = typing.get_type_hints(cls)
    fields = [f.name for f in dataclasses.fields(cls) if f.name not in EVENT_ENVELOPE_FIELDS]
    data = {name: _schema_of(hints[name]) for name in fields}
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"{BASE_ID}{type_name}.json",
        "title": type_name,
        "description": " ".join((cls.__doc__ or f"The {type_name} event.").split()),
        "type": "object",
        "additionalProperties": False,
        "required": ["position", "event_id", "type", "schema_version", "subscriber_id",
                     "aggregate_id", "aggregate_version", "recorded_at", "effective_at", "data"],
        "properties": {
            "position": {"type": "integer", "minimum": 1},
            "event_id": {"type": "string", "format": "uuid"},
            "type": {"const": type_name},
            "schema_version": {"const": int(getattr(cls, "class_version", 1))},
            "subscriber_id": {"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]},
            "aggregate_id": {"type": "string", "format": "uuid"},
            "aggregate_version": {"type": "integer", "minimum": 1},
            "recorded_at": {"type": "string", "format": "date-time", "pattern": "Z$"},
            "effective_at": {"type": "string", "format": "date-time", "pattern": "Z$"},
            "data": {"type": "object", "additionalProperties": False, "required": fields,
                     "properties": data},
        },
    }


_UUID = {"type": "string", "format": "uuid"}
_TIME = {"type": "string", "format": "date-time", "pattern": "Z$"}
_MAYBE_TIME = {"anyOf": [_TIME, {"type": "null"}]}
_MONEY_TEXT = {"type": "string", "pattern": r"^-?\d+\.\d{2}$",
               "description": "minor units, two decimals (normalised monthly amounts can be fractions of a minor unit)"}
_CURRENCY = {"type": "string", "pattern": "^[A-Z]{3}$"}


def _message(name: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"{BASE_ID}{name}.json",
        "title": name,
        "description": description,
        "type": "object",
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
    }


def subscription_state_schema() -> dict[str, Any]:
    """The value of a ``subscriptions`` topic message: ``GET /subscriptions/{id}``'s body
    after the event at ``position``."""
    return _message(SUBSCRIPTION_STATE, (
        "The state of one subscription right after the event at `position`: the body of "
        "GET /subscriptions/{id} at that point. The topic is compacted: the latest message "
        "per key (subscription id) is the current state."), {
        "position": {"type": "integer", "minimum": 1},
        "subscription_id": _UUID,
        "subscriber_id": _UUID,
        "status": {"enum": ["trialing", "active", "past_due", "paused", "canceled"]},
        "plan_id": {"type": "string"},
        "plan_version": {"type": "integer", "minimum": 1},
        "tier": {"type": "string"},
        "amount": {"type": "integer"},
        "currency": _CURRENCY,
        "interval": {"enum": [i.value for i in Interval]},
        "quantity": {"type": "integer", "minimum": 1},
        "current_period_start": _TIME,
        "current_period_end": _TIME,
        "trial_end": _MAYBE_TIME,
        "billing_anchor": _MAYBE_TIME,
        "started_at": _TIME,
        "cancel_at": _MAYBE_TIME,
        "canceled_at": _MAYBE_TIME,
        "cancel_reason": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "paused_at": _MAYBE_TIME,
        "scheduled_change": {"anyOf": [{"type": "object"}, {"type": "null"}]},
        "coupon": {"anyOf": [{"type": "object"}, {"type": "null"}]},
        "credit_balance": {"type": "integer"},
        "pending_refunds": {"type": "array", "items": {"type": "object", "required": ["refund_id"]}},
        "open_invoices": {"type": "array", "items": {"type": "object", "required": ["invoice_id"]}},
    })


def mrr_movement_schema() -> dict[str, Any]:
    """The value of an ``mrr-movements`` topic message."""
    return _message(MRR_MOVEMENT, (
        "One MRR movement of a subscriber, learned (retracted = false) or retracted "
        "(retracted = true: a backdated event re-derived the subscriber's past and this "
        "movement no longer holds) at log position `position`; `sequence` ranks the "
        "movements of one position. Sum amounts of learned movements minus retracted ones."), {
        "position": {"type": "integer", "minimum": 1},
        "sequence": {"type": "integer", "minimum": 0},
        "subscriber_id": _UUID,
        "effective_at": _TIME,
        "kind": {"enum": ["new", "expansion", "reactivation", "contraction", "churn"]},
        "amount": _MONEY_TEXT,
        "currency": _CURRENCY,
        "mrr_before": _MONEY_TEXT,
        "mrr_after": _MONEY_TEXT,
        "event_ids": {"type": "array", "items": _UUID, "minItems": 1},
        "retracted": {"type": "boolean"},
        "recorded_at": _TIME,
    })


MESSAGE_SCHEMAS = {SUBSCRIPTION_STATE: subscription_state_schema, MRR_MOVEMENT: mrr_movement_schema}


def schema(name: str) -> dict[str, Any]:
    """The schema of an event type's envelope, or of one of the other two messages."""
    if name in MESSAGE_SCHEMAS:
        return MESSAGE_SCHEMAS[name]()
    return event_schema(name)


def schema_names() -> list[str]:
    return sorted([*EVENT_TYPES, *MESSAGE_SCHEMAS])


def all_schemas() -> dict[str, dict[str, Any]]:
    return {name: schema(name) for name in schema_names()}


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


def asyncapi(prefix: str, partitions: int, *, version: str) -> dict[str, Any]:
    """The AsyncAPI 3.0 description of the three topics (served at ``/asyncapi.json``)."""
    from .messages import COMPACTED, EVENTS, MOVEMENTS, SUBSCRIPTIONS, topic_name

    def payload(name: str) -> dict[str, Any]:
        return {k: v for k, v in schema(name).items() if k not in ("$schema", "$id")}

    def message(name: str, key: str, summary: str) -> dict[str, Any]:
        return {
            "name": name, "title": name, "summary": summary,
            "contentType": "application/json",
            "headers": _CE_HEADERS,
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "bindings": {"kafka": {"key": {"type": "string", "format": "uuid", "description": key}}},
        }

    by_subscriber = "the subscriber id (catalog events: their own aggregate id)"
    messages = {name: message(name, by_subscriber, f"The {name} event's envelope.")
                for name in EVENT_TYPES}
    messages[SUBSCRIPTION_STATE] = message(SUBSCRIPTION_STATE, "the subscription id",
                                           "A subscription's state after one of its events.")
    messages[MRR_MOVEMENT] = message(MRR_MOVEMENT, "the subscriber id",
                                     "An MRR movement learned or retracted.")
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for suffix, names, description in (
        (EVENTS, list(EVENT_TYPES), "Every event of the log, in ledger order per key."),
        (SUBSCRIPTIONS, [SUBSCRIPTION_STATE], "Each subscription's state; compacted."),
        (MOVEMENTS, [MRR_MOVEMENT], "Every MRR movement, as the mrr projection learns it."),
    ):
        channel = suffix.replace("-", "_")
        channels[channel] = {
            "address": topic_name(prefix, suffix),
            "description": description,
            "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in names},
            "bindings": {"kafka": {
                "partitions": partitions,
                "topicConfiguration": {"cleanup.policy": ["compact" if suffix in COMPACTED else "delete"]},
            }},
        }
        operations[f"receive_{channel}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{n}"} for n in names],
        }
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
        "components": {"messages": messages,
                       "schemas": {name: payload(name) for name in schema_names()}},
    }
