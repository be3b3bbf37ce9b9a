"""The MRR and churn reports: the MRR bridge bucket by bucket, and churn and retention rates
per period, read from the ``mrr`` read model.

Every figure is a sum of movement rows, and every movement names the events that caused it,
so a figure can be traced to the log (``/reports/mrr/movements``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from subledger.domain.money import round_rate
from subledger.domain.movements import MOVEMENT_KINDS, churn_rates

from .mrr import DAYS, MrrModel, parse_fraction, sortable
from .report_window import (
    Standpoint,
    Window,
    as_of_day_bounds,
    believed,
    money,
    money_added,
    pick_currency,
    report_head,
)
from .store import ViewStore

METRICS_VERSION = MrrModel.metrics_version
"""The version of the MRR, movement and churn definitions the reports are computed with."""


@dataclass(frozen=True)
class Standing:
    """The book at an instant: total MRR and the subscribers with MRR > 0."""

    mrr: Fraction
    subscribers: int


SIGN = {"new": 1, "expansion": 1, "reactivation": 1, "contraction": -1, "churn": -1}
"""Each movement changes its subscriber's MRR by ``SIGN[kind] x amount``."""
HEADCOUNT = {"new": 1, "reactivation": 1, "churn": -1}
"""... and the number of subscribers with MRR > 0 by this."""


@dataclass(frozen=True)
class Flow:
    """One bucket of the MRR bridge: the standing at its start and end, and the sum and
    number of its movements of each kind."""

    start: datetime
    opening: Standing
    sums: dict[str, Fraction]
    counts: dict[str, int]
    closing: Standing
    before: dict[str, Fraction]
    """Each kind's movements summed from the first one up to the bucket's start: the fixed
    origin its sums are rounded from (``report_window.money_added``)."""


class _Tally:
    """Movements added up by kind: an exact sum and a count for each."""

    def __init__(self) -> None:
        self.sums = dict.fromkeys(MOVEMENT_KINDS, Fraction(0))
        self.counts = dict.fromkeys(MOVEMENT_KINDS, 0)

    def add(self, kind: str, total: Fraction, count: int) -> None:
        self.sums[kind] += total
        self.counts[kind] += count

    def moved(self, standing: Standing) -> Standing:
        return Standing(
            standing.mrr + sum((SIGN[k] * v for k, v in self.sums.items()), Fraction(0)),
            standing.subscribers + sum(HEADCOUNT.get(k, 0) * n for k, n in self.counts.items()),
        )


def _flows(store: ViewStore, currency: str, buckets: list[tuple[datetime, datetime]],
           interval: str, standpoint: Standpoint) -> list[Flow]:
    """The MRR bridge, bucket by bucket, from the per-day totals of the movements.

    A subscriber's movements chain (each one's MRR before is the previous one's after, from
    0), so the book's MRR at t is the signed sum of every movement before t, and its
    subscribers with MRR > 0 are its new and reactivation movements less its churns: the
    standing at the window's start adds up the days before it, and each bucket's flows the
    days inside it. The days are the model's per-day totals believed at the standpoint's K
    (``mrr.DAYS``), one row per day and kind whatever the size of the book, ``as_of``'s own
    day included, less that day's movements effective after ``as_of`` (read from the rows).
    Movements after it count nowhere: a bucket ending after it shows the book as of it."""
    first_day, stop_day = sortable(buckets[0][0])[:10], sortable(buckets[-1][1])[:10]
    as_of_day, as_of, next_day = as_of_day_bounds(standpoint)
    clause, params = believed(standpoint.as_known_at)
    width = 10 if interval == "day" else 7  # YYYY-MM-DD or YYYY-MM of the day
    with store.transaction() as tx:
        days = DAYS.read(tx, currency, "", min(stop_day, next_day), (clause, params))
        if as_of_day < stop_day:
            days += [(as_of_day, kind, -parse_fraction(amount) * int(count), -int(count))
                     for kind, amount, count in tx.execute(
                         "SELECT kind, amount, count(*) FROM view_mrr_movements"
                         f" WHERE currency = ? AND at > ? AND at < ? AND {clause} GROUP BY kind, amount",
                         (currency, as_of, next_day, *params)).fetchall()]
    opening = _Tally()
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    for day, kind, total, count in days:
        (opening if day < first_day else tallies[day[:width]]).add(kind, total, count)
    standing = opening.moved(Standing(Fraction(0), 0))
    before = dict(opening.sums)
    out = []
    for start, _end in buckets:
        tally = tallies.get(sortable(start)[:width], _Tally())
        closing = tally.moved(standing)
        out.append(Flow(start, standing, tally.sums, tally.counts, closing, dict(before)))
        standing = closing
        before = {kind: before[kind] + tally.sums[kind] for kind in MOVEMENT_KINDS}
    return out


def mrr_report(store: ViewStore, window: Window, currency: str | None,
               standpoint: Standpoint) -> dict[str, Any]:
    """Per bucket: MRR and ARR as of the bucket's end, the movements in it, and the number
    of subscribers with MRR > 0 at its end. MRR(end) = MRR(start) + new + expansion +
    reactivation - contraction - churn, bucket by bucket, exactly (each figure is rounded
    to show: MRR as a state, movements where they are summed up, so that the buckets of a
    window add up to a wider one)."""
    buckets = list(window.buckets())
    currency = pick_currency(store, currency, standpoint.as_known_at)
    head = report_head(store, window, currency, standpoint, "mrr", METRICS_VERSION)
    if currency is None:
        return {**head, "buckets": []}
    out = [
        {"date": flow.start.date().isoformat(), "mrr": money(flow.closing.mrr),
         "arr": money(12 * flow.closing.mrr),
         **{k: money_added(flow.before[k], v) for k, v in flow.sums.items()},
         "subscribers": flow.closing.subscribers}
        for flow in _flows(store, currency, buckets, window.interval, standpoint)
    ]
    return {**head, "buckets": out}


def churn_report(store: ViewStore, window: Window, currency: str | None,
                 standpoint: Standpoint) -> dict[str, Any]:
    """Per period [start, end): customers and MRR at the start, churned customers (churn
    movements), and the rates of docs/business-rules.md (null when a denominator is 0)."""
    periods = list(window.buckets())
    currency = pick_currency(store, currency, standpoint.as_known_at)
    head = report_head(store, window, currency, standpoint, "mrr", METRICS_VERSION)
    if currency is None:
        return {**head, "periods": []}
    out = []
    for flow in _flows(store, currency, periods, window.interval, standpoint):
        rates = churn_rates(
            customers_start=flow.opening.subscribers, churned_customers=flow.counts["churn"],
            mrr_start=flow.opening.mrr, churn=flow.sums["churn"],
            contraction=flow.sums["contraction"], expansion=flow.sums["expansion"],
            reactivation=flow.sums["reactivation"],
        )
        out.append({
            "period_start": flow.start.date().isoformat(), "customers_start": flow.opening.subscribers,
            "churned_customers": flow.counts["churn"], "mrr_start": money(flow.opening.mrr),
            **{name: None if value is None else str(round_rate(value)) for name, value in rates.items()},
        })
    return {**head, "periods": out}
