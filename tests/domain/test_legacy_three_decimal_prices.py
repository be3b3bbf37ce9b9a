"""Amounts recorded before three-decimal currencies had to be multiples of 10 fils (a plan
price of 3.285 KWD, a coupon of 1.005 KWD) still bill: the invoice takes them as recorded
and closes with a `rounding` line that brings its total half-even to tens, so what is
charged can be sent to any provider (docs/decisions.md, "An invoice rounds what was
recorded before the three-decimal rule")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.factories import RECORDED_AT, pay_ok, plan_terms, start_subscription, utc

from subledger.domain.coupons import CouponTerms
from subledger.domain.invoicing import settle
from subledger.domain.subscription import Subscription

APR, MAY = utc(2026, 4, 1), utc(2026, 5, 1)


def invoices(sub: Subscription) -> list[Any]:
    return [e for e in sub.pending_events if type(e).__name__ == "InvoiceIssued"]


def kinds(invoice: Any) -> list[tuple[str, int]]:
    return [(line["kind"], line["amount"]) for line in invoice.lines]


@pytest.mark.parametrize(("price", "rounding", "charged"), [
    (3285, -5, 3280), (3275, 5, 3280), (3281, -1, 3280), (3287, 3, 3290)])
def test_a_legacy_kwd_price_is_billed_with_a_rounding_line_to_tens(
        price: int, rounding: int, charged: int) -> None:
    sub = start_subscription(plan_terms("pro", amount=price, currency="KWD"), at=APR, pay=pay_ok)

    (first,) = invoices(sub)

    assert kinds(first) == [("recurring", price), ("rounding", rounding)]
    assert first.lines[1]["period_start"] == APR and first.lines[1]["period_end"] == MAY
    assert "KWD" in first.lines[1]["description"]
    assert (first.total, first.amount_due) == (charged, charged)


def test_a_price_in_tens_gets_no_rounding_line() -> None:
    sub = start_subscription(plan_terms("pro", amount=3280, currency="KWD"), at=APR, pay=pay_ok)

    assert kinds(invoices(sub)[0]) == [("recurring", 3280)]


def test_a_legacy_amount_off_coupon_is_rounded_on_the_invoice_total() -> None:
    sub = start_subscription(plan_terms("pro", amount=10000, currency="BHD"), at=APR, pay=pay_ok)
    sub.apply_coupon(CouponTerms(coupon_id="old", percent_off=None, amount_off=1005,
                                 currency="BHD", duration="forever", duration_in_months=None),
                     effective_at=utc(2026, 4, 2), recorded_at=RECORDED_AT)

    sub.advance_to(MAY, recorded_at=RECORDED_AT, pay=pay_ok)

    assert kinds(invoices(sub)[-1]) == [("recurring", 10000), ("discount", -1005), ("rounding", 5)]
    assert invoices(sub)[-1].amount_due == 9000


def test_two_decimal_currencies_are_never_rounded() -> None:
    sub = start_subscription(plan_terms("pro", amount=3285, currency="USD"), at=APR, pay=pay_ok)

    assert kinds(invoices(sub)[0]) == [("recurring", 3285)]


THREE_DECIMAL = ["BHD", "JOD", "KWD", "LYD", "OMR", "TND"]


@settings(max_examples=150, deadline=None)
@given(currency=st.sampled_from(THREE_DECIMAL), price=st.integers(0, 10**7),
       quantity=st.integers(1, 50), percent=st.none() | st.integers(1, 100),
       amount_off=st.none() | st.integers(1, 10**6))
def test_every_invoice_of_a_legacy_price_is_due_in_tens_and_off_by_at_most_5_fils(
        currency: str, price: int, quantity: int, percent: int | None,
        amount_off: int | None) -> None:
    sub = start_subscription(plan_terms("pro", amount=price, currency=currency), at=APR,
                             quantity=quantity, pay=pay_ok)
    if percent is not None or amount_off is not None:
        sub.apply_coupon(CouponTerms(
            coupon_id="c", percent_off=None if amount_off else Decimal(percent or 0),
            amount_off=amount_off, currency=currency if amount_off else None,
            duration="forever", duration_in_months=None),
            effective_at=utc(2026, 4, 2), recorded_at=RECORDED_AT)
    sub.change(terms=None, quantity=quantity + 1, when="now", effective_at=utc(2026, 4, 17),
               recorded_at=RECORDED_AT)
    sub.advance_to(utc(2026, 6, 1), recorded_at=RECORDED_AT, pay=pay_ok)

    for invoice in invoices(sub):
        rounding = [amount for kind, amount in kinds(invoice) if kind == "rounding"]
        assert invoice.total % 10 == 0 and invoice.amount_due % 10 == 0
        assert len(rounding) <= 1 and all(-5 <= r <= 5 and r for r in rounding)
        assert invoice.total == sum(amount for _, amount in kinds(invoice))


@given(total=st.integers(0, 10**6).map(lambda n: n * 10), balance=st.integers(-10**6, 10**6))
def test_a_legacy_balance_is_applied_in_tens_and_keeps_the_rest(total: int, balance: int) -> None:
    settled = settle(total, balance, 10)

    assert settled.amount_due % 10 == 0 and settled.credit_applied % 10 == 0
    assert settled.amount_due == total - settled.credit_applied >= 0
    # What would have been applied, less what the balance keeps (under 10, toward 0).
    whole = settle(total, balance, 1).credit_applied
    assert 0 <= abs(whole) - abs(settled.credit_applied) < 10
    assert settled.credit_applied == 0 or (settled.credit_applied > 0) == (whole > 0)
