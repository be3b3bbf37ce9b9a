"""Invoice arithmetic: discounts, half-even rounding per line, totals, credit balances, and
the proration lines of a change. Every expected amount is written here by hand, as a
literal or as an exact Fraction rounded with Python's own half-even ``round``."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.factories import RECORDED_AT, SUBSCRIBER_ID, pay_ok, plan_terms, utc

from subledger.domain.coupons import CouponTerms
from subledger.domain.invoicing import (
    DISCOUNT,
    RECURRING,
    Discount,
    Line,
    recurring_lines,
    settle,
    total,
)
from subledger.domain.periods import Period
from subledger.domain.subscription import Subscription

APRIL = Period(utc(2026, 4, 1), utc(2026, 5, 1))
"""A 30-day period."""

percents = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(100), places=4)
unit_amounts = st.integers(0, 10**9)
quantities = st.integers(1, 1000)
offsets = st.timedeltas(min_value=timedelta(0),
                        max_value=APRIL.end - APRIL.start - timedelta(microseconds=1))
"""From APRIL's start to just before its end (at its end, the change meets May)."""


def lines_of(unit_amount: int, quantity: int, discount: Discount | None) -> list[Line]:
    return recurring_lines(description="basic", unit_amount=unit_amount, quantity=quantity,
                           period=APRIL, discount=discount)


def as_pairs(lines: list[Line]) -> list[tuple[str, int]]:
    return [(line.kind, line.amount) for line in lines]


# -- discounts ---------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(unit_amount=unit_amounts, quantity=quantities, percent=percents)
def test_a_percent_discount_is_the_half_even_share_of_the_line_and_never_takes_it_below_zero(
    unit_amount: int, quantity: int, percent: Decimal
) -> None:
    base = unit_amount * quantity
    off = round(Fraction(base) * Fraction(percent) / 100)  # Fraction rounds half to even

    lines = lines_of(unit_amount, quantity, Discount("pct", percent, None))

    expected = [(RECURRING, base)] + ([(DISCOUNT, -off)] if off else [])
    assert as_pairs(lines) == expected
    assert 0 <= total(lines) <= base


@settings(max_examples=200, deadline=None)
@given(unit_amount=unit_amounts, quantity=quantities, amount_off=st.integers(1, 10**7))
def test_an_amount_off_discount_takes_at_most_the_whole_line(
    unit_amount: int, quantity: int, amount_off: int
) -> None:
    base = unit_amount * quantity

    lines = lines_of(unit_amount, quantity, Discount("flat", None, amount_off))

    off = min(amount_off, base)
    assert as_pairs(lines) == [(RECURRING, base)] + ([(DISCOUNT, -off)] if off else [])
    assert total(lines) == base - off >= 0


@pytest.mark.parametrize(
    ("base", "percent", "discount_line"),
    [
        (1050, "5", -52),  # 52.5 -> 52 (even)
        (1150, "5", -58),  # 57.5 -> 58 (even)
        (3, "50", -2),  # 1.5 -> 2
        (5, "50", -2),  # 2.5 -> 2
        (999, "33.3333", -333),  # 332.9997 -> 333
        (1000, "100", -1000),
    ],
)
def test_discount_ties_round_to_the_even_minor_unit(base: int, percent: str, discount_line: int) -> None:
    lines = lines_of(base, 1, Discount("pct", Decimal(percent), None))

    assert as_pairs(lines) == [(RECURRING, base), (DISCOUNT, discount_line)]


def test_a_discount_that_rounds_to_nothing_adds_no_line() -> None:
    assert as_pairs(lines_of(1, 1, Discount("pct", Decimal(50), None))) == [(RECURRING, 1)]  # 0.5 -> 0


def test_a_free_plan_gets_no_discount_line() -> None:
    assert as_pairs(lines_of(0, 3, Discount("flat", None, 500))) == [(RECURRING, 0)]


def test_the_recurring_line_is_the_price_times_the_quantity_over_the_whole_period() -> None:
    (line,) = lines_of(1900, 7, None)

    assert (line.kind, line.amount) == (RECURRING, 13300)
    assert (line.period_start, line.period_end) == (APRIL.start, APRIL.end)


@given(amounts=st.lists(st.integers(-10**9, 10**9), max_size=20))
def test_the_total_of_an_invoice_is_the_sum_of_its_lines(amounts: list[int]) -> None:
    lines = [Line(DISCOUNT if a < 0 else RECURRING, a, APRIL.start, APRIL.end, "x") for a in amounts]

    expected = 0
    for amount in amounts:
        expected += amount
    assert total(lines) == expected


# -- credit balances ---------------------------------------------------------------------------


def test_a_net_negative_invoice_becomes_credit_and_pays_the_next_invoices_first() -> None:
    refund_like = settle(-700, 0)
    assert (refund_like.credit_added, refund_like.credit_applied, refund_like.amount_due) == (700, 0, 0)

    first = settle(500, 700)
    assert (first.credit_applied, first.amount_due, first.credit_added) == (500, 0, 0)

    second = settle(500, 200)
    assert (second.credit_applied, second.amount_due, second.credit_added) == (200, 300, 0)

    third = settle(500, 0)
    assert (third.credit_applied, third.amount_due, third.credit_added) == (0, 500, 0)


def test_a_zero_invoice_uses_no_credit() -> None:
    settlement = settle(0, 1234)
    assert (settlement.credit_applied, settlement.amount_due, settlement.credit_added) == (0, 0, 0)


