"""A period billed in parts (up to a cancellation scheduled inside it, then the rest at a
revoke or a later cancellation) is discounted as the period is: an `amount_off` coupon's
amount is taken once across the parts (the rest gets what the first part left of it, never
below 0), a percent coupon comes off each part, and a `once` coupon spent on the first part
is not taken again (docs/decisions.md, "A period billed in parts takes its discount once")."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from support.factories import RECORDED_AT, pay_ok, plan_terms, start_subscription, utc

from subledger.domain.coupons import CouponTerms
from subledger.domain.subscription import Subscription

APR, MAY, MAY_5, MAY_11, JUN = (utc(2026, 4, 1), utc(2026, 5, 1), utc(2026, 5, 5), utc(2026, 5, 11),
                              utc(2026, 6, 1))


def coupon(duration: str = "forever", *, amount_off: int | None = None,
           percent_off: Decimal | None = None) -> CouponTerms:
    return CouponTerms(coupon_id="c", percent_off=percent_off, amount_off=amount_off,
                       currency=None if amount_off is None else "USD", duration=duration,
                       duration_in_months=3 if duration == "repeating" else None)


def cut_in_may(terms: CouponTerms, cancel_at: datetime = MAY_11, amount: int = 3000) -> Subscription:
    """Monthly from April 1 at ``amount``, paid; on April 10 given ``terms`` and asked to end
    at ``cancel_at``; May invoiced up to it."""
    sub = start_subscription(plan_terms("pro", amount=amount), at=APR, pay=pay_ok)
    sub.apply_coupon(terms, effective_at=utc(2026, 4, 10), recorded_at=RECORDED_AT)
    sub.cancel(when="at", at=cancel_at, comment=None, effective_at=utc(2026, 4, 10),
               recorded_at=RECORDED_AT)
    sub.advance_to(MAY, recorded_at=RECORDED_AT, pay=pay_ok)
    return sub


def may_invoices(sub: Subscription) -> list[Any]:
    return [e for e in sub.pending_events if type(e).__name__ == "InvoiceIssued"
            and e.effective_at >= MAY]


def kinds(invoice: Any) -> list[tuple[str, int]]:
    return [(line["kind"], line["amount"]) for line in invoice.lines]


def revoke(sub: Subscription, at: datetime = MAY_5) -> Any:
    sub.revoke_cancellation(effective_at=at, recorded_at=RECORDED_AT)
    sub.advance_to(at, recorded_at=RECORDED_AT, pay=pay_ok)
    return may_invoices(sub)[-1]


def test_an_amount_off_coupon_is_taken_once_across_the_cut_and_the_rest() -> None:
    sub = cut_in_may(coupon(amount_off=500))
    assert kinds(may_invoices(sub)[0]) == [("recurring", 968), ("discount", -500)]

    rest = revoke(sub)

    assert rest.reason == "cancellation_changed"
    assert kinds(rest) == [("recurring", 2032)]
    assert sum(i.total for i in may_invoices(sub)) == 3000 - 500


def test_the_rest_gets_what_the_cut_part_left_of_the_amount() -> None:
    sub = cut_in_may(coupon(amount_off=1500))
    assert kinds(may_invoices(sub)[0]) == [("recurring", 968), ("discount", -968)]

    assert kinds(revoke(sub)) == [("recurring", 2032), ("discount", -532)]


def test_moving_the_cancellation_later_then_revoking_takes_the_amount_once_over_three_parts() -> None:
    sub = cut_in_may(coupon("repeating", amount_off=1500))
    sub.cancel(when="at", at=utc(2026, 5, 21), comment=None, effective_at=utc(2026, 5, 3),
               recorded_at=RECORDED_AT)
    sub.advance_to(utc(2026, 5, 3), recorded_at=RECORDED_AT, pay=pay_ok)

    rest = revoke(sub)

    assert [kinds(i) for i in may_invoices(sub)] == [
        [("recurring", 968), ("discount", -968)],
        [("recurring", 968), ("discount", -532)],
        [("recurring", 1065)],
    ]
    assert rest.reason == "cancellation_changed"


def test_a_percent_coupon_comes_off_each_part() -> None:
    sub = cut_in_may(coupon(percent_off=Decimal(20)))

    assert kinds(revoke(sub)) == [("recurring", 2032), ("discount", -406)]
    assert kinds(may_invoices(sub)[0]) == [("recurring", 968), ("discount", -194)]


def test_a_once_coupon_spent_on_the_cut_part_is_not_taken_off_the_rest() -> None:
    sub = cut_in_may(coupon("once", amount_off=500))

    assert kinds(revoke(sub)) == [("recurring", 2032)]
    sub.advance_to(JUN, recorded_at=RECORDED_AT, pay=pay_ok)
    assert kinds(may_invoices(sub)[-1]) == [("recurring", 3000)]


def test_the_next_period_gets_the_whole_amount_again() -> None:
    sub = cut_in_may(coupon(amount_off=500))
    revoke(sub)

    sub.advance_to(JUN, recorded_at=RECORDED_AT, pay=pay_ok)

    assert kinds(may_invoices(sub)[-1]) == [("recurring", 3000), ("discount", -500)]


def test_a_pause_after_the_revoke_credits_a_share_of_what_the_period_was_billed() -> None:
    sub = cut_in_may(coupon(amount_off=500))
    revoke(sub)

    sub.pause(effective_at=utc(2026, 5, 21), recorded_at=RECORDED_AT)

    # The period was billed 3000 - 500 in two parts; 11 of its 31 days are unused.
    assert kinds(may_invoices(sub)[-1]) == [
        ("proration_credit", -round(Fraction(2500 * 11, 31)))] == [("proration_credit", -887)]


@settings(max_examples=150, deadline=None)
@given(price=st.integers(0, 10**7), off=st.integers(1, 10**7),
       seconds=st.integers(1, 31 * 86400 - 1))
def test_the_parts_of_a_period_are_discounted_at_most_the_amount_in_total(
        price: int, off: int, seconds: int) -> None:
    sub = cut_in_may(coupon(amount_off=off), MAY + timedelta(seconds=seconds), price)
    revoke(sub, MAY)

    lines = [line for i in may_invoices(sub) for line in i.lines]
    billed = sum(line["amount"] for line in lines if line["kind"] == "recurring")
    discounts = [line["amount"] for line in lines if line["kind"] == "discount"]
    assert all(d < 0 for d in discounts)
    assert -sum(discounts) == min(off, billed)
    assert sum(i.total for i in may_invoices(sub)) == billed - min(off, billed) >= 0
