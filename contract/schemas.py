"""JSON Schemas of the public messages, generated from the code (one source of truth): the
envelope of every event type with its ``data`` (from the event classes), and the two other
Kafka messages, a subscription's state (from its body's table in ``bodies``) and an MRR
movement. Committed under ``schemas/`` (``make schemas``) and served at ``GET
/schemas/{type}``; a test keeps the two equal and validates real messages against them."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from subledger.domain.base import EVENT_ENVELOPE_FIELDS

from . import schema_types as t
from .bodies import SUBSCRIPTION
from .envelope import EVENT_TYPES
from .messages import MRR_MOVEMENT, SUBSCRIPTION_STATE, TREE_HEAD
from .schema_types import BASE_ID, SCHEMA_DIALECT


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


def _description(cls: type, type_name: str) -> str:
    """The event class's own docstring on one line, or a plain sentence without one. Python's
    dataclasses give a class that has no docstring its constructor's signature as ``__doc__``,
    which names internal fields: that is never published."""
    doc = " ".join((cls.__doc__ or "").split())
    if not doc or doc.startswith(f"{cls.__name__}("):
        return f"The {type_name} event."
    return doc


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
        "description": _description(cls, type_name),
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
        "position": t.at_least(1),
        **SUBSCRIPTION.properties(),
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
        "subscriber_id": t.UUID,
        "effective_at": t.TIME,
        "kind": {"enum": ["new", "expansion", "reactivation", "contraction", "churn"]},
        "amount": t.MONEY_TEXT,
        "currency": t.CURRENCY,
        "mrr_before": t.MONEY_TEXT,
        "mrr_after": t.MONEY_TEXT,
        "event_ids": {"type": "array", "items": t.UUID, "minItems": 1},
        "retracted": {"type": "boolean"},
        "recorded_at": t.TIME,
    })


def tree_head_schema() -> dict[str, Any]:
    """The value of an ``audit`` topic message."""
    return _message(TREE_HEAD, (
        "A tree head of the log's RFC 9162 Merkle tree: the first `tree_size` events, the last "
        "at `last_position`, had root `root_hash` (hex) at `timestamp`. `signature` is base64 "
        "Ed25519 over the sorted compact JSON of the other four fields (null: unsigned). See "
        "docs/audit.md."), {
        "tree_size": {"type": "integer", "minimum": 0},
        "root_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "last_position": {"type": "integer", "minimum": 0},
        "timestamp": t.TIME,
        "signature": {"type": ["string", "null"]},
    })


MESSAGE_SCHEMAS = {SUBSCRIPTION_STATE: subscription_state_schema, MRR_MOVEMENT: mrr_movement_schema,
                   TREE_HEAD: tree_head_schema}


def schema(name: str) -> dict[str, Any]:
    """The schema of an event type's envelope, or of one of the other two messages."""
    if name in MESSAGE_SCHEMAS:
        return MESSAGE_SCHEMAS[name]()
    return event_schema(name)


def schema_names() -> list[str]:
    return sorted([*EVENT_TYPES, *MESSAGE_SCHEMAS])


def all_schemas() -> dict[str, dict[str, Any]]:
    return {name: schema(name) for name in schema_names()}
