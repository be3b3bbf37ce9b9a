"""Calendar billing periods anchored at the billing anchor (docs/business-rules.md, lifecycle)."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.factories import utc

from subledger.domain.errors import InvalidInput
from subledger.domain.periods import (
    Interval,
    Period,
    add_months,
    nth_period,
    period_boundary,
    period_index_at,
)

# -- strategies ------------------------------------------------------------------------------

intervals = st.sampled_from(list(Interval))


@st.composite
def anchors(draw: st.DrawFn) -> datetime:
    """Any UTC instant, with month-end days (28-31) drawn often."""
    year = draw(st.integers(1900, 2300))
    month = draw(st.integers(1, 12))
    last = calendar.monthrange(year, month)[1]
    day = draw(st.one_of(st.integers(1, last), st.integers(max(1, last - 3), last)))
    return datetime(
        year, month, day,
        draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59)),
        draw(st.one_of(st.just(0), st.integers(0, 999_999))),
        tzinfo=UTC,
    )


def month_index(instant: datetime) -> int:
    return instant.year * 12 + instant.month - 1


def last_day(instant: datetime) -> int:
    return calendar.monthrange(instant.year, instant.month)[1]


# -- properties ------------------------------------------------------------------------------


@settings(max_examples=300)
@given(anchor=anchors(), interval=intervals, n=st.integers(0, 300))
def test_period_boundary_is_n_intervals_of_calendar_months_after_the_anchor_clamped_to_month_end(
    anchor: datetime, interval: Interval, n: int
) -> None:
    boundary = period_boundary(anchor, interval, n)

    assert month_index(boundary) - month_index(anchor) == n * interval.months
    assert boundary.day == min(anchor.day, last_day(boundary))
    assert boundary.timetz() == anchor.timetz()
    assert boundary.tzinfo == UTC


@settings(max_examples=200)
@given(anchor=anchors(), interval=intervals, n=st.integers(0, 300))
def test_consecutive_periods_meet_exactly_and_move_strictly_forward(
    anchor: datetime, interval: Interval, n: int
) -> None:
    this, following = nth_period(anchor, interval, n), nth_period(anchor, interval, n + 1)

    assert this.start < this.end
    assert this.end == following.start
    assert following.start < following.end


@settings(max_examples=200)
@given(anchor=anchors(), interval=intervals, n=st.integers(0, 300))
def test_every_boundary_is_computed_from_the_anchor_so_the_anchor_day_comes_back(
    anchor: datetime, interval: Interval, n: int
) -> None:
    boundary = period_boundary(anchor, interval, n)

    # Whenever the month is long enough the anchor's own day is used, whatever
    # shorter months came before (never "previous end + 1 interval").
    if last_day(boundary) >= anchor.day:
        assert boundary.day == anchor.day


@settings(max_examples=300)
@given(
    anchor=anchors(),
    interval=intervals,
    offset=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=366 * 60)),
)
def test_period_index_at_names_the_period_containing_the_instant(
    anchor: datetime, interval: Interval, offset: timedelta
) -> None:
    instant = anchor + offset

    n = period_index_at(anchor, interval, instant)

    assert n >= 0
    assert nth_period(anchor, interval, n).contains(instant)


@settings(max_examples=100)
@given(anchor=anchors(), interval=intervals, n=st.integers(0, 300))
def test_period_index_at_a_boundary_is_the_period_that_starts_there(
    anchor: datetime, interval: Interval, n: int
) -> None:
    assert period_index_at(anchor, interval, period_boundary(anchor, interval, n)) == n


# -- examples from the business rules -----------------------------------------------------------


def test_monthly_boundaries_from_jan_31_clamp_to_feb_28_and_return_to_mar_31() -> None:
    anchor = utc(2026, 1, 31)

    assert [period_boundary(anchor, Interval.MONTH, n) for n in range(5)] == [
        utc(2026, 1, 31),
        utc(2026, 2, 28),
        utc(2026, 3, 31),
        utc(2026, 4, 30),
        utc(2026, 5, 31),
    ]


def test_monthly_period_from_jan_31_of_a_leap_year_clamps_to_feb_29() -> None:
    assert nth_period(utc(2024, 1, 31), Interval.MONTH, 0) == Period(utc(2024, 1, 31), utc(2024, 2, 29))


def test_yearly_boundaries_from_feb_29_are_feb_28_until_the_next_leap_year() -> None:
    anchor = utc(2024, 2, 29)

    assert [period_boundary(anchor, Interval.YEAR, n) for n in range(5)] == [
        utc(2024, 2, 29),
        utc(2025, 2, 28),
        utc(2026, 2, 28),
        utc(2027, 2, 28),
        utc(2028, 2, 29),
    ]


def test_quarterly_boundaries_from_nov_30_keep_the_30th_after_february() -> None:
    anchor = utc(2025, 11, 30, 8, 15)

    assert [period_boundary(anchor, Interval.QUARTER, n) for n in range(4)] == [
        utc(2025, 11, 30, 8, 15),
        utc(2026, 2, 28, 8, 15),
        utc(2026, 5, 30, 8, 15),
        utc(2026, 8, 30, 8, 15),
    ]


def test_monthly_boundary_keeps_the_time_of_day_of_the_anchor() -> None:
    assert period_boundary(utc(2026, 3, 31, 23, 59, 59, 999_999), Interval.MONTH, 1) == utc(
        2026, 4, 30, 23, 59, 59, 999_999
    )


def test_add_months_crosses_the_year_boundary() -> None:
    assert add_months(utc(2025, 12, 31), 2) == utc(2026, 2, 28)


def test_period_contains_its_start_but_not_its_end() -> None:
    period = Period(utc(2026, 1, 31), utc(2026, 2, 28))

    assert period.contains(utc(2026, 1, 31))
    assert period.contains(utc(2026, 2, 27, 23, 59, 59, 999_999))
    assert not period.contains(utc(2026, 2, 28))
    assert not period.contains(utc(2026, 1, 30, 23, 59, 59))


def test_period_index_at_feb_28_of_a_jan_31_calendar_is_the_second_period() -> None:
    anchor = utc(2026, 1, 31)

    assert period_index_at(anchor, Interval.MONTH, utc(2026, 2, 27, 23, 59)) == 0
    assert period_index_at(anchor, Interval.MONTH, utc(2026, 2, 28)) == 1
    assert period_index_at(anchor, Interval.MONTH, utc(2026, 3, 30)) == 1
    assert period_index_at(anchor, Interval.MONTH, utc(2026, 3, 31)) == 2


def test_period_index_at_before_the_anchor_is_refused() -> None:
    with pytest.raises(ValueError):
        period_index_at(utc(2026, 1, 31), Interval.MONTH, utc(2026, 1, 30))


def test_intervals_are_one_three_and_twelve_months() -> None:
    assert (Interval.MONTH.months, Interval.QUARTER.months, Interval.YEAR.months) == (1, 3, 12)


def test_interval_parse_accepts_the_three_names() -> None:
    assert Interval.parse("month") is Interval.MONTH
    assert Interval.parse("quarter") is Interval.QUARTER
    assert Interval.parse("year") is Interval.YEAR


@pytest.mark.parametrize("value", ["week", "Month", "monthly", ""])
def test_interval_parse_refuses_other_names_as_invalid_input(value: str) -> None:
    with pytest.raises(InvalidInput) as info:
        Interval.parse(value)

    assert info.value.code == "invalid-input"