@settings(max_examples=300, deadline=None)
@given(totals=st.lists(st.integers(-10**6, 10**6), max_size=30))
def test_credit_carries_from_invoice_to_invoice_and_nothing_due_is_ever_negative(totals: list[int]) -> None:
    balance = 0
    due_sum = 0
    for invoice_total in totals:
        settlement = settle(invoice_total, balance)
        assert settlement.amount_due >= 0
        assert settlement.credit_applied >= 0 and settlement.credit_added >= 0
        if invoice_total < 0:
            assert (settlement.credit_added, settlement.credit_applied, settlement.amount_due) == (
                -invoice_total, 0, 0)
        else:
            # credit first, the card for the rest
            assert settlement.credit_applied == min(balance, invoice_total)
            assert settlement.amount_due == invoice_total - min(balance, invoice_total)
        balance += settlement.credit_added - settlement.credit_applied
        assert balance >= 0
        due_sum += settlement.amount_due
    # Everything invoiced is either charged or still owed to the subscriber as credit.
    assert due_sum == sum(totals) + balance


# -- proration lines of a change ---------------------------------------------------------------


def _active(amount: int, *, quantity: int = 1, coupon: CouponTerms | None = None) -> Subscription:
    """A subscription started on APRIL's first instant (no trial), its first invoice paid."""
    subscription = Subscription.start(
        subscriber_id=SUBSCRIBER_ID, terms=plan_terms("old", amount=amount), quantity=quantity,
        trial_days=0, effective_at=APRIL.start, recorded_at=RECORDED_AT, coupon=coupon,
    )
    subscription.advance_to(APRIL.start, recorded_at=RECORDED_AT, pay=pay_ok)
    return subscription


def _change(subscription: Subscription, plan_id: str, amount: int, quantity: int | None,
            at: datetime) -> list[dict[str, Any]]:
    """Change now at ``at``; the lines of the proration invoice it issued."""
    subscription.advance_to(at, recorded_at=RECORDED_AT, pay=pay_ok)
    before = len(subscription.pending_events)
    subscription.change(terms=plan_terms(plan_id, amount=amount), quantity=quantity, when="now",
                        effective_at=at, recorded_at=RECORDED_AT)
    subscription.advance_to(at, recorded_at=RECORDED_AT, pay=pay_ok)
    issued = [e for e in subscription.pending_events[before:]
              if isinstance(e, Subscription.InvoiceIssued)]
    assert len(issued) <= 1
    return issued[0].lines if issued else []  # nothing to invoice when both lines round to 0


def test_an_upgrade_with_ten_of_thirty_days_left_credits_a_third_and_charges_a_third() -> None:
    subscription = _active(1000)

    lines = _change(subscription, "new", 3000, None, utc(2026, 4, 21))

    # 10 days of 30 left: credit 1000 / 3 = 333.33 -> 333, charge 3000 / 3 = 1000.
    assert [(line["kind"], line["amount"]) for line in lines] == [
        ("proration_credit", -333), ("proration_charge", 1000)]
    assert all((line["period_start"], line["period_end"]) == (utc(2026, 4, 21), APRIL.end)
               for line in lines)


def test_each_proration_line_is_rounded_half_even_on_its_own() -> None:
    subscription = _active(1001)

    lines = _change(subscription, "new", 3003, None, utc(2026, 4, 16))

    # Half the period left: 500.5 -> 500 and 1501.5 -> 1502 (the net alone would be 1001).
    assert [line["amount"] for line in lines] == [-500, 1502]
    invoice = [e for e in subscription.pending_events if isinstance(e, Subscription.InvoiceIssued)][-1]
    assert invoice.total == 1002


@settings(max_examples=150, deadline=None)
@given(
    old=st.integers(0, 10**7), new=st.integers(0, 10**7), quantity=st.integers(1, 20),
    new_quantity=st.integers(1, 20),
    offset=offsets,
)
def test_each_proration_line_is_the_half_even_share_of_the_remaining_time(
    old: int, new: int, quantity: int, new_quantity: int, offset: timedelta
) -> None:
    subscription = _active(old, quantity=quantity)
    at = APRIL.start + offset
    remaining = Fraction((APRIL.end - at) // timedelta(microseconds=1),
                         (APRIL.end - APRIL.start) // timedelta(microseconds=1))

    lines = _change(subscription, "new", new, new_quantity, at)

    credit, charge = round(old * quantity * remaining), round(new * new_quantity * remaining)
    expected = ([("proration_credit", -credit)] if credit else []) + (
        [("proration_charge", charge)] if charge else [])
    assert [(line["kind"], line["amount"]) for line in lines] == expected


@settings(max_examples=150, deadline=None)
@given(
    old=st.integers(0, 10**7), new=st.integers(0, 10**7), quantity=st.integers(1, 20),
    new_quantity=st.integers(1, 20),
    offset=offsets,
)
def test_a_change_and_its_reverse_at_the_same_instant_cancel_within_one_minor_unit(
    old: int, new: int, quantity: int, new_quantity: int, offset: timedelta
) -> None:
    subscription = _active(old, quantity=quantity)
    at = APRIL.start + offset

    there = _change(subscription, "new", new, new_quantity, at)
    back = _change(subscription, "old", old, quantity, at)

    assert abs(sum(line["amount"] for line in there + back)) <= 1


def test_with_a_percent_coupon_a_change_and_its_reverse_still_cancel() -> None:
    twenty = CouponTerms("twenty", Decimal(20), None, None, "forever", None)
    subscription = _active(1000, coupon=twenty)

    there = _change(subscription, "new", 3000, None, utc(2026, 4, 16))
    back = _change(subscription, "old", 1000, None, utc(2026, 4, 16))

    # Up: (-500 + 1500) x 80 % = 800 charged; down must give the same 800 back.
    assert sum(line["amount"] for line in there) == 800
    assert sum(line["amount"] for line in back) == -800
