"""Receivables: the outstanding invoices as of an instant, aged (``domain.receivables``),
read from the ``invoices`` model's spans (``receivable_spans``): exact at every standpoint,
and every amount traced to the events it is made of.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from subledger.domain.errors import InvalidInput
from subledger.domain.receivables import (
    AGING_BUCKETS,
    BUCKET_NAMES,
    aging_bucket,
    days_overdue,
)
from subledger.domain.time import parse_instant

from .mrr import sortable
from .report_window import Standpoint, position
from .store import ViewCursor, ViewStore

RECEIVABLES_VERSION = "receivables-v1"
"""The definitions an aging answer was computed with (``domain.receivables``)."""
OWED = ("invoice_id", "subscription_id", "subscriber_id", "currency", "issued_at", "outstanding")


def _spans(standpoint: Standpoint) -> tuple[str, list[Any]]:
    """The spans in force at the standpoint: opened by ``as_of`` and recorded by K, and not
    ended by then. Three disjoint conditions on the end, each an index's range, rather
    than one ``OR``: as of now only the spans with no end are read."""
    as_of = sortable(standpoint.as_of)
    ends: list[tuple[str, tuple[Any, ...]]] = [("until IS NULL", ()), ("until > ?", (as_of,))]
    opened, params = "at <= ?", [as_of]
    if standpoint.as_known_at is not None:
        known = sortable(standpoint.as_known_at)
        opened, params = "at <= ? AND recorded_at <= ?", [as_of, known]
        ends.append(("until <= ? AND until_recorded > ?", (as_of, known)))
    union = " UNION ALL ".join(f"SELECT {', '.join(OWED)}, issued_position FROM view_receivables"
                               f" WHERE {opened} AND {end}" for end, _ in ends)
    return union, [value for _, extra in ends for value in (*params, *extra)]


def owed(store: ViewStore, standpoint: Standpoint, currency: str | None = None,
         subscriber_id: str | None = None) -> list[dict[str, Any]]:
    """Each invoice outstanding at the standpoint, oldest first (those issued at the same
    instant in log order): its ids, number, currency, issue, ``outstanding``,
    ``days_overdue`` and ``bucket``."""
    union, values = _spans(standpoint)
    filters = []
    for column, value in (("s.currency", currency and currency.upper()), ("s.subscriber_id", subscriber_id)):
        if value is not None:
            filters.append(f"{column} = ?")
            values.append(value)
    where = f" WHERE {' AND '.join(filters)}" if filters else ""
    with store.transaction() as tx:
        rows = tx.execute(
            f"SELECT {', '.join('s.' + c for c in OWED)}, i.number FROM ({union}) s"
            f" JOIN view_invoices i ON i.invoice_id = s.invoice_id{where}"
            " ORDER BY s.issued_at, s.issued_position", values).fetchall()
    found = []
    for row in rows:
        read = dict(zip((*OWED, "number"), row, strict=True))
        invoice = {"invoice_id": read["invoice_id"], "number": read["number"],
                   **{column: read[column] for column in OWED[1:]}}
        invoice["outstanding"] = int(invoice["outstanding"])
        days = days_overdue(parse_instant(invoice["issued_at"]), standpoint.as_of)
        found.append({**invoice, "days_overdue": days, "bucket": aging_bucket(days)})
    return found


def with_positions(tx: ViewCursor, invoices: list[dict[str, Any]],
                   standpoint: Standpoint) -> list[dict[str, Any]]:
    """``invoices`` each with the log ``positions`` of the events its outstanding amount is
    made of: those that opened or ended its spans up to the one in force."""
    as_of = sortable(standpoint.as_of)
    known = None if standpoint.as_known_at is None else sortable(standpoint.as_known_at)
    rows = tx.select_in("SELECT invoice_id, position, recorded_at, until, until_recorded, until_position"
                        " FROM view_receivables WHERE at <= ? AND invoice_id IN ({marks})",
                        [i["invoice_id"] for i in invoices], (as_of,))
    positions: dict[str, set[int]] = defaultdict(set)
    for invoice_id, opened_at, recorded_at, until, until_recorded, until_position in rows:
        if known is not None and recorded_at > known:
            continue
        positions[invoice_id].add(int(opened_at))
        if until is not None and until <= as_of and (known is None or until_recorded <= known):
            positions[invoice_id].add(int(until_position))
    return [{**i, "positions": sorted(p for p in positions[i["invoice_id"]])} for i in invoices]


def aging(invoices: list[dict[str, Any]], named: str | None = None) -> list[dict[str, Any]]:
    """Per currency, the outstanding total and invoice count, and both per aging bucket
    (every bucket listed, empty ones with zeros), currencies in alphabetical order; the
    ``named`` currency is listed even when nothing is owed in it."""
    books = {} if named is None else {named.upper(): empty_book(named.upper())}
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
    return {"as_of": sortable(standpoint.as_of),
            "as_known_at": None if known is None else sortable(known),
            "position": position(store, "invoices"), "metrics_version": RECEIVABLES_VERSION}


def aging_report(store: ViewStore, standpoint: Standpoint, currency: str | None) -> dict[str, Any]:
    """The aging answer: per currency (only ``currency`` if named, listed even when nothing
    is owed in it) the outstanding total and per bucket."""
    return {**head(store, standpoint), "currencies": aging(owed(store, standpoint, currency), currency)}


def owed_page(store: ViewStore, standpoint: Standpoint, *, currency: str | None,
              bucket: str | None, subscriber_id: str | None, after: int,
              limit: int) -> dict[str, Any]:
    """The invoices behind the aging figures, oldest first, a page at a time."""
    check_bucket(bucket)
    invoices = [invoice for invoice in owed(store, standpoint, currency, subscriber_id)
                if bucket is None or invoice["bucket"] == bucket]
    more = len(invoices) > after + limit
    with store.transaction() as tx:
        page = with_positions(tx, invoices[after:after + limit], standpoint)
    return {**head(store, standpoint), "items": page,
            "next_cursor": str(after + limit) if more else None}


def month_end_figures(store: ViewStore, end: datetime, standpoint: Standpoint,
                      currency: str) -> dict[str, int]:
    """What a period close seals of what was owed at the month's last instant (``end``:
    the next month's first), as known at the standpoint: the total, the number of invoices
    and each bucket's amount, one flat record whose fields a restatement compares."""
    last = min(end - timedelta(microseconds=1), standpoint.as_of)
    [book] = aging_report(store, Standpoint(last, standpoint.as_known_at), currency)["currencies"]
    return {"outstanding": book["outstanding"], "invoices": book["invoices"],
            **{bucket["bucket"]: bucket["outstanding"] for bucket in book["buckets"]}}


def changed_after(tx: ViewCursor, closed_at: str, end: datetime) -> list[tuple[str, int]]:
    """(event id, position) of the events recorded after a close (``closed_at``) that
    changed what was owed before the month's end (``end``): they opened or ended a span
    effective before it."""
    before = sortable(end)
    opened = tx.execute("SELECT event_id, position FROM view_receivables"
                        " WHERE recorded_at > ? AND at < ?", (closed_at, before)).fetchall()
    ended = tx.execute("SELECT until_event_id, until_position FROM view_receivables"
                       " WHERE until_recorded > ? AND until < ?", (closed_at, before)).fetchall()
    return [(event_id, int(position)) for event_id, position in [*opened, *ended]]
