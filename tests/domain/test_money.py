"""Money: integer minor units with an ISO 4217 code; exact derived figures rounded when shown."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subledger.domain.errors import AmountOutOfBounds, CurrencyMismatch, UnknownCurrency
from subledger.domain.money import (
    MAX_AMOUNT,
    Money,
    check_amount,
    minor_unit_exponent,
    normalize_currency,
    round_half_even,
    round_minor,
    round_minor_between,
    round_minor_sum,
    round_rate,
)

# -- currencies ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["USD", "EUR", "JPY", "GBP", "KWD"])
def test_currencies_in_use_are_accepted_as_they_are(code: str) -> None:
    assert normalize_currency(code) == code


@pytest.mark.parametrize(("code", "expected"), [("usd", "USD"), ("eur", "EUR"), ("Jpy", "JPY")])
def test_lowercase_currency_codes_are_normalised_to_uppercase(code: str, expected: str) -> None:
    assert normalize_currency(code) == expected


@pytest.mark.parametrize("code", ["XXX", "XTS", "XAU", "ABC", "", "US", "USDD", " USD", None, 840])
def test_codes_that_are_not_currencies_in_use_are_refused_as_unknown_currency(code: object) -> None:
    with pytest.raises(UnknownCurrency) as info:
        normalize_currency(code)  # type: ignore[arg-type]

    assert info.value.code == "unknown-currency"


@pytest.mark.parametrize(
    ("code", "exponent"), [("JPY", 0), ("USD", 2), ("EUR", 2), ("KWD", 3), ("usd", 2)]
)
def test_minor_unit_exponents_come_from_the_currency(code: str, exponent: int) -> None:
    assert minor_unit_exponent(code) == exponent


def test_minor_unit_exponent_of_an_unknown_currency_is_refused() -> None:
    with pytest.raises(UnknownCurrency):
        minor_unit_exponent("ABC")


# -- amounts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [0, 1, 999, 10**12])
def test_amounts_from_zero_to_a_trillion_minor_units_are_accepted(amount: int) -> None:
    assert check_amount(amount) == amount


def test_max_amount_is_a_trillion_minor_units() -> None:
    assert MAX_AMOUNT == 1_000_000_000_000


@pytest.mark.parametrize("amount", [-1, 10**12 + 1, 1.5, 100.0, True, False, "100", None, Decimal(5)])
def test_amounts_that_are_negative_too_large_or_not_ints_are_refused(amount: object) -> None:
    with pytest.raises(AmountOutOfBounds) as info:
        check_amount(amount)  # type: ignore[arg-type]

    assert info.value.code == "amount-out-of-bounds"


def test_check_amount_names_the_field_in_its_detail() -> None:
    with pytest.raises(AmountOutOfBounds, match="amount_off"):
        check_amount(-5, "amount_off")


# -- Money -----------------------------------------------------------------------------------


def test_money_of_one_currency_adds_and_subtracts() -> None:
    assert Money(1000, "USD") + Money(250, "USD") == Money(1250, "USD")
    assert Money(1000, "USD") - Money(1250, "USD") == Money(-250, "USD")
    assert -Money(1000, "USD") == Money(-1000, "USD")


@pytest.mark.parametrize("operation", ["add", "sub"])
def test_money_arithmetic_refuses_mixed_currencies(operation: str) -> None:
    usd, eur = Money(1000, "USD"), Money(1000, "EUR")

    with pytest.raises(CurrencyMismatch) as info:
        usd + eur if operation == "add" else usd - eur

    assert info.value.code == "currency-mismatch"


@pytest.mark.parametrize("amount", [1.5, 10.0, True, Decimal("1"), "100"])
def test_money_refuses_amounts_that_are_not_int_minor_units(amount: object) -> None:
    with pytest.raises(TypeError):
        Money(amount, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("money", "major"),
    [
        (Money(12345, "USD"), Decimal("123.45")),
        (Money(-5, "USD"), Decimal("-0.05")),
        (Money(500, "JPY"), Decimal("500")),
        (Money(1234, "KWD"), Decimal("1.234")),
    ],
)
def test_to_major_shifts_by_the_currency_exponent(money: Money, major: Decimal) -> None:
    assert money.to_major() == major


# -- rounding of derived figures -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Fraction(2500, 3), "833.33"),
        (Fraction(5000, 3), "1666.67"),
        (Decimal("0.125"), "0.12"),
        (Decimal("0.135"), "0.14"),
        (Decimal("-0.125"), "-0.12"),
        (Fraction(1, 200), "0.00"),
        (Fraction(3, 200), "0.02"),
        (Decimal("1000"), "1000.00"),
    ],
)
def test_round_minor_shows_two_decimals_rounded_half_even(value: Decimal | Fraction, shown: str) -> None:
    assert str(round_minor(value)) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Fraction(1, 24), "0.041667"),
        (Fraction(1, 3), "0.333333"),
        (Decimal("0.0000005"), "0.000000"),
        (Decimal("0.0000015"), "0.000002"),
        (Fraction(-3, 2_000_000), "-0.000002"),
        (Fraction(1), "1.000000"),
    ],
)
def test_round_rate_shows_six_decimals_rounded_half_even(value: Decimal | Fraction, shown: str) -> None:
    assert str(round_rate(value)) == shown


money_figures = st.one_of(st.fractions(max_denominator=10**6), st.fractions()).filter(
    lambda f: abs(f) < 10**18
)
rates = st.one_of(st.fractions(max_denominator=10**6), st.fractions()).filter(lambda f: abs(f) < 10**6)


@given(value=money_figures)
def test_round_minor_of_a_fraction_is_its_exact_half_even_rounding_to_hundredths(
    value: Fraction,
) -> None:
    # round() on a Fraction is exact banker's rounding: an independent oracle.
    shown = round_minor(value)

    assert Fraction(shown) == Fraction(round(value * 100), 100)
    assert shown.as_tuple().exponent == -2


@given(value=rates)
def test_round_rate_of_a_fraction_is_its_exact_half_even_rounding_to_millionths(
    value: Fraction,
) -> None:
    shown = round_rate(value)

    assert Fraction(shown) == Fraction(round(value * 10**6), 10**6)
    assert shown.as_tuple().exponent == -6


def test_round_minor_of_a_fraction_just_above_a_half_cent_rounds_up() -> None:
    # 123456789012345.005 + 10^-20 is above the tie: half-even to cents gives .01
    # (a Fraction must be rounded once, from its exact value, not via a 28-digit Decimal).
    value = Fraction(123456789012345) + Fraction(1, 200) + Fraction(1, 10**20)

    assert round_minor(value) == Decimal("123456789012345.01")


def test_round_rate_of_a_fraction_just_above_a_half_millionth_rounds_up() -> None:
    value = Fraction(1, 2_000_000) + Fraction(1, 10**40)

    assert round_rate(value) == Decimal("0.000001")


def test_round_minor_of_a_large_fraction_keeps_every_digit() -> None:
    # 10^20 / 3 = 333..333.333.. : twenty 3s before the point, .33 after.
    assert str(round_minor(Fraction(10**20, 3))) == "33333333333333333333.33"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(Decimal("2.5"), 2), (Decimal("3.5"), 4), (Decimal("-2.5"), -2), (Decimal("-0.5"), 0),
     (Decimal("2.51"), 3)],
)
def test_round_half_even_of_a_decimal_rounds_ties_to_even(value: Decimal, expected: int) -> None:
    assert round_half_even(value) == expected


def _parts(fractions: list[Fraction]) -> dict[int, int]:
    """{denominator: numerator} of a sum, as the revenue report keeps it: a denominator may
    be any multiple of a fraction's own."""
    parts: dict[int, int] = {}
    for value in fractions:
        parts[value.denominator] = parts.get(value.denominator, 0) + value.numerator
    return parts


