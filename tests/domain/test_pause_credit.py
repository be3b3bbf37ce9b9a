"""A pause in the middle of a paid period credits its unused part (docs/business-rules.md,
Pause and resume): the proration of a change `now` to nothing, in an invoice of its own
(reason `pause`), kept as the credit balance and taken off the resume's invoice."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from support.factories import (
    RECORDED_AT,
    pay_declined,
    pay_ok,
    plan_terms,
    start_subscription,
    utc,
)

from subledger.contract.envelope import to_envelope
from subledger.domain.coupons import CouponTerms
from subledger.domain.mrr import mrr_as_of, mrr_timeline
from subledger.domain.proration import remaining_fraction
from subledger.domain.revenue import deferred_at, recognized, revenue_lines
from subledger.domain.subscription import Subscription

PRO = plan_terms("pro", amount=3000)
FREE = plan_terms("free", amount=0)
APR, APR_11, MAY, JUN = utc(2026, 4, 1), utc(2026, 4, 11), utc(2026, 5, 1), utc(2026, 6, 1)


def invoices(events: list[Any]) -> list[Any]:
    return [e for e in events if type(e).__name__ == "InvoiceIssued"]


def pause(sub: Subscription, at: datetime) -> None:
    sub.pause(effective_at=at, recorded_at=RECORDED_AT)


def coupon(duration: str, percent: str = "50") -> CouponTerms:
    return CouponTerms(coupon_id=f"half-{duration}", percent_off=Decimal(percent), amount_off=None,
                       currency=None, duration=duration, duration_in_months=None)


def change_now_credit(sub: Subscription, at: datetime) -> int:
    """The credit line a change `now` to a free plan at ``at`` gives, on a copy."""
    other = copy.deepcopy(sub)
    proration = other.change(terms=FREE, quantity=None, when="now", effective_at=at,
                             recorded_at=RECORDED_AT)
    assert proration is not None
    return proration.credit


def test_a_pause_on_day_ten_of_thirty_credits_the_twenty_unused_days() -> None:
    sub = start_subscription(PRO, at=APR, pay=pay_ok)
    sub.collect_events()

    pause(sub, APR_11)

    (credit,) = invoices(sub.collect_events())
    assert (credit.reason, credit.total, credit.credit_added, credit.amount_due) == (
        "pause", -2000, 2000, 0)
    assert [(line["kind"], line["amount"], line["period_start"], line["period_end"])
            for line in credit.lines] == [("proration_credit", -2000, APR_11, MAY)]
    assert sub.credit_balance == 2000


def test_the_resume_takes_the_credit_off_its_invoice() -> None:
    sub = start_subscription(PRO, at=APR, pay=pay_ok)
    pause(sub, APR_11)
    sub.collect_events()

    sub.resume(effective_at=utc(2026, 5, 20), recorded_at=RECORDED_AT)

    (resumed,) = invoices(sub.collect_events())
    assert (resumed.reason, resumed.total, resumed.credit_applied, resumed.amount_due) == (
        "resume", 3000, 2000, 1000)
    assert sub.credit_balance == 0


def test_a_pause_at_the_renewal_instant_credits_nothing_and_issues_no_invoice() -> None:
    sub = start_subscription(PRO, at=APR, pay=pay_ok)
    sub.collect_events()

    pause(sub, MAY)

    assert invoices(sub.collect_events()) == []
    assert sub.credit_balance == 0


def test_a_pause_while_past_due_credits_as_a_change_now_would_and_dunning_goes_on() -> None:
    sub = start_subscription(PRO, at=APR, pay=pay_declined)
    assert sub.status == "past_due"
    at = utc(2026, 4, 3)  # before the first retry
    expected = change_now_credit(sub, at)
    sub.collect_events()

    pause(sub, at)

    (credit,) = invoices(sub.collect_events())
    assert credit.total == expected == -2800
    assert list(sub.open_invoices) != []  # the unpaid period is still pursued


def test_a_once_coupon_on_the_periods_invoice_is_taken_off_the_credit_as_off_a_change_now() -> None:
    """May's invoice billed 3 seats at half price (a ``once`` coupon): the unused 21 of 31
    days give back a share of the 45.00 billed, not of the 90.00 price."""
    sub = start_subscription(PRO, at=APR, quantity=3, pay=pay_ok)
    sub.apply_coupon(coupon("once"), effective_at=APR, recorded_at=RECORDED_AT)
    sub.advance_to(MAY, recorded_at=RECORDED_AT, pay=pay_ok)  # May's invoice used the coupon
    at = utc(2026, 5, 11)
    expected = change_now_credit(sub, at)

    pause(sub, at)

    (credit,) = invoices(sub.collect_events())[-1:]
    assert credit.reason == "pause"
    assert credit.total == expected == -round(4500 * Fraction(21, 31))


def test_a_free_first_month_gives_nothing_back_at_a_pause_or_a_downgrade() -> None:
    """A ``once`` 100% coupon: the first month was free, so pausing or moving to a cheaper
    plan on its first day leaves no credit to spend on later invoices."""
    for act in ("pause", "downgrade"):
        sub = start_subscription(PRO, at=APR, quantity=3, pay=pay_ok)
        sub.apply_coupon(coupon("once", "100"), effective_at=APR, recorded_at=RECORDED_AT)
        sub.advance_to(MAY, recorded_at=RECORDED_AT, pay=pay_ok)
        if act == "pause":
            pause(sub, utc(2026, 5, 2))
        else:
            sub.change(terms=None, quantity=1, when="now", effective_at=utc(2026, 5, 2),
                       recorded_at=RECORDED_AT)
        assert sub.credit_balance == 0, act


def test_a_forever_coupon_is_taken_off_the_credit() -> None:
    sub = start_subscription(PRO, at=APR, pay=pay_ok)
    sub.apply_coupon(coupon("forever"), effective_at=APR, recorded_at=RECORDED_AT)
    sub.advance_to(MAY, recorded_at=RECORDED_AT, pay=pay_ok)

    pause(sub, utc(2026, 5, 11))

    (credit,) = invoices(sub.collect_events())[-1:]
    assert credit.total == -round(1500 * Fraction(21, 31)) == change_now_credit_of(1500, 21, 31)


def change_now_credit_of(price: int, remaining: int, days: int) -> int:
    return -round(Fraction(price * remaining, days))


@settings(max_examples=200, deadline=None)
@given(amount=st.integers(0, 10**9), quantity=st.integers(1, 1000),
       seconds=st.integers(0, 30 * 86400 - 1))  # the renewal instant: a test above
def test_the_credit_and_the_used_part_make_the_line_and_match_a_change_now(
        amount: int, quantity: int, seconds: int) -> None:
    sub = start_subscription(plan_terms(amount=amount), at=APR, quantity=quantity, pay=pay_ok)
    line = sub.amount * sub.quantity
    at = APR + timedelta(seconds=seconds)
    expected = change_now_credit(sub, at)
    sub.collect_events()

    pause(sub, at)

    credits = invoices(sub.collect_events())
    credit = -credits[0].total if credits else 0
    exact = line * remaining_fraction(sub.current_period, at)
    assert 0 <= credit <= line
    assert abs(credit - exact) <= Fraction(1, 2)
    assert -credit == expected
    used = line - credit
    assert credit + used == line and used >= 0
    assert sub.credit_balance == credit


def envelopes(sub: Subscription) -> list[dict[str, Any]]:
    return [to_envelope(n, e) for n, e in enumerate(sub.pending_events, start=1)]


def test_the_credited_part_stops_being_recognized_from_the_pause_and_mrr_is_unchanged() -> None:
    sub = start_subscription(PRO, at=APR, pay=pay_ok)
    pause(sub, APR_11)
    sub.resume(effective_at=MAY, recorded_at=RECORDED_AT)
    sub.advance_to(MAY, recorded_at=RECORDED_AT, pay=pay_ok)

    log = envelopes(sub)
    lines = revenue_lines(log)
    assert recognized(lines, APR, APR_11) == 1000
    assert recognized(lines, APR_11, MAY) == 0
    assert recognized(lines, APR, MAY) == 1000  # the ten days served
    assert deferred_at(lines, APR_11) == 0
    assert recognized(lines, MAY, JUN) == 3000
    timeline = mrr_timeline(log)
    assert [mrr_as_of(timeline, t)["USD"] for t in (APR, APR_11, MAY)] == [3000, 0, 3000]
