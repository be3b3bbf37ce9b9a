"""JSON Schemas of the public messages, generated from the event classes (one source of
truth): the envelope of every event type with its ``data``. Committed under ``schemas/``
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


def all_schemas() -> dict[str, dict[str, Any]]:
    return {name: event_schema(name) for name in EVENT_TYPES}
