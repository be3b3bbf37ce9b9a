"""Three-decimal currencies settle in tens of their minor unit: what the ledger computes in
them is rounded half-even to a multiple of 10, what a client gives must be one, so every
invoice total, charge and refund can be sent to a provider as it stands. Every other
currency keeps whole minor units."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.factories import (
    RECORDED_AT,
    SUBSCRIBER_ID,
    create_coupon,
    create_plan,
    pay_ok,
    plan_terms,
    utc,
)

from subledger.domain.coupons import CouponTerms
from subledger.domain.errors import AmountNotSettleable
from subledger.domain.invoicing import Discount, InvoiceIssued, discount_amount
from subledger.domain.money import (
    MAX_AMOUNT,
    check_settleable,
    round_half_even,
    round_to_increment,
    settlement_increment,
)
from subledger.domain.periods import Period
from subledger.domain.proration import prorate, remaining_fraction
from subledger.domain.subscription import Subscription

THREE_DECIMAL = ["BHD", "JOD", "KWD", "LYD", "OMR", "TND"]
APRIL = Period(utc(2026, 4, 1), utc(2026, 5, 1))
offsets = st.timedeltas(min_value=timedelta(0),
                        max_value=APRIL.end - APRIL.start - timedelta(microseconds=1))
percents = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(100), places=4)


# -- the rule --------------------------------------------------------------------------------


@pytest.mark.parametrize("currency", THREE_DECIMAL)
def test_a_three_decimal_currency_settles_in_tens_of_its_minor_unit(currency: str) -> None:
    assert settlement_increment(currency) == 10


@pytest.mark.parametrize("currency", ["USD", "EUR", "JPY", "HUF", "ISK", "CLP", "TWD"])
def test_every_other_currency_settles_in_whole_minor_units(currency: str) -> None:
    assert settlement_increment(currency) == 1


@pytest.mark.parametrize(("value", "rounded"), [
    (Fraction(3285), 3280), (Fraction(3295), 3300), (Fraction(32851, 10), 3290),
    (Fraction(3284), 3280), (Fraction(3286), 3290), (Fraction(5), 0), (Fraction(15), 20),
])
def test_amounts_are_rounded_half_even_to_tens(value: Fraction, rounded: int) -> None:
    assert round_to_increment(value, 10) == rounded


@given(st.fractions(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT))
def test_with_an_increment_of_one_the_rounding_is_half_even_to_whole_minor_units(value: Fraction) -> None:
    assert round_to_increment(value) == round_to_increment(value, 1) == round_half_even(value)


def test_an_amount_with_a_last_digit_other_than_zero_is_refused_in_kwd_only() -> None:
    assert check_settleable(3280, "KWD") == 3280
    assert check_settleable(3285, "USD") == 3285
    with pytest.raises(AmountNotSettleable, match="amount_off must be a multiple of 10") as info:
        check_settleable(3285, "KWD", "amount_off")
    assert info.value.code == "amount-not-settleable"


# -- what a client gives ---------------------------------------------------------------------


def test_a_kwd_plan_price_or_price_version_must_be_a_multiple_of_ten() -> None:
    with pytest.raises(AmountNotSettleable):
        create_plan(currency="KWD", amount=3285)
    plan = create_plan(currency="kwd", amount=3280)
    with pytest.raises(AmountNotSettleable):
        plan.add_price(amount=1001, effective_at=utc(2026, 2, 1), recorded_at=RECORDED_AT)
    assert len(plan.collect_events()) == 1
    assert create_plan(currency="USD", amount=3285).amount == 3285


def test_a_kwd_amount_off_coupon_must_be_a_multiple_of_ten() -> None:
    with pytest.raises(AmountNotSettleable):
        create_coupon(percent_off=None, amount_off=505, currency="KWD")
    assert create_coupon(percent_off=None, amount_off=500, currency="KWD").amount_off == 500
    assert create_coupon(percent_off=None, amount_off=505, currency="USD").amount_off == 505


# -- what the ledger computes ----------------------------------------------------------------


@settings(max_examples=300)
@given(old=st.integers(0, 10**9), new=st.integers(0, 10**9), offset=offsets)
def test_kwd_proration_lines_are_the_exact_ones_rounded_half_even_to_tens(
        old: int, new: int, offset: timedelta) -> None:
    at = APRIL.start + offset
    proration = prorate(old, new, APRIL, at, increment=settlement_increment("KWD"))
    fraction = remaining_fraction(APRIL, at)

    for line, exact in ((-proration.credit, old * fraction), (proration.charge, new * fraction)):
        assert line % 10 == 0
        assert abs(line - exact) <= 5
        if abs(line - exact) == 5:
            assert line % 20 == 0, "a tie goes to the even ten"


@settings(max_examples=300)
@given(old=st.integers(0, 10**9), new=st.integers(0, 10**9), offset=offsets)
def test_usd_proration_lines_are_unchanged_whole_cents(old: int, new: int, offset: timedelta) -> None:
    at = APRIL.start + offset
    proration = prorate(old, new, APRIL, at, increment=settlement_increment("USD"))
    fraction = remaining_fraction(APRIL, at)

    assert proration.credit == -round(old * fraction)  # Python's round: half-even
    assert proration.charge == round(new * fraction)


@given(base=st.integers(0, 10**9).map(lambda n: n * 10), percent=percents)
def test_a_kwd_percent_discount_is_rounded_to_tens(base: int, percent: Decimal) -> None:
    off = discount_amount(Discount("pct", percent, None), base, settlement_increment("KWD"))

    assert off % 10 == 0 and 0 <= off <= base
    assert abs(off - Fraction(base) * Fraction(percent) / 100) <= 5


# -- a subscription's invoices and charges ---------------------------------------------------


def invoices_and_charges(sub: Subscription) -> tuple[list[Any], list[int]]:
    events = sub.pending_events
    invoices = [e for e in events if isinstance(e, InvoiceIssued)]
    charges = [e.amount for e in events if type(e).__name__ == "ChargeSucceeded"]
    return invoices, charges


Change = tuple[datetime, int, int]
"""A seat change ``now``: when, from how many seats, to how many."""


def subscription_with_changes(currency: str, price: int, percent: Decimal | None,
                              steps: list[tuple[timedelta, int]],
                              balance: int) -> tuple[Subscription, list[Change]]:
    """A subscription started on April 1, with a percent coupon, a manual credit (or debit)
    balance and seat changes ``now`` at the given offsets into April, renewed on May 1."""
    sub = Subscription.start(subscriber_id=SUBSCRIBER_ID,
                             terms=plan_terms(currency=currency, amount=price), quantity=1,
                             trial_days=None, effective_at=APRIL.start, recorded_at=RECORDED_AT)
    sub.advance_to(APRIL.start, recorded_at=RECORDED_AT, pay=pay_ok)
    if percent is not None:  # on the prorations and on May's invoice
        sub.apply_coupon(CouponTerms("pct", percent, None, None, "forever", None),
                         effective_at=APRIL.start, recorded_at=RECORDED_AT)
    if balance:
        sub.adjust_balance(balance, reason="goodwill", effective_at=APRIL.start,
                           recorded_at=RECORDED_AT)
    quantity, made = 1, []
    for offset, seats in sorted(steps):
        at = APRIL.start + offset
        if seats != quantity:
            sub.change(terms=None, quantity=seats, when="now", effective_at=at, recorded_at=RECORDED_AT)
            sub.advance_to(at, recorded_at=RECORDED_AT, pay=pay_ok)
            made.append((at, quantity, seats))
            quantity = seats
    sub.advance_to(APRIL.end, recorded_at=RECORDED_AT, pay=pay_ok)
    return sub, made


changes = st.lists(st.tuples(offsets, st.integers(1, 50)), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(currency=st.sampled_from(THREE_DECIMAL), price=st.integers(1, 10**6).map(lambda n: n * 10),
       percent=st.none() | percents, steps=changes,
       balance=st.integers(-10**4, 10**4).map(lambda n: n * 10))
def test_every_invoice_and_charge_in_a_three_decimal_currency_is_a_multiple_of_ten(
        currency: str, price: int, percent: Decimal | None, steps: list[tuple[timedelta, int]],
        balance: int) -> None:
    sub, _ = subscription_with_changes(currency, price, percent, steps, balance)

    invoices, charges = invoices_and_charges(sub)
    assert len(invoices) >= 2
    for invoice in invoices:
        assert all(line["amount"] % 10 == 0 for line in invoice.lines)
        assert invoice.total % 10 == 0 and invoice.amount_due % 10 == 0
        assert invoice.credit_applied % 10 == 0 and invoice.credit_added % 10 == 0
    assert charges and all(amount % 10 == 0 for amount in charges)
    assert sub.credit_balance % 10 == 0


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(price=st.integers(1, 10**6), steps=changes)
def test_a_usd_subscriptions_proration_lines_stay_whole_cents_rounded_half_even(
        price: int, steps: list[tuple[timedelta, int]]) -> None:
    sub, made = subscription_with_changes("USD", price, None, steps, 0)

    invoices, _ = invoices_and_charges(sub)
    prorations = [[line["amount"] for line in i.lines] for i in invoices if i.reason == "proration"]
    expected = []
    for at, old, new in made:
        fraction = remaining_fraction(APRIL, at)
        lines = [-round(price * old * fraction), round(price * new * fraction)]  # half-even
        if any(lines):
            expected.append([amount for amount in lines if amount])
    assert prorations == expected
