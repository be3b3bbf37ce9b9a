"""Revenue recognition from per-day summaries: R(t) and D(t) (see :mod:`.recognition`) at
UTC midnights, read from a few rows per day whatever the number of revenue lines.

At midnights, each line's served part R and deferred part D are piecewise linear in ``t``
(integer microseconds): ``slope x t + constant`` on each phase. The model stores, per
currency and day, the change each line makes to the slope and the constant of R and D from
that day's midnight on (four kinds, at most two days per kind and line), in a
:class:`.day_summary.DaySummary` stamped with the line's ``recorded_at``: the version
believed at K adds up exactly the lines recorded by K. R and D at a midnight are then the
sums of the changes of every day up to it, exact ``Fraction``s: the same values as the line
sweep (:func:`.recognition.at_boundaries`), so the same rounding, cent for cent.

The summaries hold every line whenever it was settled; a report as of T takes off the lines
settled after T (recorded by K), swept from ``view_revenue_lines``: none when T is now
(``revenue_reports`` reads them).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from fractions import Fraction
from typing import Any

from subledger.domain.money import GUARD_DIGITS

from .day_summary import Change, DaySummary
from .recognition import EPOCH, Line
from .store import ViewCursor
from .versioned_totals import Values

DAY_US = 86_400_000_000
KINDS = ("served_slope", "served_constant", "deferred_slope", "deferred_constant")
SCALED_DIGITS = GUARD_DIGITS + 19
"""Digits below the hundredth to which each stored total is also kept as an integer
(``scaled``): the guard digits of ``round_minor_sum``, and 19 more because a slope is
multiplied by an instant (fewer than 10**19 microseconds since the epoch)."""


def _scaled(totals: Values) -> str:
    return str(_scaled_parts(totals[0])[0])


def _inexact(totals: Values) -> int:
    return int(_scaled_parts(totals[0])[1] != 0)


def _scaled_parts(total: Fraction) -> tuple[int, int]:
    return divmod(total.numerator * 10 ** (2 + SCALED_DIGITS), total.denominator)


class RecognitionDays(DaySummary):
    """The per-day summaries of the revenue lines. Each total is also stored rounded down to
    :data:`SCALED_DIGITS` digits below the hundredth, and whether that lost anything: the
    exact totals' denominators grow with the variety of service lengths in a day (the least
    common multiple of prorated periods), so reading and adding them up grew with the book,
    where these integers stay a few dozen digits long. A report adds them up into an
    interval that holds the exact value and falls back to the exact totals only when a
    rounding boundary lies inside it."""

    DERIVED = (("scaled", "TEXT", _scaled), ("scaled_inexact", "BIGINT", _inexact))

    def read_scaled(self, tx: ViewCursor, currency: str, stop_day: str,
                    believed: tuple[str, tuple[Any, ...]]) -> list[tuple[str, str, int, int]]:
        """(day, kind, scaled, inexact) of each day before ``stop_day``, as believed where
        ``believed`` says."""
        clause, params = believed
        rows = tx.execute(
            f"SELECT day, kind, scaled, scaled_inexact FROM {self.table}"
            f" WHERE currency = ? AND day < ? AND {clause}", (currency, stop_day, *params)).fetchall()
        return [(day, kind, int(scaled), int(inexact)) for day, kind, scaled, inexact in rows]


RECOGNITION_DAYS = RecognitionDays("view_revenue_recognition_days")


def day_text(index: int) -> str:
    """The UTC day ``index`` days after the epoch, as the summaries key it."""
    return datetime.fromtimestamp(index * 86_400, EPOCH.tzinfo).date().isoformat()


def line_changes(start: int, end: int, settled: int, amount: Fraction) -> Iterator[tuple[int, str, Fraction]]:
    """(day index, kind, change) of one line: from that day's midnight on, the kind's value
    moves by the change. Matches :func:`.recognition.at_boundaries` boundary for boundary."""
    settled_after = settled // DAY_US + 1  # first midnight strictly after settlement
    if start == end:
        yield from _span(start // DAY_US + 1, None, "served_constant", amount)
        yield from _span(settled_after, -(-start // DAY_US), "deferred_constant", amount)
        return
    length = end - start
    starts, ends = -(-start // DAY_US), -(-end // DAY_US)  # first midnight at or after each
    slope = amount / length
    yield from _span(starts, ends, "served_slope", slope)
    yield from _span(starts, ends, "served_constant", -slope * start)
    yield from _span(ends, None, "served_constant", amount)
    yield from _span(settled_after, starts, "deferred_constant", amount)
    later = max(settled_after, starts)
    yield from _span(later, ends, "deferred_slope", -slope)
    yield from _span(later, ends, "deferred_constant", slope * end)


def _span(lo: int, hi: int | None, kind: str, value: Fraction) -> Iterator[tuple[int, str, Fraction]]:
    if not value or (hi is not None and lo >= hi):
        return
    yield lo, kind, value
    if hi is not None:
        yield hi, kind, -value


def changes(currency: str, known_at: str, line: Line) -> list[Change]:
    """A stored line's changes to the summaries, believed from ``known_at``."""
    amount = Fraction(line.numerator, line.denominator)
    return [Change(known_at, currency, day_text(day), kind, value, 1)
            for day, kind, value in line_changes(line.start, line.end, line.settled, amount)]
