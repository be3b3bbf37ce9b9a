"""The revenue report, read from the ``revenue`` read model: per bucket, the cash billed,
collected and refunded, the revenue recognized in it and what is deferred at its end.

Cash figures are sums of the cash rows (one per invoice, charge or refund, with its event);
recognized and deferred come from the paid revenue lines, each served evenly per second
over its service period (:mod:`.recognition` adds them up at the buckets' boundaries).
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import datetime
from typing import Any

from subledger.domain.money import round_minor_sum

from .mrr import parse_fraction, sortable
from .recognition import Line, at_boundaries, difference, microseconds
from .report_window import Window, pick_currency, recorded_by, report_head
from .revenue import RevenueModel
from .store import ViewStore

REVENUE_VERSION = RevenueModel.metrics_version


def revenue_report(store: ViewStore, window: Window, currency: str | None,
                   as_known_at: datetime | None) -> dict[str, Any]:
    """Per bucket: billed (invoice totals), collected (succeeded charges), refunded, net
    (collected - refunded), recognized (paid lines evenly per second over their service),
    and deferred at the bucket's end (collected for service after it, less its refunds)."""
    buckets = list(window.buckets())
    currency = pick_currency(store, currency, as_known_at)
    head = report_head(store, window, currency, as_known_at, "revenue", REVENUE_VERSION)
    if currency is None:
        return {**head, "buckets": []}
    stop = sortable(buckets[-1][1])
    boundaries = [microseconds(start) for start, _ in buckets] + [microseconds(buckets[-1][1])]
    known, known_params = recorded_by(as_known_at)
    with store.transaction() as tx:
        # Summed per day by the database (buckets are whole UTC days): a few rows per day
        # instead of every invoice, charge and refund.
        cash = tx.execute(
            "SELECT kind, day, sum(amount) FROM view_revenue_cash"
            f" WHERE currency = ? AND at >= ? AND at < ? AND {known} GROUP BY kind, day ORDER BY day",
            (currency, sortable(buckets[0][0]), stop, *known_params)).fetchall()
        # The lines settled by the window's end. One that ended before it starts changes
        # no bucket: neither its recognition (all before) nor what is deferred (nothing).
        rows = tx.execute(
            "SELECT amount, start_us, end_us, settled_us FROM view_revenue_lines"
            f" WHERE currency = ? AND settled_us < ? AND end_us >= ? AND {known}",
            (currency, boundaries[-1], boundaries[0], *known_params)).fetchall()
    amount = _Amounts()
    at = at_boundaries((Line(s, e, t, *amount(a)) for a, s, e, t in rows), boundaries)
    cash_days = [day for _, day, _ in cash]
    out = []
    for index, (start, end) in enumerate(buckets):
        sums = {"billed": 0, "collected": 0, "refunded": 0}
        for kind, _, value in cash[bisect_left(cash_days, _day(start)):bisect_left(cash_days, _day(end))]:
            sums[kind] += int(value)
        opening, closing = at[index], at[index + 1]
        out.append({
            "date": start.date().isoformat(), "billed": sums["billed"], "collected": sums["collected"],
            "refunded": sums["refunded"], "net": sums["collected"] - sums["refunded"],
            "recognized": str(round_minor_sum(difference(closing.served, opening.served))),
            # Like MRR, "at the bucket's end" counts what happened strictly before it.
            "deferred": str(round_minor_sum(closing.deferred)),
        })
    return {**head, "buckets": out}


class _Amounts:
    """Text fractions of the line amounts as (numerator, denominator), parsed once each
    (amounts repeat a lot: prices)."""

    def __init__(self) -> None:
        self._parsed: dict[str, tuple[int, int]] = {}

    def __call__(self, text: str) -> tuple[int, int]:
        value = self._parsed.get(text)
        if value is None:
            fraction = parse_fraction(text)
            value = self._parsed[text] = (fraction.numerator, fraction.denominator)
        return value


def _day(midnight: datetime) -> str:
    return sortable(midnight)[:10]
