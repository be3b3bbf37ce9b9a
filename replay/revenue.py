"""The built-in revenue figures folded straight from the log, in the shape of
``/reports/revenue``: per bucket the cash billed, collected and refunded by effective time,
the revenue recognized in it and what is deferred at its end.

The lines are the domain's (``domain.revenue.revenue_lines``: paid invoice lines and what
refunds take off them); they are added up at the buckets' boundaries by the same sweep the
report uses (``projections.recognition``), over the lines paid by the window's end.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import datetime
from typing import Any

from subledger.domain.money import round_minor_sum
from subledger.domain.revenue import revenue_lines
from subledger.domain.time import parse_instant
from subledger.projections.recognition import Line, at_boundaries, difference, microseconds
from subledger.projections.report_window import Window, choose_currency
from subledger.projections.revenue_reports import REVENUE_VERSION

from .book import Book
from .figures import head

CASH = {"InvoiceIssued": ("billed", "total"), "ChargeSucceeded": ("collected", "amount"),
        "RefundIssued": ("refunded", "amount")}
"""event type -> (the cash figure it adds to, the field of its amount)"""


def revenue_report(book: Book, window: Window, currency: str | None,
                   as_known_at: datetime | None) -> dict[str, Any]:
    """``/reports/revenue``'s answer, folded from the book."""
    buckets = list(window.buckets())
    currency = choose_currency(book.currencies(book.timelines()), currency)
    if currency is None:
        return {**head(window, None, as_known_at, book.position, REVENUE_VERSION), "buckets": []}
    events = [e for e in book.cash_events() if e["data"]["currency"] == currency]
    boundaries = [microseconds(start) for start, _ in buckets] + [microseconds(buckets[-1][1])]
    lines = [
        Line(microseconds(line.start), microseconds(line.end), microseconds(line.settled_at),
             line.amount.numerator, line.amount.denominator)
        for line in revenue_lines(events) if line.currency == currency
    ]
    paid = [line for line in lines if line.settled < boundaries[-1] and line.end >= boundaries[0]]
    at = at_boundaries(paid, boundaries)
    cash = sorted(((parse_instant(e["effective_at"]), *CASH[e["type"]], e["data"]) for e in events),
                  key=lambda row: row[0])
    instants = [row[0] for row in cash]
    rows = []
    for index, (start, end) in enumerate(buckets):
        sums = {"billed": 0, "collected": 0, "refunded": 0}
        for _, figure, field, data in cash[bisect_left(instants, start):bisect_left(instants, end)]:
            sums[figure] += int(data[field])
        opening, closing = at[index], at[index + 1]
        rows.append({
            "date": start.date().isoformat(), **sums, "net": sums["collected"] - sums["refunded"],
            "recognized": str(round_minor_sum(difference(closing.served, opening.served))),
            "deferred": str(round_minor_sum(closing.deferred)),
        })
    return {**head(window, currency, as_known_at, book.position, REVENUE_VERSION), "buckets": rows}
