"""JSON Schema fragments of the values the contract carries, written once."""

from __future__ import annotations

from typing import Any

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "https://subledger.dev/schemas/"

UUID: dict[str, Any] = {"type": "string", "format": "uuid"}
TIME: dict[str, Any] = {"type": "string", "format": "date-time", "pattern": "Z$"}
CURRENCY: dict[str, Any] = {"type": "string", "pattern": "^[A-Z]{3}$"}
MONEY_TEXT: dict[str, Any] = {
    "type": "string", "pattern": r"^-?\d+\.\d{2}$",
    "description": "minor units, two decimals (normalised monthly amounts can be fractions of a minor unit)",
}
STRING: dict[str, Any] = {"type": "string"}
INTEGER: dict[str, Any] = {"type": "integer"}
OBJECT: dict[str, Any] = {"type": "object"}
BOOLEAN: dict[str, Any] = {"type": "boolean"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def at_least(minimum: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum}


def one_of(values: list[str]) -> dict[str, Any]:
    return {"enum": values}
