"""How far a period is billed counts only the invoices still standing: an invoice that
billed a part of the period and was voided bills nothing, so a revoke or a later
cancellation bills that part again, and a pause or a change `now` credits none of it
(docs/decisions.md, "A voided invoice no longer bills its part of the period")."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from support.factories import RECORDED_AT, pay_declined, pay_ok, plan_terms, start_subscription, utc

from subledger.domain.subscription import Subscription

APR, MAY, MAY_3, MAY_5, MAY_11, JUN = (utc(2026, 4, 1), utc(2026, 5, 1), utc(2026, 5, 3), utc(2026, 5, 5),
                                       utc(2026, 5, 11), utc(2026, 6, 1))


def invoices(sub: Subscription) -> list[Any]:
    return [e for e in sub.pending_events if type(e).__name__ == "InvoiceIssued"]


def recurring(invoice: Any) -> list[tuple[int, datetime, datetime]]:
    return [(line["amount"], line["period_start"], line["period_end"])
            for line in invoice.lines if line["kind"] == "recurring"]


def cut_and_voided(cancel_at: datetime = MAY_11, amount: int = 3000,
                   void_at: datetime = MAY_3) -> Subscription:
    """Monthly from April 1, paid; asked on April 10 to end at ``cancel_at``; May invoiced
    up to it, its charge declined, and that invoice voided at ``void_at``."""
    sub = start_subscription(plan_terms("pro", amount=amount), at=APR, pay=pay_ok)
    sub.cancel(when="at", at=cancel_at, comment=None, effective_at=utc(2026, 4, 10),
               recorded_at=RECORDED_AT)
    sub.advance_to(MAY, recorded_at=RECORDED_AT, pay=pay_declined)
    cut = invoices(sub)[-1]
    assert recurring(cut)[0][1:] == (MAY, cancel_at)
    sub.void_invoice(cut.invoice_id, reason=None, effective_at=void_at,
                     recorded_at=RECORDED_AT)
    sub.collect_events()
    return sub


def test_a_revoke_after_the_cut_invoice_was_voided_bills_the_whole_period() -> None:
    sub = cut_and_voided()
    assert sub.billed_until() == MAY

    sub.revoke_cancellation(effective_at=MAY_5, recorded_at=RECORDED_AT)

    (rest,) = invoices(sub)
    assert (rest.reason, recurring(rest), rest.amount_due) == (
        "cancellation_changed", [(3000, MAY, JUN)], 3000)


def test_moving_the_cancellation_later_after_a_void_bills_from_the_periods_start() -> None:
    sub = cut_and_voided()

    sub.cancel(when="at", at=utc(2026, 5, 21), comment=None, effective_at=MAY_5,
               recorded_at=RECORDED_AT)

    (more,) = invoices(sub)
    # [May 1, May 21): 3000 * 20 / 31 = 1935.48
    assert recurring(more) == [(1935, MAY, utc(2026, 5, 21))]


def test_a_voided_rest_leaves_the_period_billed_up_to_the_cut() -> None:
    sub = start_subscription(plan_terms("pro", amount=3000), at=APR, pay=pay_ok)
    sub.cancel(when="at", at=MAY_11, comment=None, effective_at=utc(2026, 4, 10),
               recorded_at=RECORDED_AT)
    sub.advance_to(MAY, recorded_at=RECORDED_AT, pay=pay_ok)
    sub.cancel(when="at", at=utc(2026, 5, 21), comment=None, effective_at=utc(2026, 5, 2),
               recorded_at=RECORDED_AT)
    sub.advance_to(utc(2026, 5, 2), recorded_at=RECORDED_AT, pay=pay_declined)
    sub.void_invoice(invoices(sub)[-1].invoice_id, reason=None, effective_at=MAY_3,
                     recorded_at=RECORDED_AT)
    sub.collect_events()

    sub.revoke_cancellation(effective_at=MAY_5, recorded_at=RECORDED_AT)

    # [May 11, Jun 1): 3000 * 21 / 31 = 2032.26
    assert recurring(invoices(sub)[-1]) == [(2032, MAY_11, JUN)]


def test_a_pause_after_the_void_credits_nothing() -> None:
    sub = cut_and_voided()

    sub.pause(effective_at=MAY_5, recorded_at=RECORDED_AT)

    assert invoices(sub) == []


@settings(max_examples=100, deadline=None)
@given(amount=st.integers(10**4, 10**8), seconds=st.integers(3 * 3600, 31 * 86400 - 1))
def test_after_a_void_and_a_revoke_the_period_is_billed_once_in_full(amount: int, seconds: int) -> None:
    sub = cut_and_voided(MAY + timedelta(seconds=seconds), amount, MAY + timedelta(hours=1))

    sub.revoke_cancellation(effective_at=MAY + timedelta(hours=2), recorded_at=RECORDED_AT)

    standing = [line for i in invoices(sub) for line in recurring(i)]
    assert standing == [(amount, MAY, JUN)]
    assert sum(i.total for i in invoices(sub)) == amount
    assert sub.billed_until() == JUN
