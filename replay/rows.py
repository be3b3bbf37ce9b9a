"""Answers as rows of a table: what ``to_arrow()``, ``--format csv`` and ``--format table``
all start from, so the three show the same thing.

Values keep their exact types as far as a table can hold them: integers (minor units) stay
integers, a ``Fraction`` (a derived money figure) becomes a ``Decimal`` rounded half-even to
:data:`DECIMAL_PLACES` places (exact for every denominator that divides 10^10), ids become
text, instants stay instants. Nothing becomes a float.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import Any
from uuid import UUID

from subledger.domain.money import round_places
from subledger.domain.time import isoformat

DECIMAL_PLACES = 10


def cell(value: Any) -> Any:
    """One value as a table holds it."""
    if isinstance(value, Fraction):
        return round_places(value, DECIMAL_PLACES)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: cell(v) for k, v in vars(value).items()}
    if isinstance(value, Mapping):
        return {str(k): cell(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [cell(v) for v in value]
    return value


def _row(value: Any) -> dict[str, Any] | None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: cell(v) for k, v in vars(value).items()}
    if isinstance(value, Mapping):
        return {str(k): cell(v) for k, v in value.items()}
    return None


def rows_of(value: Any) -> list[dict[str, Any]]:
    """A fold's answer as rows:

    - a list of mappings (or dataclasses): one row each;
    - a mapping whose values are mappings: one row per key, the key in column ``key``;
    - any other mapping: one row per key, columns ``key`` and ``value``;
    - a single dataclass: one row; anything else: one row with column ``value``.
    """
    if isinstance(value, (list, tuple)):
        rows = [_row(item) for item in value]
        if all(row is not None for row in rows):
            return rows  # type: ignore[return-value]
        return [{"value": cell(item)} for item in value]
    if isinstance(value, Mapping):
        if value and all(_row(v) is not None for v in value.values()):
            return [{"key": cell(k), **_row(v)} for k, v in value.items()]  # type: ignore[dict-item]
        return [{"key": cell(k), "value": cell(v)} for k, v in value.items()]
    row = _row(value)
    return [row] if row is not None else [{"value": cell(value)}]


def text(value: Any) -> str:
    """A cell as CSV and terminal tables write it: instants ISO-8601 UTC, None empty."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=text)
    return str(value)


def columns(rows: list[dict[str, Any]]) -> list[str]:
    """Every column of ``rows``, in the order they first appear."""
    found: dict[str, None] = {}
    for row in rows:
        found.update(dict.fromkeys(row))
    return list(found)
