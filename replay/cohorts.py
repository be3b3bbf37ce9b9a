"""Cohorts: subscribers and MRR retained by signup month, as a matrix.

A subscriber's cohort (in a currency) is the month of their ``new`` movement: the first
time they had MRR > 0 in that currency (docs/business-rules.md). The window's months are the
report buckets of ``/reports/mrr?interval=month`` (from ``from`` to the next month's first
instant, ..., the last one ending after ``to``). For each cohort and each of its months from
the first, as at the month's end (events effective strictly before it, as the reports read
MRR):

- ``subscribers``: the cohort's members with MRR > 0;
- ``mrr``: their MRR;
- ``subscriber_retention`` = subscribers / the cohort's size;
- ``mrr_retention`` = mrr / the MRR the cohort started with (the sum of its ``new``
  movements); a rate whose denominator is 0 is null.

A member who churns and comes back counts again from the month they are back: retention is
who pays at the month's end, not who never left.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any

from subledger.domain.errors import InvalidWindow
from subledger.domain.money import round_rate
from subledger.domain.movements import NEW, movements
from subledger.domain.mrr import MrrPoint, mrr_before
from subledger.projections.report_window import Window, choose_currency, money

from .book import Book
from .figures import head

MAX_MONTHS = 240
"""The most months a matrix covers: it holds a cell per cohort and month after it, so its
size grows as the square of its months."""


@dataclass
class _Cohort:
    start: datetime
    members: list[list[MrrPoint]] = field(default_factory=list)
    starting_mrr: Fraction = Fraction(0)


def cohort_report(book: Book, window: Window, currency: str | None,
                  as_known_at: datetime | None) -> dict[str, Any]:
    """The cohort matrix of ``window`` (its interval is the month), folded from the book."""
    window = Window(window.start, window.end, "month")
    buckets = check_months(window)
    timelines = book.timelines()
    currency = choose_currency(book.currencies(timelines), currency)
    answer = head(window, currency, as_known_at, book.position)
    del answer["interval"]
    if currency is None:
        return {**answer, "cohorts": []}
    cohorts = [_Cohort(start) for start, _ in buckets]
    starts = [start for start, _ in buckets]
    for timeline in timelines.values():
        first = next((m for m in movements(timeline) if m.currency == currency and m.kind == NEW), None)
        if first is None or not buckets[0][0] <= first.at < buckets[-1][1]:
            continue
        cohort = cohorts[bisect_right(starts, first.at) - 1]
        cohort.members.append(timeline)
        cohort.starting_mrr += first.amount
    rows = [_row(cohort, buckets[index:], currency) for index, cohort in enumerate(cohorts)]
    return {**answer, "cohorts": rows}


def check_months(window: Window) -> list[tuple[datetime, datetime]]:
    """The window's months, or :class:`InvalidWindow` (a window the reports refuse, or more
    than :data:`MAX_MONTHS` months)."""
    buckets = list(Window(window.start, window.end, "month").buckets())
    if len(buckets) > MAX_MONTHS:
        raise InvalidWindow(f"a cohort matrix covers at most {MAX_MONTHS} months")
    return buckets


def _row(cohort: _Cohort, months: list[tuple[datetime, datetime]], currency: str) -> dict[str, Any]:
    size = len(cohort.members)
    cells = []
    for offset, (start, end) in enumerate(months):
        held = [mrr_before(t, end).get(currency, Fraction(0)) for t in cohort.members]
        retained = sum(1 for value in held if value > 0)
        mrr = sum(held, Fraction(0))
        cells.append({
            "month": start.date().isoformat(), "offset": offset, "subscribers": retained,
            "mrr": money(mrr), "subscriber_retention": _rate(Fraction(retained), Fraction(size)),
            "mrr_retention": _rate(mrr, cohort.starting_mrr),
        })
    return {"cohort": cohort.start.date().isoformat(), "subscribers": size,
            "mrr": money(cohort.starting_mrr), "months": cells}


def _rate(numerator: Fraction, denominator: Fraction) -> str | None:
    return None if denominator == 0 else str(round_rate(numerator / denominator))


def cohort_rows(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The matrix as rows (one per cohort and month): for CSV and tables."""
    return [{"cohort": c["cohort"], "cohort_subscribers": c["subscribers"], "cohort_mrr": c["mrr"], **cell}
            for c in answer["cohorts"] for cell in c["months"]]


def cohort_matrix(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The matrix for a person: a row per cohort, a column per month since signup, each
    cell ``subscribers retained / MRR retained``."""
    return [{"cohort": c["cohort"], "subscribers": c["subscribers"], "mrr": c["mrr"],
             **{f"m{cell['offset']}": f"{cell['subscribers']} / {cell['mrr']}" for cell in c["months"]}}
            for c in answer["cohorts"]]
