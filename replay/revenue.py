"""The built-in revenue figures folded straight from the log, in the shape of
``/reports/revenue``: per bucket the cash billed, collected and refunded by effective time,
the revenue recognized in it and what is deferred at its end.

The lines are the domain's (``domain.revenue.revenue_lines``: paid invoice lines and what
refunds, credit notes and balance adjustments take off or add), of the events effective by
the report's ``as_of``; they are added up at the buckets' boundaries by the same sweep the
report uses (``projections.recognition``), recognized revenue rounded where it is summed up
from a fixed origin (every line, not only the window's), as the report rounds it. The cash
figures move by the revenue model's signs (``projections.revenue.CASH``).
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import datetime
from typing import Any

from subledger.domain.money import round_minor_sum
from subledger.domain.revenue import revenue_lines
from subledger.domain.time import parse_instant
from subledger.projections.recognition import Line, at_boundaries, microseconds
from subledger.projections.report_window import Standpoint, Window, choose_currency
from subledger.projections.revenue import CASH, moves_cash
from subledger.projections.revenue_reports import REVENUE_VERSION

from .book import Book, Envelope
from .figures import report_head


def revenue_report(book: Book, window: Window, currency: str | None,
                   standpoint: Standpoint) -> dict[str, Any]:
    """``/reports/revenue``'s answer, folded from the book (read as known at the
    standpoint's K already)."""
    buckets = list(window.buckets())
    currency = choose_currency(book.currencies(book.timelines()), currency)
    if currency is None:
        return {**report_head(window, None, standpoint, book.position, REVENUE_VERSION), "buckets": []}
    events = [e for e in book.cash_events() if e["data"]["currency"] == currency
              and parse_instant(e["effective_at"]) <= standpoint.as_of]
    boundaries = [microseconds(start) for start, _ in buckets] + [microseconds(buckets[-1][1])]
    lines = [
        Line(microseconds(line.start), microseconds(line.end), microseconds(line.settled_at),
             line.amount.numerator, line.amount.denominator)
        for line in revenue_lines(events) if line.currency == currency
    ]
    at = at_boundaries(lines, boundaries)
    served = [round_minor_sum(boundary.served) for boundary in at]
    cash, instants = _cash(events)
    rows = []
    for index, (start, end) in enumerate(buckets):
        sums = {"billed": 0, "collected": 0, "refunded": 0}
        for _, figure, amount in cash[bisect_left(instants, start):bisect_left(instants, end)]:
            sums[figure] += amount
        rows.append({
            "date": start.date().isoformat(), **sums, "net": sums["collected"] - sums["refunded"],
            "recognized": str(served[index + 1] - served[index]),
            "deferred": str(round_minor_sum(at[index + 1].deferred)),
        })
    return {**report_head(window, currency, standpoint, book.position, REVENUE_VERSION), "buckets": rows}


def _cash(events: list[Envelope]) -> tuple[list[tuple[datetime, str, int]], list[datetime]]:
    """(instant, figure, signed amount) of each cash event in effective order, and the
    instants alone (to bisect)."""
    rows = []
    for e in events:
        if not moves_cash(e):
            continue
        figure, field, _source, sign = CASH[e["type"]]
        rows.append((parse_instant(e["effective_at"]), figure, sign * int(e["data"][field])))
    rows.sort(key=lambda row: row[0])
    return rows, [row[0] for row in rows]
