"""A period that starts with a cancellation scheduled inside it is billed only up to that
cancellation (docs/business-rules.md, Cancellation): its recurring line is prorated by the
seconds [start, cancel) of the period, half-even, and serves [start, cancel). Revoking the
cancellation, or moving it later, then bills the rest of the period (up to the new instant)
at once; a pause or a change `now` inside such a period prorates only what was billed."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from support.factories import RECORDED_AT, pay_ok, plan_terms, start_subscription, utc

from subledger.contract.envelope import to_envelope
from subledger.domain.coupons import CouponTerms
from subledger.domain.revenue import recognized, revenue_lines
from subledger.domain.subscription import Subscription

PRO = plan_terms("pro", amount=3000)
MAX = plan_terms("max", amount=6000)
APR, MAY, MAY_11, JUN = utc(2026, 4, 1), utc(2026, 5, 1), utc(2026, 5, 11), utc(2026, 6, 1)


def invoices(sub: Subscription) -> list[Any]:
    return [e for e in sub.pending_events if type(e).__name__ == "InvoiceIssued"]


def recurring(invoice: Any) -> list[tuple[int, datetime, datetime]]:
    return [(line["amount"], line["period_start"], line["period_end"])
            for line in invoice.lines if line["kind"] == "recurring"]


def ending_inside_may(cancel_at: datetime = MAY_11, amount: int = 3000) -> Subscription:
    """Monthly from April 1, paid; on April 10 asked to end at ``cancel_at``."""
    sub = start_subscription(plan_terms("pro", amount=amount), at=APR, pay=pay_ok)
    sub.cancel(when="at", at=cancel_at, comment=None, effective_at=utc(2026, 4, 10),
               recorded_at=RECORDED_AT)
    return sub


def test_the_renewal_bills_the_period_only_up_to_the_cancellation_and_it_ends_then() -> None:
    sub = ending_inside_may()

    sub.advance_to(JUN, recorded_at=RECORDED_AT, pay=pay_ok)

    renewal = invoices(sub)[-1]
    assert renewal.reason == "renewal"
    assert recurring(renewal) == [(round(Fraction(3000 * 10, 31)), MAY, MAY_11)] == [
        (968, MAY, MAY_11)]
    assert (renewal.total, renewal.amount_due) == (968, 968)
    assert (sub.status, sub.canceled_at) == ("canceled", MAY_11)


def test_a_cancellation_at_the_periods_end_leaves_the_period_whole() -> None:
    sub = ending_inside_may(JUN)

    sub.advance_to(JUN, recorded_at=RECORDED_AT, pay=pay_ok)

    assert recurring(invoices(sub)[-1]) == [(3000, MAY, JUN)]


def test_the_coupon_is_taken_off_the_prorated_line() -> None:
    sub = ending_inside_may()
    sub.apply_coupon(CouponTerms(coupon_id="twenty", percent_off=Decimal(20), amount_off=None,
                                 currency=None, duration="forever", duration_in_months=None),
                     effective_at=utc(2026, 4, 10), recorded_at=RECORDED_AT)

    sub.advance_to(MAY, recorded_at=RECORDED_AT, pay=pay_ok)

    assert [(line["kind"], line["amount"]) for line in invoices(sub)[-1].lines] == [
        ("recurring", 968), ("discount", -194)]


def test_recognition_of_the_period_ends_at_the_cancellation() -> None:
    sub = ending_inside_may()
    sub.advance_to(JUN, recorded_at=RECORDED_AT, pay=pay_ok)

    lines = revenue_lines([to_envelope(n, e) for n, e in enumerate(sub.pending_events, 1)])

    assert recognized(lines, MAY, MAY_11) == 968
    assert recognized(lines, MAY_11, JUN) == 0


def test_a_trial_converting_into_a_period_with_a_cancellation_inside_bills_up_to_it() -> None:
    sub = start_subscription(PRO, at=utc(2026, 3, 1), trial_days=14)
    sub.cancel(when="at", at=utc(2026, 3, 25), comment=None, effective_at=utc(2026, 3, 5),
               recorded_at=RECORDED_AT)

    sub.advance_to(utc(2026, 3, 20), recorded_at=RECORDED_AT, pay=pay_ok)

    (first,) = invoices(sub)
    assert (first.reason, recurring(first)) == (
        "trial_end", [(968, utc(2026, 3, 15), utc(2026, 3, 25))])


def test_revoking_after_the_cut_renewal_bills_the_rest_of_the_period_at_once() -> None:
    sub = ending_inside_may()
    sub.advance_to(MAY, recorded_at=RECORDED_AT, pay=pay_ok)
    sub.collect_events()

    sub.revoke_cancellation(effective_at=utc(2026, 5, 5), recorded_at=RECORDED_AT)
    sub.advance_to(utc(2026, 5, 5), recorded_at=RECORDED_AT, pay=pay_ok)

    (rest,) = invoices(sub)
    assert rest.reason == "cancellation_changed"
    assert recurring(rest) == [(round(Fraction(3000 * 21, 31)), MAY_11, JUN)] == [
        (2032, MAY_11, JUN)]
    sub.advance_to(JUN, recorded_at=RECORDED_AT, pay=pay_ok)
    assert recurring(invoices(sub)[-1]) == [(3000, JUN, utc(2026, 7, 1))]


def test_moving_the_cancellation_later_bills_the_period_up_to_the_new_instant() -> None:
    sub = ending_inside_may()
    sub.advance_to(MAY, recorded_at=RECORDED_AT, pay=pay_ok)
    sub.collect_events()

    sub.cancel(when="at", at=utc(2026, 5, 21), comment=None, effective_at=utc(2026, 5, 5),
               recorded_at=RECORDED_AT)

    (more,) = invoices(sub)
    # [May 11, May 21) of May's 31 days: 3000 * 10 / 31 = 967.74
    assert (more.reason, recurring(more)) == (
        "cancellation_changed", [(968, MAY_11, utc(2026, 5, 21))])


def test_moving_the_cancellation_earlier_bills_nothing_more() -> None:
    sub = ending_inside_may()
    sub.advance_to(MAY, recorded_at=RECORDED_AT, pay=pay_ok)
    sub.collect_events()

    sub.cancel(when="at", at=utc(2026, 5, 8), comment=None, effective_at=utc(2026, 5, 5),
               recorded_at=RECORDED_AT)

    assert invoices(sub) == []


def test_revoking_before_the_renewal_bills_nothing_at_the_revoke_and_the_period_whole() -> None:
    sub = ending_inside_may()
    sub.collect_events()

    sub.revoke_cancellation(effective_at=utc(2026, 4, 20), recorded_at=RECORDED_AT)
    assert invoices(sub) == []
    sub.advance_to(MAY, recorded_at=RECORDED_AT, pay=pay_ok)

    assert recurring(invoices(sub)[-1]) == [(3000, MAY, JUN)]


def test_a_pause_inside_a_cut_period_credits_only_what_was_billed() -> None:
    sub = ending_inside_may()
    sub.advance_to(MAY, recorded_at=RECORDED_AT, pay=pay_ok)
    sub.collect_events()

    sub.pause(effective_at=utc(2026, 5, 6), recorded_at=RECORDED_AT)

    (credit,) = invoices(sub)
    assert [(line["amount"], line["period_start"], line["period_end"]) for line in credit.lines] == [
        (-round(Fraction(3000 * 5, 31)), utc(2026, 5, 6), MAY_11)] == [(-484, utc(2026, 5, 6), MAY_11)]


def test_a_change_now_inside_a_cut_period_prorates_only_up_to_the_cancellation() -> None:
    sub = ending_inside_may()
    sub.advance_to(MAY, recorded_at=RECORDED_AT, pay=pay_ok)

    proration = sub.change(terms=MAX, quantity=None, when="now", effective_at=utc(2026, 5, 6),
                           recorded_at=RECORDED_AT)

    assert proration is not None
    assert (proration.credit, proration.charge) == (-484, 968)
    assert sub.cancel_at == MAY_11


@settings(max_examples=200, deadline=None)
@given(amount=st.integers(0, 10**9), seconds=st.integers(1, 31 * 86400 - 1))
def test_the_cut_line_and_the_rest_billed_at_a_revoke_make_the_period_within_a_cent(
        amount: int, seconds: int) -> None:
    cancel_at = MAY + timedelta(seconds=seconds)
    sub = ending_inside_may(cancel_at, amount)
    sub.advance_to(MAY, recorded_at=RECORDED_AT, pay=pay_ok)
    sub.revoke_cancellation(effective_at=MAY, recorded_at=RECORDED_AT)
    sub.advance_to(MAY, recorded_at=RECORDED_AT, pay=pay_ok)

    lines = [line for i in invoices(sub) for line in recurring(i) if line[1] >= MAY]
    cut = [a for a, start, end in lines if (start, end) == (MAY, cancel_at)]
    rest = [a for a, start, end in lines if (start, end) == (cancel_at, JUN)]
    assert len(cut) == 1 and len(rest) == (1 if amount else len(rest))
    exact = amount * Fraction(seconds, 31 * 86400)
    assert abs(cut[0] - exact) <= Fraction(1, 2) and 0 <= cut[0] <= amount
    assert abs(cut[0] + sum(rest) - amount) <= 1
