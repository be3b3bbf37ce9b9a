"""The ``events`` table: one row per event, its envelope's columns typed for analysis.

``data`` is the envelope's ``data`` as JSON text, the personal fields
(``domain.personal.PERSONAL_FIELDS``) null unless asked for. ``amount`` and ``currency``
lift the event's money out of it: an invoice's ``total``, else the event's ``amount`` (a
plan's or subscription's price per period, a charge, a refund), integer minor units.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from subledger.domain.personal import PERSONAL_FIELDS

from .arrow import pyarrow
from .export_schema import EVENTS
from .reader import LoggedEvent


def month(instant: datetime) -> str:
    """``YYYY-MM`` of a UTC instant: the partition of a row."""
    return f"{instant.year:04d}-{instant.month:02d}"


def scrubbed(kind: str, data: dict[str, Any], *, personal_data: bool) -> dict[str, Any]:
    """``data`` with its personal fields null, unless ``personal_data``."""
    personal = PERSONAL_FIELDS.get(kind)
    if personal_data or not personal:
        return data
    return {name: None if name in personal else value for name, value in data.items()}


def _money(kind: str, data: dict[str, Any]) -> tuple[int | None, str | None]:
    amount = data.get("total") if kind == "InvoiceIssued" else data.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int):
        amount = None
    return amount, data.get("currency")


def event_row(logged: LoggedEvent, *, personal_data: bool) -> dict[str, Any]:
    """The row of one event: its envelope's fields, typed (instants stay instants)."""
    envelope = logged.envelope()
    kind, data = envelope["type"], envelope["data"]
    amount, currency = _money(kind, data)
    return {
        **{name: envelope[name] for name in _SAME},
        "recorded_at": logged.event.timestamp, "effective_at": logged.event.effective_at,
        "amount": amount, "currency": currency,
        "data": json.dumps(scrubbed(kind, data, personal_data=personal_data), separators=(",", ":")),
        "month": month(logged.event.effective_at),
    }


_SAME = ("position", "event_id", "type", "schema_version", "subscriber_id", "aggregate_id",
         "aggregate_version")
"""The envelope's fields an ``events`` row holds as they are."""


def events_table(events: Iterable[LoggedEvent], *, personal_data: bool = False) -> Any:
    """The events as a ``pyarrow.Table`` with the ``events`` columns (and ``month``)."""
    pa = pyarrow()
    schema = EVENTS.arrow_schema(with_month=True)
    rows = [event_row(e, personal_data=personal_data) for e in events]
    return pa.Table.from_pylist(rows, schema=schema)
