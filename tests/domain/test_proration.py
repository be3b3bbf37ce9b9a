"""Proration of a mid-period change: a credit and a charge, each rounded half-even alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.factories import utc

from subledger.domain.money import MAX_AMOUNT, round_half_even
from subledger.domain.periods import Interval, Period, nth_period
from subledger.domain.proration import prorate, remaining_fraction

# -- strategies ------------------------------------------------------------------------------

amounts = st.integers(0, MAX_AMOUNT)


@st.composite
def periods_and_instants(draw: st.DrawFn) -> tuple[Period, datetime]:
    """A calendar period and an instant inside it (both ends included)."""
    anchor = draw(
        st.datetimes(
            min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
        )
    )
    period = nth_period(anchor, draw(st.sampled_from(list(Interval))), draw(st.integers(0, 24)))
    length = period.end - period.start
    offset = draw(
        st.one_of(
            st.just(timedelta(0)),
            st.just(length),
            st.timedeltas(min_value=timedelta(0), max_value=length),
        )
    )
    return period, period.start + offset


def assert_rounded_half_even(line: int, exact: Fraction) -> None:
    """``line`` is ``exact`` rounded to the nearest integer, ties to the even one."""
    error = abs(line - exact)
    assert error <= Fraction(1, 2)
    if error == Fraction(1, 2):
        assert line % 2 == 0


# -- properties ------------------------------------------------------------------------------


@settings(max_examples=300)
@given(old=amounts, new=amounts, where=periods_and_instants())
def test_credit_is_never_positive_and_charge_never_negative(
    old: int, new: int, where: tuple[Period, datetime]
) -> None:
    period, at = where

    proration = prorate(old, new, period, at)

    assert proration.credit <= 0 <= proration.charge
    assert proration.net == proration.credit + proration.charge


@settings(max_examples=300)
@given(old=amounts, new=amounts, where=periods_and_instants())
def test_each_line_is_its_exact_share_rounded_half_even_on_its_own(
    old: int, new: int, where: tuple[Period, datetime]
) -> None:
    period, at = where
    exact_fraction = Fraction(
        (period.end - at) // timedelta(microseconds=1),
        (period.end - period.start) // timedelta(microseconds=1),
    )

    proration = prorate(old, new, period, at)

    assert proration.fraction == exact_fraction
    assert_rounded_half_even(-proration.credit, old * exact_fraction)
    assert_rounded_half_even(proration.charge, new * exact_fraction)


@settings(max_examples=300)
@given(a=amounts, b=amounts, where=periods_and_instants())
def test_changing_a_to_b_and_back_at_the_same_instant_nets_to_zero_within_one_minor_unit(
    a: int, b: int, where: tuple[Period, datetime]
) -> None:
    period, at = where

    there, back = prorate(a, b, period, at), prorate(b, a, period, at)

    assert abs(there.credit + there.charge + back.credit + back.charge) <= 1


@settings(max_examples=100)
@given(old=amounts, new=amounts, where=periods_and_instants())
def test_at_the_period_start_the_whole_old_price_is_credited_and_the_whole_new_price_charged(
    old: int, new: int, where: tuple[Period, datetime]
) -> None:
    period, _ = where

    proration = prorate(old, new, period, period.start)

    assert (proration.credit, proration.charge, proration.fraction) == (-old, new, 1)


@settings(max_examples=100)
@given(old=amounts, new=amounts, where=periods_and_instants())
def test_at_the_period_end_nothing_is_credited_or_charged(
    old: int, new: int, where: tuple[Period, datetime]
) -> None:
    period, _ = where

    proration = prorate(old, new, period, period.end)

    assert (proration.credit, proration.charge, proration.fraction) == (0, 0, 0)


@given(value=st.fractions(max_denominator=10**9).filter(lambda f: abs(f) < 10**15))
def test_round_half_even_of_a_fraction_is_pythons_bankers_rounding(value: Fraction) -> None:
    # Python's round() on a Fraction rounds half to even: an independent oracle.
    assert round_half_even(value) == round(value)


# -- examples --------------------------------------------------------------------------------

THIRTY_DAYS = Period(utc(2026, 4, 1), utc(2026, 5, 1))


def test_upgrade_with_ten_of_thirty_days_left_credits_a_third_of_old_and_charges_a_third_of_new() -> None:
    # 1000 * 10/30 = 333.33.. -> 333 ; 3000 * 10/30 = 1000 exactly.
    proration = prorate(1000, 3000, THIRTY_DAYS, utc(2026, 4, 21))

    assert proration.credit == -333
    assert proration.charge == 1000
    assert proration.net == 667
    assert proration.fraction == Fraction(1, 3)


def test_downgrade_now_credits_the_unused_part() -> None:
    # 3000 * 10/30 = 1000 ; 1000 * 10/30 = 333.33.. -> 333 : net credit 667.
    proration = prorate(3000, 1000, THIRTY_DAYS, utc(2026, 4, 21))

    assert (proration.credit, proration.charge, proration.net) == (-1000, 333, -667)


def test_each_line_rounds_its_own_half_cent_tie_to_even() -> None:
    # A quarter of the period left: 10 * 1/4 = 2.5 -> 2 ; 30 * 1/4 = 7.5 -> 8.
    period = Period(utc(2026, 2, 1), utc(2026, 2, 5))

    proration = prorate(10, 30, period, utc(2026, 2, 4))

    assert proration.fraction == Fraction(1, 4)
    assert proration.credit == -2
    assert proration.charge == 8


def test_lines_round_up_above_a_half() -> None:
    # 28-day February, 18 days left: 1000 * 18/28 = 642.857.. -> 643 ; 3000 * 18/28 = 1928.57.. -> 1929.
    proration = prorate(1000, 3000, Period(utc(2026, 1, 31), utc(2026, 2, 28)), utc(2026, 2, 10))

    assert (proration.credit, proration.charge) == (-643, 1929)


def test_remaining_fraction_counts_microseconds() -> None:
    period = Period(utc(2026, 1, 1), utc(2026, 1, 1, 0, 0, 1))

    assert remaining_fraction(period, utc(2026, 1, 1, 0, 0, 0, 250_000)) == Fraction(3, 4)


@pytest.mark.parametrize("at", [utc(2026, 3, 31, 23, 59, 59), utc(2026, 5, 1, 0, 0, 1)])
def test_proration_outside_the_period_is_refused(at: datetime) -> None:
    with pytest.raises(ValueError):
        prorate(1000, 3000, THIRTY_DAYS, at)


def test_proration_over_an_empty_period_is_refused() -> None:
    with pytest.raises(ValueError):
        remaining_fraction(Period(utc(2026, 1, 1), utc(2026, 1, 1)), utc(2026, 1, 1))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(5, 2), 2),
        (Fraction(7, 2), 4),
        (Fraction(1, 2), 0),
        (Fraction(3, 2), 2),
        (Fraction(-1, 2), 0),
        (Fraction(-3, 2), -2),
        (Fraction(-5, 2), -2),
        (Fraction(-7, 2), -4),
        (Fraction(-5, 4), -1),
        (Fraction(-7, 4), -2),
        (Fraction(2001, 3), 667),
        (Fraction(-2001, 3), -667),
        (Fraction(7, 1), 7),
    ],
)
def test_round_half_even_rounds_fraction_ties_including_negative_ones_to_even(
    value: Fraction, expected: int
) -> None:
    assert round_half_even(value) == expected
