"""The cohort matrix read from the ``mrr`` model's cohort totals (``cohort_summary``).

It answers what ``replay.cohorts.cohort_report`` folds from the log (the definitions are
there), reading one row per cohort day and effective day believed at K instead of every
event: a cohort's cell at a month's end adds up its rows effective before that end, so a
row of the bucket ``b`` counts in every cell from ``b`` on.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime
from fractions import Fraction
from itertools import accumulate
from typing import Any

from subledger.domain.money import round_rate
from subledger.domain.time import isoformat

from .cohort_summary import START
from .mrr import COHORTS, MrrModel
from .report_window import Window, believed, money, pick_currency, position
from .store import ViewStore


def cohort_matrix_report(store: ViewStore, window: Window, buckets: list[tuple[datetime, datetime]],
                         currency: str | None, as_known_at: datetime | None) -> dict[str, Any]:
    """The cohort matrix of ``window``'s months (``buckets``, as ``replay.cohorts.check_months``
    gives them), as known at ``as_known_at``."""
    currency = pick_currency(store, currency, as_known_at)
    head = {"from": window.start.isoformat(), "to": window.end.isoformat(), "currency": currency,
            "as_known_at": None if as_known_at is None else isoformat(as_known_at),
            "position": position(store, MrrModel.name), "metrics_version": MrrModel.metrics_version}
    if currency is None:
        return {**head, "cohorts": []}
    starts = [start.date().isoformat() for start, _ in buckets]
    count = len(buckets)
    sizes = [0] * count
    starting = [Fraction(0)] * count
    subscribers = [[0] * count for _ in range(count)]
    mrr = [[Fraction(0)] * count for _ in range(count)]
    with store.transaction() as tx:
        rows = COHORTS.read(tx, currency, starts[0], buckets[-1][1].date().isoformat(), believed(as_known_at))
    for cohort, day, held, amount in rows:
        row = bisect_right(starts, cohort) - 1
        if day == START:
            sizes[row] += held
            starting[row] += amount
            continue
        column = bisect_right(starts, day) - 1
        subscribers[row][column] += held
        mrr[row][column] += amount
    return {**head, "cohorts": [
        _row(starts, index, sizes[index], starting[index], subscribers[index], mrr[index])
        for index in range(count)]}


def _row(starts: list[str], index: int, size: int, starting: Fraction, subscribers: list[int],
         mrr: list[Fraction]) -> dict[str, Any]:
    retained, held = list(accumulate(subscribers)), list(accumulate(mrr))
    cells = [{"month": starts[column], "offset": column - index, "subscribers": retained[column],
              "mrr": money(held[column]), "subscriber_retention": _rate(Fraction(retained[column]), Fraction(size)),
              "mrr_retention": _rate(held[column], starting)}
             for column in range(index, len(starts))]
    return {"cohort": starts[index], "subscribers": size, "mrr": money(starting), "months": cells}


def _rate(numerator: Fraction, denominator: Fraction) -> str | None:
    return None if denominator == 0 else str(round_rate(numerator / denominator))
