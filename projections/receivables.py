"""Receivables: the outstanding invoices as of an instant, aged (``domain.receivables``).

The ``invoices`` model appends a row to ``view_receivables`` for every event that changes
what is outstanding on an invoice (``amount``: the change, signed, in minor units; ``at``:
the event's effective instant; ``recorded_at``: when the ledger learned it). The table is
append-only, so an invoice's outstanding amount as of T, as known at K, is the sum of its
rows effective by T and recorded by K: exact at every standpoint, and every figure is the sum
of events the answer names.

A report reads the rows effective by its ``as_of``, one pass over the invoices issued by
then; an invoice paid when it was issued has two rows that cancel.
"""

from __future__ import annotations

from typing import Any

from subledger.domain.errors import InvalidInput
from subledger.domain.receivables import (
    AGING_BUCKETS,
    BUCKET_NAMES,
    aging_bucket,
    days_overdue,
    outstanding,
)
from subledger.domain.time import parse_instant

from .mrr import sortable
from .report_window import Standpoint, recorded_by
from .store import ViewCursor, ViewStore

RECEIVABLE_COLUMNS = ("event_id", "invoice_id", "subscription_id", "subscriber_id", "currency",
                      "issued_at", "at", "amount", "kind", "position", "recorded_at")
RECEIVABLES_VERSION = "1"
"""The definitions an aging answer was computed with (``domain.receivables``)."""


def create(tx: ViewCursor) -> None:
    tx.execute("CREATE TABLE IF NOT EXISTS view_receivables (event_id TEXT PRIMARY KEY,"
               " invoice_id TEXT NOT NULL, subscription_id TEXT NOT NULL,"
               " subscriber_id TEXT NOT NULL, currency TEXT NOT NULL, issued_at TEXT NOT NULL,"
               " at TEXT NOT NULL, amount BIGINT NOT NULL, kind TEXT NOT NULL,"
               " position BIGINT NOT NULL, recorded_at TEXT NOT NULL)")
    tx.execute("CREATE INDEX IF NOT EXISTS view_receivables_at ON view_receivables (at)")
    tx.execute("CREATE INDEX IF NOT EXISTS view_receivables_invoice"
               " ON view_receivables (invoice_id, position)")


def change(before: dict[str, Any] | None, after: dict[str, Any],
           envelope: dict[str, Any]) -> tuple[Any, ...] | None:
    """The row an event adds (pure): what it changed of the invoice's outstanding amount,
    from its row ``before`` (None: the event issued it) to ``after``; None if nothing."""
    was = 0 if before is None else outstanding(before["status"], before["amount_due"])
    amount = outstanding(after["status"], after["amount_due"]) - was
    if amount == 0:
        return None
    return (envelope["event_id"], after["invoice_id"], after["subscription_id"],
            after["subscriber_id"], after["currency"], after["issued_at"],
            sortable(envelope["effective_at"]), amount, envelope["type"],
            envelope["position"], sortable(envelope["recorded_at"]))


def owed(store: ViewStore, standpoint: Standpoint, currency: str | None = None,
         subscriber_id: str | None = None) -> list[dict[str, Any]]:
    """Each invoice outstanding at the standpoint, :func:`oldest_first`: its ids, currency, issue,
    ``outstanding`` amount and the log ``positions`` of the events that make it up."""
    clause, params = recorded_by(standpoint.as_known_at, "r.recorded_at")
    filters, values = ["r.at <= ?", clause], [sortable(standpoint.as_of), *params]
    for column, value in (("r.currency", currency and currency.upper()),
                          ("r.subscriber_id", subscriber_id)):
        if value is not None:
            filters.append(f"{column} = ?")
            values.append(value)
    with store.transaction() as tx:
        rows = tx.execute(
            "SELECT r.invoice_id, r.subscription_id, r.subscriber_id, r.currency, r.issued_at,"
            " r.amount, r.position, i.number FROM view_receivables r"
            " JOIN view_invoices i ON i.invoice_id = r.invoice_id"
            f" WHERE {' AND '.join(filters)}"
            " ORDER BY r.position", values).fetchall()
    return _invoices(rows, standpoint)


