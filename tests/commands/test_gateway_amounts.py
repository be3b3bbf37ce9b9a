"""Amounts in the providers' formats: exact both ways, with Babel's currency exponents."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subledger.commands.gateways.amounts import (
    UnrepresentableAmount,
    derived_reference,
    from_decimal_string,
    from_stripe_amount,
    stripe_exponent,
    to_decimal_string,
    to_stripe_amount,
    to_subunits,
)
from subledger.domain.money import MAX_AMOUNT, iso_currencies, minor_unit_exponent

currencies = st.sampled_from(sorted(iso_currencies()))
amounts = st.integers(min_value=0, max_value=MAX_AMOUNT)


@pytest.mark.parametrize(("amount", "currency", "text"), [
    (1999, "USD", "19.99"), (5, "EUR", "0.05"), (0, "USD", "0.00"), (500, "JPY", "500"),
    (1234, "KWD", "1.234"), (100000, "INR", "1000.00"),
])
def test_a_decimal_string_has_exactly_the_currencys_decimals(amount: int, currency: str, text: str) -> None:
    assert to_decimal_string(amount, currency) == text
    assert from_decimal_string(text, currency) == amount


@given(amounts, currencies)
def test_every_amount_in_every_currency_goes_to_a_decimal_string_and_back_exactly(
    amount: int, currency: str,
) -> None:
    text = to_decimal_string(amount, currency)
    assert Decimal(text).scaleb(minor_unit_exponent(currency)) == amount
    assert from_decimal_string(text, currency) == amount


@given(amounts, currencies)
def test_fewer_provider_decimals_take_whole_units_only_and_never_round(amount: int, currency: str) -> None:
    exponent = minor_unit_exponent(currency)
    try:
        text = to_decimal_string(amount, currency, places=0)
    except UnrepresentableAmount:
        assert amount % 10**exponent != 0
    else:
        assert "." not in text
        assert int(text) * 10**exponent == amount


def test_twd_without_decimals_as_paypal_takes_it_refuses_a_fraction_of_a_dollar() -> None:
    assert to_decimal_string(150000, "TWD", places=0) == "1500"
    with pytest.raises(UnrepresentableAmount):
        to_decimal_string(150050, "TWD", places=0)


@pytest.mark.parametrize("text", ["19.999", "-1.00", "1e3", "", "1,00", " .5", "01.00"])
def test_a_decimal_string_with_too_many_decimals_or_not_plain_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        from_decimal_string(text, "USD")


@given(amounts, currencies)
def test_subunits_are_the_ledgers_minor_units_unless_a_third_decimal_is_not_zero(
    amount: int, currency: str,
) -> None:
    try:
        assert to_subunits(amount, currency) == amount
    except UnrepresentableAmount:
        assert minor_unit_exponent(currency) >= 3 and amount % 10 != 0


def test_subunits_of_kwd_take_the_last_decimal_as_zero_only() -> None:
    assert to_subunits(295990, "KWD") == 295990
    with pytest.raises(UnrepresentableAmount):
        to_subunits(295991, "KWD")


@given(st.text(min_size=1, max_size=80), st.integers(min_value=10, max_value=64))
def test_a_derived_reference_fits_the_providers_length_and_is_stable(key: str, length: int) -> None:
    reference = derived_reference(key, length)
    assert len(reference) <= length
    assert reference == derived_reference(key, length)
    assert reference == key or len(reference) == length


@pytest.mark.parametrize(("amount", "currency", "stripe"), [
    (1999, "USD", 1999), (500, "JPY", 500), (5000, "HUF", 500000), (5, "ISK", 500),
    (10000, "IDR", 1000000), (1230, "KWD", 1230), (3000, "UGX", 3000), (1999, "TWD", 1999),
])
def test_stripe_takes_its_own_exponent_for_each_currency(amount: int, currency: str, stripe: int) -> None:
    assert to_stripe_amount(amount, currency) == stripe
    assert from_stripe_amount(stripe, currency) == amount


def test_stripe_takes_a_three_decimal_amount_whose_last_decimal_is_zero_only() -> None:
    with pytest.raises(UnrepresentableAmount, match="last decimal"):
        to_stripe_amount(1234, "KWD")


@given(amounts, currencies)
def test_every_amount_stripe_can_take_comes_back_from_stripe_exactly(amount: int, currency: str) -> None:
    try:
        sent = to_stripe_amount(amount, currency)
    except UnrepresentableAmount:
        assert stripe_exponent(currency) < minor_unit_exponent(currency) or amount % 10
    else:
        assert from_stripe_amount(sent, currency) == amount
        assert Decimal(sent).scaleb(-stripe_exponent(currency)) == \
            Decimal(amount).scaleb(-minor_unit_exponent(currency))
