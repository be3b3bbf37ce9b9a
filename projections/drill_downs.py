"""The drill-downs behind the reports: the rows a figure is the sum of, each with the event
that caused it, so any figure can be traced to the log.

MRR figures list their movements (``/reports/mrr/movements``), cash figures their invoices,
charges and refunds (``/reports/revenue/lines``), and recognized and deferred revenue its
paid lines (``/reports/revenue/recognition``). Each lists a window of days, optionally
filtered, as of and as known at the report's standpoint like the reports, a page at a time.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from subledger.domain.errors import InvalidInput
from subledger.domain.movements import MOVEMENT_KINDS
from subledger.domain.revenue import RevenueLine
from subledger.domain.time import parse_instant

from .mrr import fraction_text, parse_fraction, sortable
from .recognition import microseconds
from .report_window import Standpoint, check_days, midnight, money
from .store import ViewStore


def _equal(filters: list[str], values: list[Any], *pairs: tuple[str, Any]) -> None:
    """A drill-down's optional filters: ``column = ?`` for each value given."""
    for column, value in pairs:
        if value is not None:
            filters.append(f"{column} = ?")
            values.append(value)


def _page(items: list[dict[str, Any]], *, more: bool, after: int, limit: int) -> dict[str, Any]:
    """A drill-down's page (its rows were read with ``LIMIT limit + 1 OFFSET after``)."""
    return {"items": items, "next_cursor": str(after + limit) if more else None}


def movement_list(store: ViewStore, *, start: date, end: date, currency: str | None,
                  kind: str | None, subscriber_id: str | None, standpoint: Standpoint,
                  after: int, limit: int) -> dict[str, Any]:
    """The movements behind a figure, each with its amount and the events (ids and
    positions) that caused it."""
    check_days(start, end)
    if kind is not None and kind not in MOVEMENT_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(MOVEMENT_KINDS)}")
    clause, params = standpoint.movements()
    filters = ["at >= ?", "at < ?", clause]
    values: list[Any] = [sortable(midnight(start)), sortable(midnight(end + timedelta(days=1))), *params]
    _equal(filters, values, ("currency", currency and currency.upper()), ("kind", kind),
           ("subscriber_id", subscriber_id))
    with store.transaction() as tx:
        rows = tx.execute(
            "SELECT subscriber_id, currency, at, kind, amount, mrr_before, mrr_after, event_ids,"
            f" positions FROM view_mrr_movements WHERE {' AND '.join(filters)}"
            " ORDER BY at, subscriber_id, kind LIMIT ? OFFSET ?",
            (*values, limit + 1, after),
        ).fetchall()
    items = [
        {"subscriber_id": r[0], "currency": r[1], "effective_at": r[2], "kind": r[3],
         "amount": money(parse_fraction(r[4])), "mrr_before": money(parse_fraction(r[5])),
         "mrr_after": money(parse_fraction(r[6])), "event_ids": json.loads(r[7]),
         "positions": json.loads(r[8])}
        for r in rows[:limit]
    ]
    return _page(items, more=len(rows) > limit, after=after, limit=limit)


def revenue_line_list(store: ViewStore, *, start: date, end: date, currency: str | None,
                      subscription_id: str | None, standpoint: Standpoint,
                      after: int, limit: int) -> dict[str, Any]:
    """The cash rows behind billed, collected and refunded figures, each with its event."""
    check_days(start, end)
    known, known_params = standpoint.cash()
    filters = ["at >= ?", "at < ?", known]
    values: list[Any] = [sortable(midnight(start)), sortable(midnight(end + timedelta(days=1))),
                         *known_params]
    _equal(filters, values, ("currency", currency and currency.upper()), ("subscription_id", subscription_id))
    with store.transaction() as tx:
        rows = tx.execute(
            "SELECT event_id, subscription_id, subscriber_id, currency, kind, at, amount, position, source"
            f" FROM view_revenue_cash WHERE {' AND '.join(filters)} ORDER BY position LIMIT ? OFFSET ?",
            (*values, limit + 1, after)).fetchall()
    keys = ("event_id", "subscription_id", "subscriber_id", "currency", "kind", "effective_at",
            "amount", "position", "source")
    items = [dict(zip(keys, r, strict=True)) for r in rows[:limit]]
    return _page(items, more=len(rows) > limit, after=after, limit=limit)


def recognition_list(store: ViewStore, *, start: date, end: date, currency: str | None,
                     subscription_id: str | None, standpoint: Standpoint,
                     after: int, limit: int) -> dict[str, Any]:
    """The lines behind ``recognized`` and ``deferred`` of the window ``[start, end]`` (days):
    every line settled by ``as_of`` with a part served in the window, or settled before the
    window's end with a part deferred at it, each with that part
    (``domain.revenue.RevenueLine.within`` and ``.unserved``), its service period, when it
    was paid, and the ``InvoiceIssued`` or ``RefundIssued`` event it comes from. The parts
    add up to the window's figures before they are rounded to show (a report rounds
    recognized cumulatively: see ``revenue_reports``)."""
    check_days(start, end)
    lo, hi = midnight(start), midnight(end + timedelta(days=1))
    lo_us, hi_us = microseconds(lo), microseconds(hi)
    settled, settled_params = standpoint.lines("l.")
    filters = [
        settled,
        f"l.amount <> '{fraction_text(Fraction(0))}'",  # adds nothing to any figure
        # a part served in [lo, hi), or a part for service after hi paid before hi
        "((l.end_us > l.start_us AND l.start_us < ? AND l.end_us > ?)"
        " OR (l.end_us = l.start_us AND l.start_us >= ? AND l.start_us < ?)"
        " OR (l.end_us > ? AND l.settled_us < ?))",
    ]
    values: list[Any] = [*settled_params, hi_us, lo_us, lo_us, hi_us, hi_us, hi_us]
    _equal(filters, values, ("l.currency", currency and currency.upper()), ("l.subscription_id", subscription_id))
    with store.transaction() as tx:
        rows = tx.execute(
            "SELECT l.subscription_id, l.currency, l.kind, l.amount, l.start_at, l.end_at, l.settled_at,"
            " l.source, c.event_id, c.position FROM view_revenue_lines l"
            " LEFT JOIN view_revenue_cash c ON c.source = l.source AND c.subscription_id = l.subscription_id"
            " AND c.kind IN ('billed', 'refunded')"
            f" WHERE {' AND '.join(filters)}"
            " ORDER BY l.settled_us, l.start_us, l.source, l.kind, l.amount LIMIT ? OFFSET ?",
            (*values, limit + 1, after)).fetchall()
    items = []
    for subscription, cur, kind, amount, start_at, end_at, settled_at, source, event_id, event_position in rows[:limit]:
        line = RevenueLine(parse_fraction(amount), cur, parse_instant(start_at), parse_instant(end_at),
                           parse_instant(settled_at), kind, source)
        items.append({
            "subscription_id": subscription, "currency": cur, "kind": kind, "source": source,
            "amount": money(line.amount), "service_start": start_at, "service_end": end_at,
            "settled_at": settled_at, "recognized": money(line.within(lo, hi)),
            "deferred": money(line.unserved(hi) if line.settled_at < hi else Fraction(0)),
            "event_id": event_id, "position": event_position,
        })
    return _page(items, more=len(rows) > limit, after=after, limit=limit)
