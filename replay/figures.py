"""The built-in MRR figures folded straight from the log: MRR at an instant, the MRR bridge
bucket by bucket, and churn and retention per period, in the very shape of the reports over
the read models (``/reports/mrr``, ``/reports/churn``), so the two can be compared figure
for figure.

The definitions are the domain's (each subscriber's ``mrr_timeline`` and its ``movements``;
``churn_rates``); what is added up is what ``projections/mrr_reports.py`` adds up: the
book's MRR at t is the signed sum of every movement before t, its subscribers with MRR > 0
its new and reactivation movements less its churns. Like the reports, a replayed report
stands as of one instant (``Standpoint.as_of``): only events effective by it count, and
movements are rounded where they are summed up from the first one.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from subledger.domain.money import round_rate
from subledger.domain.movements import MOVEMENT_KINDS, Movement, churn_rates
from subledger.domain.mrr import mrr_as_of
from subledger.domain.time import isoformat
from subledger.projections.mrr import sortable
from subledger.projections.mrr_reports import HEADCOUNT, METRICS_VERSION, SIGN
from subledger.projections.report_window import (
    Standpoint,
    Window,
    choose_currency,
    money,
    money_added,
)

from .book import Book, book_movements


def head(window: Window | None, currency: str | None, as_known_at: datetime | None,
         position: int, version: str = METRICS_VERSION, *,
         as_of: datetime | None = None) -> dict[str, Any]:
    """What a replayed report answers besides its rows, as the reports do (``position``:
    the log position the replay read to; ``as_of`` for the reports that stand as of one)."""
    found: dict[str, Any] = {}
    if window is not None:
        found = {"from": window.start.isoformat(), "to": window.end.isoformat(),
                 "interval": window.interval}
    if as_of is not None:
        found["as_of"] = sortable(as_of)
    return {**found, "currency": currency,
            "as_known_at": None if as_known_at is None else isoformat(as_known_at),
            "position": position, "metrics_version": version}


def mrr_at(book: Book, instant: datetime, currency: str | None,
           as_known_at: datetime | None) -> dict[str, Any]:
    """MRR, ARR and the subscribers with MRR > 0 as of ``instant`` (events effective at or
    before it), per currency (only ``currency`` if named)."""
    timelines = book.timelines()
    totals: dict[str, Fraction] = {}
    counts: dict[str, int] = {}
    for timeline in timelines.values():
        for code, value in mrr_as_of(timeline, instant).items():
            totals[code] = totals.get(code, Fraction(0)) + value
            counts[code] = counts.get(code, 0) + (value > 0)
    wanted = sorted(totals) if currency is None else [currency.upper()]
    rows = [{"currency": code, "mrr": money(totals.get(code, Fraction(0))),
             "arr": money(12 * totals.get(code, Fraction(0))), "subscribers": counts.get(code, 0)}
            for code in wanted]
    return {"at": isoformat(instant), **head(None, currency and currency.upper(), as_known_at, book.position),
            "currencies": rows}


@dataclass
class _Flow:
    start: datetime
    opening: tuple[Fraction, int]
    sums: dict[str, Fraction]
    counts: dict[str, int]
    closing: tuple[Fraction, int]
    before: dict[str, Fraction]
    """Each kind summed from the first movement to the bucket's start."""


def _moved(standing: tuple[Fraction, int], found: Iterable[Movement]) -> tuple[Fraction, int]:
    mrr, subscribers = standing
    for m in found:
        mrr += SIGN[m.kind] * m.amount
        subscribers += HEADCOUNT.get(m.kind, 0)
    return mrr, subscribers


def _sums(found: Iterable[Movement]) -> dict[str, Fraction]:
    listed = list(found)
    return {k: sum((m.amount for m in listed if m.kind == k), Fraction(0)) for k in MOVEMENT_KINDS}


def _flows(book: Book, window: Window, currency: str | None,
           as_of: datetime) -> tuple[str | None, list[_Flow]]:
    buckets = list(window.buckets())
    timelines = book.timelines(as_of)
    currency = choose_currency(book.currencies(book.timelines()), currency)
    if currency is None:
        return None, []
    mine = [m for _, m in book_movements(timelines) if m.currency == currency]
    instants = [m.at for m in mine]  # in order: book_movements sorts by instant
    earlier = mine[:bisect_left(instants, buckets[0][0])]
    standing, before = _moved((Fraction(0), 0), earlier), _sums(earlier)
    flows = []
    for start, end in buckets:
        inside = mine[bisect_left(instants, start):bisect_left(instants, end)]
        sums = _sums(inside)
        counts = {k: sum(1 for m in inside if m.kind == k) for k in MOVEMENT_KINDS}
        closing = _moved(standing, inside)
        flows.append(_Flow(start, standing, sums, counts, closing, before))
        standing, before = closing, {k: before[k] + sums[k] for k in MOVEMENT_KINDS}
    return currency, flows


def mrr_report(book: Book, window: Window, currency: str | None,
               standpoint: Standpoint) -> dict[str, Any]:
    """``/reports/mrr``'s answer, folded from the book (read as known at the standpoint's
    K already)."""
    currency, flows = _flows(book, window, currency, standpoint.as_of)
    rows = [{"date": f.start.date().isoformat(), "mrr": money(f.closing[0]), "arr": money(12 * f.closing[0]),
             **{k: money_added(f.before[k], v) for k, v in f.sums.items()}, "subscribers": f.closing[1]}
            for f in flows]
    return {**report_head(window, currency, standpoint, book.position), "buckets": rows}


def report_head(window: Window, currency: str | None, standpoint: Standpoint, position: int,
                version: str = METRICS_VERSION) -> dict[str, Any]:
    """:func:`head` of a report that stands as of ``standpoint``."""
    return head(window, currency, standpoint.as_known_at, position, version, as_of=standpoint.as_of)


def churn_report(book: Book, window: Window, currency: str | None,
                 standpoint: Standpoint) -> dict[str, Any]:
    """``/reports/churn``'s answer, folded from the book."""
    currency, flows = _flows(book, window, currency, standpoint.as_of)
    rows = []
    for f in flows:
        rates = churn_rates(customers_start=f.opening[1], churned_customers=f.counts["churn"],
                            mrr_start=f.opening[0], churn=f.sums["churn"], contraction=f.sums["contraction"],
                            expansion=f.sums["expansion"], reactivation=f.sums["reactivation"])
        rows.append({"period_start": f.start.date().isoformat(), "customers_start": f.opening[1],
                     "churned_customers": f.counts["churn"], "mrr_start": money(f.opening[0]),
                     **{k: None if v is None else str(round_rate(v)) for k, v in rates.items()}})
    return {**report_head(window, currency, standpoint, book.position), "periods": rows}
