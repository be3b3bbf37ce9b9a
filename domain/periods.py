"""Calendar billing periods anchored at the billing anchor.

Period ``n`` runs from ``anchor + n intervals`` to ``anchor + (n+1) intervals``, each
computed from the anchor, never from the previous end, and clamped to the month's last
day: anchor Jan 31 gives Feb 28 (29), Mar 31, Apr 30; anchor Feb 29 2024 yearly gives
Feb 28 2025, Feb 28 2026, Feb 29 2028.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .errors import InvalidInput


class Interval(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    @property
    def months(self) -> int:
        return _MONTHS[self]

    @classmethod
    def parse(cls, value: str) -> Interval:
        try:
            return cls(value)
        except ValueError:
            raise InvalidInput(
                f"interval must be one of month, quarter, year (got {value!r})"
            ) from None


_MONTHS = {Interval.MONTH: 1, Interval.QUARTER: 3, Interval.YEAR: 12}


def add_months(anchor: datetime, months: int) -> datetime:
    """``anchor`` moved by whole calendar months, the day clamped to the month's last day."""
    index = anchor.year * 12 + (anchor.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    day = min(anchor.day, calendar.monthrange(year, month)[1])
    return anchor.replace(year=year, month=month, day=day)


def period_boundary(anchor: datetime, interval: Interval, n: int) -> datetime:
    """The start of period ``n`` (``n`` = 0 is the period starting at the anchor)."""
    return add_months(anchor, n * interval.months)


@dataclass(frozen=True)
class Period:
    """A half-open service period ``[start, end)``."""

    start: datetime
    end: datetime

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


def nth_period(anchor: datetime, interval: Interval, n: int) -> Period:
    """Period ``n`` of the calendar anchored at ``anchor``."""
    return Period(period_boundary(anchor, interval, n), period_boundary(anchor, interval, n + 1))


def period_index_at(anchor: datetime, interval: Interval, instant: datetime) -> int:
    """The ``n`` of the period containing ``instant`` (``instant >= anchor``)."""
    if instant < anchor:
        raise ValueError("instant precedes the billing anchor")
    months = (instant.year - anchor.year) * 12 + (instant.month - anchor.month)
    n = max(0, months // interval.months - 1)
    while period_boundary(anchor, interval, n + 1) <= instant:
        n += 1
    return n
