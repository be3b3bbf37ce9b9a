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

from .day_summary import Change, DaySummary
from .recognition import EPOCH, Line

RECOGNITION_DAYS = DaySummary("view_revenue_recognition_days")
DAY_US = 86_400_000_000
KINDS = ("served_slope", "served_constant", "deferred_slope", "deferred_constant")


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
