"""The revenue report, read from the ``revenue`` read model: per bucket, the cash billed,
collected and refunded, the revenue recognized in it and what is deferred at its end.

Cash figures are sums of the cash rows (one per invoice, charge or refund, with its event);
recognized and deferred come from the paid revenue lines, each served evenly per second
over its service period. The report reads them from the per-day summaries of the lines
(:mod:`.recognition_days`: a few rows per day whatever the number of lines);
:func:`line_recognition` sweeps the lines themselves (:mod:`.recognition`), which the
summaries must equal cent for cent.
Everything counts as of the report's ``as_of`` (:class:`.report_window.Standpoint`), not
of its window's end: the cash rows effective by then, and every line settled by then, so an
invoice paid after its service month counts in that month in every window.

Recognized revenue is rounded cumulatively, so that rows add up. With R(t) the revenue
served before t since a fixed origin, a bucket ``[s, e)`` recognizes
``round(R(e)) - round(R(s))``: the days of a month add up to the month exactly, and a bucket
reads the same in every window. The line sweep's R(t) needs the lines that ended before the window, but only
their total below a whole minor unit: rounding to hundredths (half-even) commutes with
adding a whole number, so the whole part cancels in every difference. Invoice lines are
whole minor units; only a refund's share of a line may not be, and the model keeps each
line's part below a whole unit (``fraction``, NULL when there is none), so the lines before
the window are a read of those few rows, whatever the length of the history.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from subledger.domain.money import floor_sum, round_minor_between, round_minor_sum

from .mrr import parse_fraction, sortable
from .recognition import Boundary, Line, Parts, at_boundaries, difference, microseconds, plus
from .recognition_days import DAY_US, KINDS, RECOGNITION_DAYS, SCALED_DIGITS, day_text
from .report_window import (
    Standpoint,
    Window,
    as_of_day_bounds,
    believed,
    pick_currency,
    recorded_by,
    report_head,
)
from .revenue import CASH_DAYS, RevenueModel
from .store import ViewCursor, ViewStore

REVENUE_VERSION = RevenueModel.metrics_version
RowT = TypeVar("RowT", bound=tuple[Any, ...])


def revenue_report(store: ViewStore, window: Window, currency: str | None,
                   standpoint: Standpoint) -> dict[str, Any]:
    """Per bucket: billed (invoice totals), collected (succeeded charges), refunded, net
    (collected - refunded), recognized (paid lines evenly per second over their service),
    and deferred at the bucket's end (collected for service after it, less its refunds)."""
    buckets = list(window.buckets())
    currency = pick_currency(store, currency, standpoint.as_known_at)
    head = report_head(store, window, currency, standpoint, "revenue", REVENUE_VERSION)
    if currency is None:
        return {**head, "buckets": []}
    boundaries = [microseconds(start) for start, _ in buckets] + [microseconds(buckets[-1][1])]
    with store.transaction() as tx:
        cash = _cash_by_day(tx, currency, buckets, standpoint)
        at = summary_recognition(tx, currency, boundaries, standpoint)
    served = [served for served, _ in at]
    cash_days = [day for _, day, _ in cash]
    out = []
    for index, (start, end) in enumerate(buckets):
        sums = {"billed": 0, "collected": 0, "refunded": 0}
        for kind, _, value in cash[bisect_left(cash_days, _day(start)):bisect_left(cash_days, _day(end))]:
            sums[kind] += int(value)
        out.append({
            "date": start.date().isoformat(), "billed": sums["billed"], "collected": sums["collected"],
            "refunded": sums["refunded"], "net": sums["collected"] - sums["refunded"],
            "recognized": str(served[index + 1] - served[index]),
            # Like MRR, "at the bucket's end" counts what happened strictly before it.
            "deferred": str(at[index + 1][1]),
        })
    return {**head, "buckets": out}


def _cash_by_day(tx: ViewCursor, currency: str, buckets: list[tuple[datetime, datetime]],
                 standpoint: Standpoint) -> list[tuple[Any, ...]]:
    """(kind, day, sum) of the window's cash effective by ``as_of`` and recorded by K, by
    day, from the model's per-day totals (``revenue.CASH_DAYS``, one row per day and figure
    whatever the size of the book), ``as_of``'s own day included. That day's rows effective
    after ``as_of`` are then taken off, summed by the database: as of now, the few dated
    up to the clock's tolerance ahead, instead of every row of the day so far."""
    first_day, stop_day = _day(buckets[0][0]), _day(buckets[-1][1])
    as_of_day, as_of, next_day = as_of_day_bounds(standpoint)
    known = believed(standpoint.as_known_at)
    found = [(kind, day, int(total)) for day, kind, total, _count in
             CASH_DAYS.read(tx, currency, first_day, min(stop_day, next_day), known)]
    if first_day <= as_of_day < stop_day:
        recorded, params = recorded_by(standpoint.as_known_at)
        found += [(kind, day, -int(total)) for kind, day, total in tx.execute(
            "SELECT kind, day, sum(amount) FROM view_revenue_cash"
            f" WHERE currency = ? AND at > ? AND at < ? AND {recorded} GROUP BY kind, day",
            (currency, as_of, next_day, *params)).fetchall()]
    return sorted(found, key=lambda row: row[1])


