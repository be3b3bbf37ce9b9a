"""Previews in the domain: the invoice a change would issue and the next one the billing
clock would issue, read from the code that issues them, on a copy. Every expected amount is
written here by hand (Ada's example of docs/billing.md: 10 days of a 31-day March left)."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction
from typing import Any

import pytest
from support.factories import (
    RECORDED_AT,
    SUBSCRIBER_ID,
    pay_declined,
    pay_ok,
    plan_terms,
    start_subscription,
    state,
    utc,
)

from subledger.domain.coupons import CouponTerms
from subledger.domain.errors import (
    CurrencyMismatch,
    EffectiveAtOutOfOrder,
    EmptyChange,
    NoUpcomingInvoice,
    SubscriptionAlreadyCanceled,
    SubscriptionPaused,
)
from subledger.domain.plans import PlanTerms
from subledger.domain.previews import CommandPreview, preview_command, upcoming_invoice
from subledger.domain.subscription import Subscription

MARCH_1, MARCH_22, APRIL_1 = utc(2026, 3, 1), utc(2026, 3, 22), utc(2026, 4, 1)
BASIC = plan_terms("basic", amount=1000)
PRO = plan_terms("pro", amount=3000)
BASIC_YEARLY = plan_terms("basic-y", amount=10000, interval="year")
EURO = plan_terms("euro", amount=1000, currency="EUR")
TWENTY = CouponTerms(coupon_id="TWENTY", percent_off=20, amount_off=None, currency=None,
                     duration="forever", duration_in_months=None)


def on(terms: PlanTerms, *, trial_days: int | None = None, coupon: CouponTerms | None = None) -> Subscription:
    """A subscription started on March 1 (its first invoice paid), its events collected."""
    sub = Subscription.start(subscriber_id=SUBSCRIBER_ID, terms=terms, quantity=1, trial_days=trial_days,
                             effective_at=MARCH_1, recorded_at=RECORDED_AT, coupon=coupon)
    sub.advance_to(MARCH_1, recorded_at=RECORDED_AT, pay=pay_ok)
    sub.collect_events()
    return sub


def preview_change(sub: Subscription, *, terms: PlanTerms | None = None, quantity: int | None = None,
                   when: str = "now", at: Any = MARCH_22) -> CommandPreview:
    def command(probe: Subscription) -> None:
        probe.change(terms=terms, quantity=quantity, when=when, effective_at=at, recorded_at=RECORDED_AT)

    return preview_command(sub, command, at=at, recorded_at=RECORDED_AT)


def amounts(invoice: Any) -> list[tuple[str, int]]:
    return [(line["kind"], line["amount"]) for line in invoice.lines]


def test_an_upgrade_now_previews_its_proration_invoice_and_the_renewal_on_the_new_price() -> None:
    preview = preview_change(on(BASIC), terms=PRO)
    assert preview.invoice is not None
    assert (preview.invoice.reason, preview.invoice.issued_at) == ("proration", MARCH_22)
    assert amounts(preview.invoice) == [("proration_credit", -323), ("proration_charge", 968)]
    assert (preview.invoice.total, preview.invoice.amount_due) == (645, 645)
    assert preview.upcoming_invoice is not None
    assert (preview.upcoming_invoice.issued_at, amounts(preview.upcoming_invoice)) == (
        APRIL_1, [("recurring", 3000)])
    assert (preview.subscription.plan_id, preview.subscription.status) == ("pro", "active")
    assert (preview.mrr_before, preview.mrr_after) == (1000, 3000)


def test_a_downgrade_now_previews_the_credit_kept_and_taken_by_the_next_renewal() -> None:
    preview = preview_change(on(PRO), terms=BASIC)
    invoice, upcoming = preview.invoice, preview.upcoming_invoice
    assert invoice is not None and upcoming is not None
    assert (invoice.total, invoice.credit_added, invoice.amount_due) == (-645, 645, 0)
    assert preview.subscription.credit_balance == 645
    assert (upcoming.total, upcoming.credit_applied, upcoming.amount_due) == (1000, 645, 355)


def test_a_change_of_interval_previews_the_credit_and_the_new_period_whole() -> None:
    preview = preview_change(on(BASIC), terms=BASIC_YEARLY)
    assert preview.invoice is not None
    assert amounts(preview.invoice) == [("proration_credit", -323), ("recurring", 10000)]
    assert preview.invoice.lines[1]["period_end"] == utc(2027, 3, 22)
    assert preview.subscription.billing_anchor == MARCH_22
    assert preview.mrr_after == Fraction(10000, 12)


def test_a_change_at_period_end_issues_nothing_now_and_previews_the_renewal_on_the_new_terms() -> None:
    preview = preview_change(on(BASIC), terms=PRO, quantity=2, when="period_end")
    assert preview.invoice is None
    assert preview.upcoming_invoice is not None
    assert (preview.upcoming_invoice.reason, preview.upcoming_invoice.issued_at) == ("renewal", APRIL_1)
    assert amounts(preview.upcoming_invoice) == [("recurring", 6000)]
    assert preview.subscription.scheduled_change is not None
    assert preview.mrr_before == preview.mrr_after == 1000


def test_a_change_during_a_trial_issues_nothing_now_and_previews_the_conversion() -> None:
    preview = preview_change(on(BASIC, trial_days=14), terms=PRO, at=utc(2026, 3, 5))
    assert preview.invoice is None
    upcoming = preview.upcoming_invoice
    assert upcoming is not None
    assert (upcoming.reason, upcoming.issued_at, amounts(upcoming)) == (
        "trial_end", utc(2026, 3, 15), [("recurring", 3000)])
    assert preview.mrr_after == 0


def test_a_coupon_in_force_is_a_discount_of_the_upcoming_invoice() -> None:
    invoice = upcoming_invoice(on(BASIC, coupon=TWENTY), recorded_at=RECORDED_AT)
    assert amounts(invoice) == [("recurring", 1000), ("discount", -200)]
    assert [(d.coupon_id, d.amount) for d in invoice.discounts] == [("TWENTY", -200)]
    assert (invoice.total, invoice.amount_due) == (800, 800)


def test_a_repeating_coupon_that_ends_before_the_renewal_discounts_nothing() -> None:
    once_a_month = CouponTerms(coupon_id="ONE", percent_off=50, amount_off=None, currency=None,
                               duration="repeating", duration_in_months=1)
    invoice = upcoming_invoice(on(BASIC, coupon=once_a_month), recorded_at=RECORDED_AT)
    assert (amounts(invoice), invoice.discounts) == ([("recurring", 1000)], ())


def test_the_upcoming_invoice_is_the_renewal_the_clock_has_not_run_yet_at_its_due_instant() -> None:
    sub = on(BASIC)  # nothing has run the clock since March 1
    invoice = upcoming_invoice(sub, recorded_at=RECORDED_AT)
    assert (invoice.reason, invoice.issued_at) == ("renewal", APRIL_1)
    sub.advance_to(utc(2026, 6, 10), recorded_at=RECORDED_AT, pay=pay_ok)
    assert upcoming_invoice(sub, recorded_at=RECORDED_AT).issued_at == utc(2026, 7, 1)


def test_a_preview_changes_nothing_of_the_subscription_it_is_asked_of() -> None:
    sub = start_subscription(BASIC, at=MARCH_1)  # its first charge still due
    before, pending = state(sub), list(sub.pending_events)
    preview = preview_change(sub, terms=PRO)
    upcoming_invoice(sub, recorded_at=RECORDED_AT)
    assert (state(sub), list(sub.pending_events)) == (before, pending)
    assert preview.subscription.open_invoices == {}  # the charges due were assumed paid


def test_charges_falling_due_before_a_change_are_assumed_paid() -> None:
    sub = on(BASIC)
    sub.advance_to(APRIL_1, recorded_at=RECORDED_AT, pay=pay_declined)
    sub.collect_events()
    assert sub.status == "past_due"
    preview = preview_change(sub, terms=PRO, at=utc(2026, 4, 20))  # after the retries of April 4, 6, 8
    assert preview.subscription.status == "active"
    assert preview.invoice is not None and preview.invoice.total > 0


@pytest.mark.parametrize("setup,change,error", [
    (lambda s: s.cancel(when="now", at=None, comment=None, effective_at=MARCH_1 + timedelta(days=1),
                        recorded_at=RECORDED_AT), {"terms": PRO}, SubscriptionAlreadyCanceled),
    (lambda s: s.pause(effective_at=MARCH_1 + timedelta(days=1), recorded_at=RECORDED_AT),
     {"terms": PRO}, SubscriptionPaused),
    (lambda s: None, {"terms": EURO}, CurrencyMismatch),
    (lambda s: None, {"terms": BASIC, "quantity": 1}, EmptyChange),
    (lambda s: None, {"terms": PRO, "at": MARCH_1 - timedelta(days=1)}, EffectiveAtOutOfOrder),
])
def test_a_change_the_subscription_would_refuse_is_refused_by_its_preview_with_the_same_error(
    setup: Any, change: dict[str, Any], error: type[Exception],
) -> None:
    sub = on(BASIC)
    setup(sub)
    sub.collect_events()
    with pytest.raises(error):
        preview_change(sub, **change)
    with pytest.raises(error):
        sub.change(terms=change["terms"], quantity=change.get("quantity"), when="now",
                   effective_at=change.get("at", MARCH_22), recorded_at=RECORDED_AT)


@pytest.mark.parametrize("setup,why", [
    (lambda s: s.cancel(when="now", at=None, comment=None, effective_at=MARCH_22,
                        recorded_at=RECORDED_AT), "is canceled"),
    (lambda s: s.pause(effective_at=MARCH_22, recorded_at=RECORDED_AT), "is paused"),
    (lambda s: s.cancel(when="period_end", at=None, comment=None, effective_at=MARCH_22,
                        recorded_at=RECORDED_AT), "to be canceled at 2026-04-01T00:00:00Z"),
])
def test_no_upcoming_invoice_for_a_canceled_paused_or_ending_subscription(setup: Any, why: str) -> None:
    sub = on(BASIC)
    setup(sub)
    with pytest.raises(NoUpcomingInvoice, match=why):
        upcoming_invoice(sub, recorded_at=RECORDED_AT)


def test_no_upcoming_invoice_for_a_trial_canceled_at_its_end() -> None:
    sub = on(BASIC, trial_days=14)
    sub.cancel(when="period_end", at=None, comment=None, effective_at=utc(2026, 3, 5),
               recorded_at=RECORDED_AT)
    with pytest.raises(NoUpcomingInvoice, match="trial is not converted"):
        upcoming_invoice(sub, recorded_at=RECORDED_AT)