@given(st.lists(st.fractions(min_value=-10**9, max_value=10**9, max_denominator=10**14), max_size=40))
def test_rounding_a_sum_of_parts_equals_rounding_its_exact_value(values: list[Fraction]) -> None:
    assert round_minor_sum(_parts(values)) == round_minor(sum(values, Fraction(0)))


@given(st.integers(-10**6, 10**6), st.sampled_from([3, 7, 2_678_400_000_000, 31_536_000_000_000]))
def test_a_sum_exactly_half_way_between_hundredths_is_rounded_to_even(hundredths: int, denominator: int) -> None:
    # (hundredths + 1/2) / 100 split into two parts whose denominators do not divide evenly.
    total = Fraction(2 * hundredths + 1, 200)
    first = Fraction(1, denominator)
    parts = {denominator: 1, (total - first).denominator: (total - first).numerator}
    if parts.keys() == {denominator}:
        parts = {denominator: 1 + (total - first).numerator}
    expected = Decimal(hundredths + hundredths % 2).scaleb(-2)
    assert round_minor(total) == expected
    assert round_minor_sum(parts) == expected


def test_a_sum_just_off_half_way_is_rounded_by_the_side_it_is_on() -> None:
    tiny = Fraction(1, 10**30)
    assert round_minor_sum(_parts([Fraction(1, 200), tiny])) == Decimal("0.01")
    assert round_minor_sum(_parts([Fraction(1, 200), -tiny])) == Decimal("0.00")
    assert round_minor_sum(_parts([Fraction(3, 200), -tiny])) == Decimal("0.01")
    assert round_minor_sum({}) == Decimal("0.00")


@given(st.fractions(min_value=-10**9, max_value=10**9, max_denominator=10**20), st.integers(0, 10**6),
       st.integers(0, 10**6), st.integers(3, 30))
def test_rounding_from_an_interval_is_the_exact_rounding_of_the_value_inside_or_undecided(
        value: Fraction, below: int, above: int, digits: int) -> None:
    # The value strictly inside (low, low + width), as a report adds it up from rounded-down totals.
    scaled = value * 10 ** (2 + digits)
    low = math.ceil(scaled) - 1 - below
    width = math.floor(scaled) + 1 + above - low
    decided = round_minor_between(low, width, digits)
    assert decided is None or decided == round_minor(value)
    if scaled.denominator == 1:  # known exactly: always decided
        assert round_minor_between(int(scaled), 0, digits) == round_minor(value)


def test_an_interval_holding_a_half_hundredth_is_left_to_the_exact_value() -> None:
    half = 5 * 10**23  # 0.005 minor units, x 10**(2 + 24)
    assert round_minor_between(half - 1, 2, 24) is None
    assert round_minor_between(half, 0, 24) == Decimal("0.00")  # exactly half-way: to even
    assert round_minor_between(half, 1, 24) == Decimal("0.01")  # strictly above it
    assert round_minor_between(half - 1, 1, 24) == Decimal("0.00")  # strictly below it