def summary_recognition(tx: ViewCursor, currency: str, boundaries: list[int],
                        standpoint: Standpoint) -> list[tuple[Decimal, Decimal]]:
    """(R rounded, D rounded) at each boundary, from the per-day summaries
    (:mod:`.recognition_days`): what the report reads. Each value is first decided from the
    summaries' scaled totals; the exact totals are read only if one of them is not (its
    value within ``10**-24`` of a half hundredth: in practice a true tie)."""
    out: list[tuple[Decimal, Decimal]] = []
    exact: list[tuple[Parts, Parts]] | None = None
    for index, values in enumerate(scaled_at_midnights(tx, currency, boundaries, standpoint)):
        rounded = [round_minor_between(low, width, SCALED_DIGITS) for low, width in values]
        if None in rounded:
            exact = exact or at_midnights(tx, currency, boundaries, standpoint)
            rounded = [round_minor_sum(parts) if value is None else value
                       for value, parts in zip(rounded, exact[index], strict=True)]
        out.append((rounded[0], rounded[1]))  # type: ignore[arg-type]
    return out


Interval = tuple[int, int]
"""``(low, width)``: a value x 10**(2 + SCALED_DIGITS) that is ``low`` when ``width`` is 0,
else strictly between ``low`` and ``low + width`` (see ``round_minor_between``)."""