def _invoices(rows: list[tuple[Any, ...]], standpoint: Standpoint) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for invoice_id, subscription_id, subscriber_id, currency, issued_at, amount, position, number in rows:
        invoice = found.setdefault(invoice_id, {
            "invoice_id": invoice_id, "number": number, "subscription_id": subscription_id,
            "subscriber_id": subscriber_id, "currency": currency, "issued_at": issued_at,
            "outstanding": 0, "positions": []})
        invoice["outstanding"] += int(amount)
        invoice["positions"].append(int(position))
    owing = sorted((invoice for invoice in found.values() if invoice["outstanding"] > 0), key=oldest_first)
    for invoice in owing:
        days = days_overdue(parse_instant(invoice["issued_at"]), standpoint.as_of)
        invoice.update(days_overdue=days, bucket=aging_bucket(days))
    return owing


def oldest_first(invoice: dict[str, Any]) -> tuple[str, int]:
    """Invoices by issue, those issued at the same instant in log order (their numbers')."""
    return invoice["issued_at"], invoice["positions"][0]


def aging(invoices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per currency, the outstanding total and invoice count, and both per aging bucket
    (every bucket listed, empty ones with zeros), currencies in alphabetical order."""
    books: dict[str, dict[str, Any]] = {}
    for invoice in invoices:
        book = books.setdefault(invoice["currency"], empty_book(invoice["currency"]))
        book["outstanding"] += invoice["outstanding"]
        book["invoices"] += 1
        bucket = book["buckets"][BUCKET_NAMES.index(invoice["bucket"])]
        bucket["outstanding"] += invoice["outstanding"]
        bucket["invoices"] += 1
    return [books[currency] for currency in sorted(books)]


def empty_book(currency: str) -> dict[str, Any]:
    """A currency's aging figures with nothing owed."""
    return {"currency": currency, "outstanding": 0, "invoices": 0,
            "buckets": [{"bucket": b.name, "first_day": b.first_day, "last_day": b.last_day,
                         "outstanding": 0, "invoices": 0} for b in AGING_BUCKETS]}


def check_bucket(bucket: str | None) -> None:
    if bucket is not None and bucket not in BUCKET_NAMES:
        raise InvalidInput(f"bucket must be one of {', '.join(BUCKET_NAMES)}")


def aging_rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The aging answer flattened: one row per currency and bucket (its CSV and table)."""
    return [{"currency": book["currency"], **bucket} for book in body["currencies"]
            for bucket in book["buckets"]]


def head(store: ViewStore, standpoint: Standpoint) -> dict[str, Any]:
    """Where an answer stands: ``as_of``, ``as_known_at``, the log position the
    ``invoices`` model had applied, and the definitions' version."""
    known = standpoint.as_known_at
    with store.transaction() as tx:
        applied = tx.checkpoint("invoices") or 0
    return {"as_of": sortable(standpoint.as_of),
            "as_known_at": None if known is None else sortable(known),
            "position": applied, "metrics_version": RECEIVABLES_VERSION}


def aging_report(store: ViewStore, standpoint: Standpoint, currency: str | None) -> dict[str, Any]:
    """The aging answer: per currency (only ``currency`` if named, listed even when nothing
    is owed in it) the outstanding total and per bucket."""
    books = aging(owed(store, standpoint, currency))
    if currency is not None and not books:
        books = [empty_book(currency.upper())]
    return {**head(store, standpoint), "currencies": books}


def owed_page(store: ViewStore, standpoint: Standpoint, *, currency: str | None,
              bucket: str | None, subscriber_id: str | None, after: int,
              limit: int) -> dict[str, Any]:
    """The invoices behind the aging figures, oldest first, a page at a time."""
    check_bucket(bucket)
    invoices = [invoice for invoice in owed(store, standpoint, currency, subscriber_id)
                if bucket is None or invoice["bucket"] == bucket]
    page = invoices[after:after + limit]
    more = len(invoices) > after + limit
    return {**head(store, standpoint), "items": page,
            "next_cursor": str(after + limit) if more else None}
