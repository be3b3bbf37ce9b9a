"""Reading the ``invoices`` read model: one invoice or credit note, and pages of invoices.

A record is a row with its values as Python reads them: instants as aware datetimes, lines
and credit notes as lists (``contract.invoice_bodies`` renders it). Pages are in log order
(the position of each ``InvoiceIssued``), which within a series is the order of the numbers;
the cursor is the last position of a page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from subledger.domain.time import parse_instant

from .invoices import CREDIT_NOTE_COLUMNS, INVOICE_COLUMNS
from .mrr import sortable
from .store import ViewStore

_INSTANTS = frozenset({"issued_at", "recorded_at", "period_start", "period_end",
                       "next_attempt_at", "effective_at"})
_JSON = frozenset({"lines", "credit_notes"})


@dataclass(frozen=True)
class InvoiceFilter:
    """Which invoices a list shows (None: any)."""

    subscriber_id: str | None = None
    status: str | None = None
    issued_from: datetime | None = None
    issued_before: datetime | None = None
    currency: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses, values = [], []
        for column, value in (("subscriber_id", self.subscriber_id), ("status", self.status),
                              ("currency", self.currency)):
            if value is not None:
                clauses.append(f"{column} = ?")
                values.append(value)
        if self.issued_from is not None:
            clauses.append("issued_at >= ?")
            values.append(sortable(self.issued_from))
        if self.issued_before is not None:
            clauses.append("issued_at < ?")
            values.append(sortable(self.issued_before))
        return " AND ".join(clauses) or "1 = 1", values


def _record(columns: tuple[str, ...], row: tuple[Any, ...]) -> dict[str, Any]:
    record = dict(zip(columns, row, strict=True))
    for column in _INSTANTS & record.keys():
        if record[column] is not None:
            record[column] = parse_instant(record[column])
    for column in _JSON & record.keys():
        record[column] = json.loads(record[column])
    return record


def invoice_page(store: ViewStore, which: InvoiceFilter, *, after: int,
                 limit: int) -> tuple[list[dict[str, Any]], int | None]:
    """Invoices after position ``after``, at most ``limit``; and the cursor of the next
    page (None after the last)."""
    where, values = which.where()
    with store.transaction() as tx:
        rows = tx.execute(
            f"SELECT {', '.join(INVOICE_COLUMNS)} FROM view_invoices WHERE {where}"
            " AND position > ? ORDER BY position LIMIT ?", (*values, after, limit + 1),
        ).fetchall()
    records = [_record(INVOICE_COLUMNS, row) for row in rows[:limit]]
    more = len(rows) > limit
    return records, records[-1]["position"] if more else None


def find_invoice(store: ViewStore, invoice_id: str) -> dict[str, Any] | None:
    with store.transaction() as tx:
        row = tx.execute(f"SELECT {', '.join(INVOICE_COLUMNS)} FROM view_invoices"
                         " WHERE invoice_id = ?", (invoice_id,)).fetchone()
    return None if row is None else _record(INVOICE_COLUMNS, row)


def find_credit_note(store: ViewStore, credit_note_id: str) -> dict[str, Any] | None:
    with store.transaction() as tx:
        row = tx.execute(f"SELECT {', '.join(CREDIT_NOTE_COLUMNS)} FROM view_credit_notes"
                         " WHERE credit_note_id = ?", (credit_note_id,)).fetchone()
    return None if row is None else _record(CREDIT_NOTE_COLUMNS, row)