def scaled_at_midnights(tx: ViewCursor, currency: str, boundaries: list[int],
                        standpoint: Standpoint) -> list[tuple[Interval, Interval]]:
    """:func:`at_midnights` from the scaled totals, as intervals. Each total is stored rounded
    down, so a day's slope is off by less than one unit times ``t`` (``t`` > 0), a constant
    by less than one unit, and only those that lost something widen the interval."""
    stop = day_text(boundaries[-1] // DAY_US + 1)
    rows = RECOGNITION_DAYS.read_scaled(tx, currency, stop, believed(standpoint.as_known_at))
    sums = {kind: [0, 0] for kind in KINDS}
    out: list[tuple[Interval, Interval]] = []
    for t, reached in _days_up_to(rows, boundaries):
        for _day, kind, scaled, inexact in reached:
            sums[kind][0] += scaled
            sums[kind][1] += inexact
        out.append((_interval_at(sums["served_slope"], sums["served_constant"], t),
                    _interval_at(sums["deferred_slope"], sums["deferred_constant"], t)))
    later = _settled_later(tx, currency, boundaries, standpoint)
    if later is None:
        return out
    return [(_less(served, _interval(at.served)), _less(deferred, _interval(at.deferred)))
            for (served, deferred), at in zip(out, later, strict=True)]


def _interval_at(slope: list[int], constant: list[int], t: int) -> Interval:
    return slope[0] * t + constant[0], slope[1] * t + constant[1]


def _interval(parts: Parts) -> Interval:
    return floor_sum(parts, SCALED_DIGITS)


def _less(value: Interval, other: Interval) -> Interval:
    """``value - other``: lowest when ``other`` is highest, and the widths add up."""
    return value[0] - other[0] - other[1], value[1] + other[1]


def line_recognition(tx: ViewCursor, currency: str, boundaries: list[int],
                     standpoint: Standpoint) -> list[tuple[Decimal, Decimal]]:
    """The same from the lines themselves (R up to a whole number, which cancels in every
    bucket): the sweep the summaries must agree with, cent for cent."""
    rows = _lines(tx, currency, boundaries, standpoint)
    carried = _carried(tx, currency, boundaries[0], standpoint)
    amount = _Amounts()
    at = at_boundaries((Line(s, e, t, *amount(a)) for a, s, e, t in rows), boundaries)
    return [(round_minor_sum(plus(boundary.served, carried)), round_minor_sum(boundary.deferred))
            for boundary in at]


def _lines(tx: ViewCursor, currency: str, boundaries: list[int],
           standpoint: Standpoint) -> list[tuple[Any, ...]]:
    """The lines settled by ``as_of`` that the window's boundaries see: still served at its
    start, and starting or settled before its end. One that starts after the window and was
    settled after it changes no boundary: nothing of it is served, nothing deferred."""
    settled, params = standpoint.lines()
    first, last = boundaries[0], boundaries[-1]
    return tx.execute(
        "SELECT amount, start_us, end_us, settled_us FROM view_revenue_lines"
        f" WHERE currency = ? AND end_us >= ? AND (start_us < ? OR settled_us < ?) AND {settled}",
        (currency, first, last, last, *params)).fetchall()


def _carried(tx: ViewCursor, currency: str, first: int, standpoint: Standpoint) -> Parts:
    """What the lines settled by ``as_of`` that ended before the window hold below a whole
    minor unit: all R(t) needs of them (see the module)."""
    settled, params = standpoint.lines()
    rows = tx.execute(
        "SELECT fraction FROM view_revenue_lines"
        f" WHERE currency = ? AND fraction IS NOT NULL AND end_us < ? AND {settled}",
        (currency, first, *params)).fetchall()
    carried: Parts = {}
    for (text,) in rows:
        value = parse_fraction(text)
        carried[value.denominator] = carried.get(value.denominator, 0) + value.numerator
    return carried


def at_midnights(tx: ViewCursor, currency: str, boundaries: list[int],
                 standpoint: Standpoint) -> list[tuple[Parts, Parts]]:
    """(R, D) at each of ``boundaries`` (ascending UTC midnights, in microseconds) of the
    lines recorded by K and settled by ``as_of``, exact, as parts: adding the days' totals
    up as one ``Fraction`` would carry the least common multiple of every service length of
    the book (prorated periods) through each addition."""
    stop = day_text(boundaries[-1] // DAY_US + 1)
    rows = RECOGNITION_DAYS.read(tx, currency, "", stop, believed(standpoint.as_known_at))
    sums: dict[str, Parts] = {kind: {} for kind in KINDS}
    out: list[tuple[Parts, Parts]] = []
    for t, reached in _days_up_to(rows, boundaries):
        for _day, kind, total, _count in reached:
            parts = sums[kind]
            parts[total.denominator] = parts.get(total.denominator, 0) + total.numerator
        out.append((_line_at(sums["served_slope"], sums["served_constant"], t),
                    _line_at(sums["deferred_slope"], sums["deferred_constant"], t)))
    return _less_settled_later(tx, currency, boundaries, standpoint, out)


def _days_up_to(rows: list[RowT], boundaries: list[int]) -> Iterator[tuple[int, list[RowT]]]:
    """Each boundary, with the rows (day first) of the days up to its own that no earlier
    boundary had: the days' changes apply from their midnight on."""
    rows = sorted(rows, key=lambda row: row[0])
    index = 0
    for t in boundaries:
        day = day_text(t // DAY_US)
        start = index
        while index < len(rows) and rows[index][0] <= day:
            index += 1
        yield t, rows[start:index]


def _line_at(slope: Parts, constant: Parts, t: int) -> Parts:
    """``slope x t + constant``, as parts."""
    return plus({denominator: numerator * t for denominator, numerator in slope.items()}, constant)


def _less_settled_later(tx: ViewCursor, currency: str, boundaries: list[int], standpoint: Standpoint,
                        values: list[tuple[Parts, Parts]]) -> list[tuple[Parts, Parts]]:
    """``values`` less what the lines settled after ``as_of`` (recorded by K) add to them."""
    later = _settled_later(tx, currency, boundaries, standpoint)
    if later is None:
        return values
    return [(difference(served, at.served), difference(deferred, at.deferred))
            for (served, deferred), at in zip(values, later, strict=True)]


def _settled_later(tx: ViewCursor, currency: str, boundaries: list[int],
                   standpoint: Standpoint) -> list[Boundary] | None:
    """What the lines settled after ``as_of`` (recorded by K) add at each boundary: the
    summaries hold every line, the report as of T none of those (None when there are none)."""
    clause, params = recorded_by(standpoint.as_known_at)
    rows: list[tuple[Any, ...]] = tx.execute(
        "SELECT amount, start_us, end_us, settled_us FROM view_revenue_lines"
        f" WHERE currency = ? AND settled_us > ? AND {clause}",
        (currency, microseconds(standpoint.as_of), *params)).fetchall()
    if not rows:
        return None
    lines = []
    for amount, start, end, settled in rows:
        value = parse_fraction(amount)
        lines.append(Line(int(start), int(end), int(settled), value.numerator, value.denominator))
    return at_boundaries(lines, boundaries)


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
