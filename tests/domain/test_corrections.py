"""Corrections of what a subscription invoiced (docs/business-rules.md, Corrections): void,
write-off, credit note, balance adjustment and a retry by hand, each a new event; a refused
correction leaves the subscription as it was."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import pytest
from support.factories import (
    RECORDED_AT,
    event_names,
    pay_declined,
    pay_ok,
    plan_terms,
    replay,
    start_subscription,
    state,
    utc,
)

from subledger.domain.charges import DUNNING, UNPAID, ChargeOutcome, Dunning
from subledger.domain.errors import (
    InvalidInput,
    InvoiceNotCreditable,
    InvoiceNotFound,
    InvoiceNotOpen,
)
from subledger.domain.invoicing import OPEN, PAID, UNCOLLECTIBLE, VOID
from subledger.domain.lifecycle import ACTIVE, CANCELED, PAST_DUE
from subledger.domain.subscription import Subscription

START = utc(2026, 3, 1)
LATER = utc(2026, 3, 2, 12)


def _at(sub: Subscription, instant: datetime, **kw: Any) -> dict[str, Any]:
    return {"effective_at": instant, "recorded_at": RECORDED_AT, **kw}


def paid(amount: int = 3000, quantity: int = 1) -> tuple[Subscription, str]:
    """A subscription whose first invoice was paid; (subscription, invoice id)."""
    sub = start_subscription(plan_terms(amount=amount), at=START, quantity=quantity, pay=pay_ok)
    (invoice_id,) = sub.invoices
    return sub, invoice_id


def declined() -> tuple[Subscription, str]:
    """A past-due subscription whose first invoice's charge was declined."""
    sub = start_subscription(plan_terms(amount=3000), at=START, pay=pay_declined)
    (invoice_id,) = sub.invoices
    assert sub.status == PAST_DUE
    return sub, invoice_id


def last_invoice_issued(sub: Subscription) -> Any:
    return [e for e in sub.pending_events if type(e).__name__ == "InvoiceIssued"][-1]


def new_events(sub: Subscription, before: int) -> list[str]:
    return event_names(sub.pending_events[before:])


# -- void ---------------------------------------------------------------------------------


def test_voiding_an_unpaid_invoice_ends_its_dunning_and_the_subscription_recovers() -> None:
    sub, invoice_id = declined()
    before = len(sub.pending_events)
    sub.void_invoice(invoice_id, reason="billed in error", **_at(sub, LATER))
    assert new_events(sub, before) == ["InvoiceVoided", "SubscriptionRecovered"]
    assert sub.invoices[invoice_id]["status"] == VOID
    assert sub.invoices[invoice_id]["amount_due"] == 0
    assert invoice_id not in sub.open_invoices
    assert sub.status == ACTIVE
    assert sub.next_due() == sub.current_period_end  # no more attempts, only the renewal


def test_voiding_gives_back_the_credit_the_invoice_took_from_the_balance() -> None:
    sub, first = paid(amount=3000)
    sub.adjust_balance(1000, reason="goodwill", **_at(sub, LATER))
    sub.advance_to(utc(2026, 4, 1), recorded_at=RECORDED_AT, pay=pay_declined)
    renewal = list(sub.invoices)[-1]
    assert sub.invoices[renewal]["credit_applied"] == 1000
    assert sub.invoices[renewal]["amount_due"] == 2000
    assert sub.credit_balance == 0
    sub.void_invoice(renewal, reason=None, **_at(sub, utc(2026, 4, 2)))
    assert sub.credit_balance == 1000
    voided = sub.pending_events[-2]
    assert (voided.total, voided.credit_restored) == (3000, 1000)


def test_a_paid_invoice_cannot_be_voided_and_nothing_is_recorded() -> None:
    sub, invoice_id = paid()
    before = state(sub)
    with pytest.raises(InvoiceNotOpen):
        sub.void_invoice(invoice_id, reason=None, **_at(sub, LATER))
    assert state(sub) == before


def test_an_unknown_invoice_is_not_found() -> None:
    sub, _ = paid()
    with pytest.raises(InvoiceNotFound):
        sub.void_invoice("00000000-0000-4000-8000-0000000000ff", reason=None, **_at(sub, LATER))


# -- write-off ----------------------------------------------------------------------------


def test_writing_off_keeps_what_was_billed_and_stops_the_attempts() -> None:
    sub, invoice_id = declined()
    sub.write_off(invoice_id, reason="customer unreachable", **_at(sub, LATER))
    written = sub.pending_events[-2]
    assert type(written).__name__ == "InvoiceMarkedUncollectible"
    assert (written.amount_due, written.reason) == (3000, "customer unreachable")
    assert sub.invoices[invoice_id]["status"] == UNCOLLECTIBLE
    assert sub.invoices[invoice_id]["amount_due"] == 3000  # owed, never collected
    assert sub.status == ACTIVE
    sub.advance_to(utc(2026, 3, 31), recorded_at=RECORDED_AT, pay=pay_ok)
    assert "ChargeFailed" not in new_events(sub, len(sub.pending_events) - 1)


def test_the_dunning_policy_unpaid_writes_the_invoice_off_after_the_last_retry() -> None:
    policy = Dunning(retry_days=(1, 2), final=UNPAID)
    sub = start_subscription(plan_terms(amount=3000), at=START)
    sub.advance_to(utc(2026, 3, 20), recorded_at=RECORDED_AT, pay=pay_declined, dunning=policy)
    names = event_names(sub.pending_events)
    assert names.count("ChargeFailed") == 3
    assert names[-2:] == ["InvoiceMarkedUncollectible", "SubscriptionRecovered"]
    assert sub.status == ACTIVE
    failures = [e for e in sub.pending_events if type(e).__name__ == "ChargeFailed"]
    assert [f.next_attempt_at for f in failures] == [utc(2026, 3, 2), utc(2026, 3, 3), None]


def test_the_default_dunning_policy_cancels_after_the_last_retry() -> None:
    sub = start_subscription(plan_terms(amount=3000), at=START)
    sub.advance_to(utc(2026, 3, 20), recorded_at=RECORDED_AT, pay=pay_declined)
    failures = [e for e in sub.pending_events if type(e).__name__ == "ChargeFailed"]
    assert [f.next_attempt_at for f in failures] == [
        START + timedelta(days=d) for d in DUNNING.retry_days] + [None]
    assert sub.status == CANCELED


@pytest.mark.parametrize("retry_days, final", [((), "cancel"), ((3, 2), "cancel"), ((0, 1), "cancel"),
                                               ((1, 1), "cancel"), ((1,), "pause"),
                                               ((3, 366), "unpaid")])
def test_a_dunning_policy_is_increasing_whole_days_within_a_year_and_cancel_or_unpaid(
        retry_days: tuple[int, ...], final: str) -> None:
    with pytest.raises(ValueError):
        Dunning(retry_days=retry_days, final=final)


def test_a_shorter_policy_in_the_middle_of_a_dunning_never_dates_a_retry_before_the_last_failure() -> None:
    sub = start_subscription(plan_terms(amount=3000), at=START, pay=pay_declined)
    shorter = Dunning(retry_days=(1, 2), final=UNPAID)

    sub.advance_to(utc(2026, 3, 10), recorded_at=RECORDED_AT, pay=pay_declined, dunning=shorter)

    failures = [e for e in sub.pending_events if type(e).__name__ == "ChargeFailed"]
    assert [(f.effective_at, f.next_attempt_at) for f in failures] == [
        (START, START + timedelta(days=3)),  # by the policy in force then
        (START + timedelta(days=3), START + timedelta(days=3)),  # day 2 has passed: at once
        (START + timedelta(days=3), None),
    ]
    times = [e.effective_at for e in sub.pending_events]
    assert times == sorted(times)
    assert event_names(sub.pending_events)[-2:] == ["InvoiceMarkedUncollectible", "SubscriptionRecovered"]


def test_a_dunning_policy_is_written_as_its_setting() -> None:
    assert str(DUNNING) == "3,5,7:cancel"
    assert str(Dunning(retry_days=(1, 30, 365), final=UNPAID)) == "1,30,365:unpaid"


# -- retry by hand ------------------------------------------------------------------------


def test_a_retry_by_hand_is_due_at_once_and_leaves_the_schedule_as_it_was() -> None:
    sub, invoice_id = declined()
    failed = sub.pending_events[-2]
    assert type(failed).__name__ == "ChargeFailed"
    scheduled = sub.open_invoices[invoice_id]["next_attempt_at"]
    assert sub.retry_charge(failed.charge_id, **_at(sub, LATER)) == invoice_id
    assert sub.next_due() == LATER
    intent = sub.next_step(LATER, recorded_at=RECORDED_AT)
    assert intent is not None and intent.manual and intent.attempt == 2
    sub.record_charge(intent, ChargeOutcome(False, "sandbox", "x", "card_declined"),
                      recorded_at=RECORDED_AT)
    assert sub.open_invoices[invoice_id]["next_attempt_at"] == scheduled
    assert sub.status == PAST_DUE
    sub.advance_to(scheduled, recorded_at=RECORDED_AT, pay=pay_ok)
    assert sub.invoices[invoice_id]["status"] == PAID
    assert sub.status == ACTIVE


def test_a_retry_by_hand_that_succeeds_recovers_the_subscription() -> None:
    sub, invoice_id = declined()
    failed = sub.pending_events[-2]
    sub.retry_charge(failed.charge_id, **_at(sub, LATER))
    sub.advance_to(LATER, recorded_at=RECORDED_AT, pay=pay_ok)
    assert new_events(sub, len(sub.pending_events) - 2) == ["ChargeSucceeded", "SubscriptionRecovered"]


def test_a_retry_of_a_charge_that_is_not_a_failed_attempt_is_refused() -> None:
    sub, invoice_id = paid()
    (charge_id,) = sub.charges
    with pytest.raises(InvoiceNotOpen):
        sub.retry_charge(charge_id, **_at(sub, LATER))


# -- credit notes -------------------------------------------------------------------------


def test_a_full_credit_note_as_refund_requests_the_refund_it_names() -> None:
    sub, invoice_id = paid(amount=3000)
    note_id = sub.issue_credit_note(invoice_id, lines=None, settlement="refund",
                                    reason="service outage", **_at(sub, LATER))
    note, refund = sub.pending_events[-2:]
    assert type(note).__name__ == "CreditNoteIssued"
    assert (note.credit_note_id, note.total, note.settlement) == (note_id, 3000, "refund")
    assert note.lines == [{"index": 0, "amount": 3000, "description": "credit: basic v1 (month) × 1"}]
    assert type(refund).__name__ == "RefundRequested"
    assert (refund.refund_id, refund.amount) == (note.refund_id, 3000)
    assert sub.invoices[invoice_id]["credited"] == [3000]
    assert sub.credit_balance == 0


def test_a_partial_credit_by_line_as_credit_balance_is_taken_off_the_next_invoice() -> None:
    sub, invoice_id = paid(amount=1000, quantity=3)
    sub.issue_credit_note(invoice_id, lines=[(0, 1000)], settlement="credit_balance",
                          reason="one seat unused", **_at(sub, LATER))
    assert sub.credit_balance == 1000
    sub.advance_to(utc(2026, 4, 1), recorded_at=RECORDED_AT, pay=pay_ok)
    renewal = last_invoice_issued(sub)
    assert (renewal.total, renewal.credit_applied, renewal.amount_due) == (3000, 1000, 2000)


def test_a_line_cannot_be_credited_beyond_what_is_left_of_it() -> None:
    sub, invoice_id = paid(amount=3000)
    sub.issue_credit_note(invoice_id, lines=[(0, 2000)], settlement="credit_balance",
                          reason=None, **_at(sub, LATER))
    before = copy.deepcopy(state(sub))
    with pytest.raises(InvoiceNotCreditable, match="1000 left"):
        sub.issue_credit_note(invoice_id, lines=[(0, 1001)], settlement="credit_balance",
                              reason=None, **_at(sub, LATER))
    assert state(sub) == before
    sub.issue_credit_note(invoice_id, lines=None, settlement="credit_balance", reason=None,
                          **_at(sub, LATER))
    assert sub.invoices[invoice_id]["credited"] == [3000]
    with pytest.raises(InvoiceNotCreditable, match="nothing left"):
        sub.issue_credit_note(invoice_id, lines=None, settlement="credit_balance", reason=None,
                              **_at(sub, LATER))


@pytest.mark.parametrize("lines", [[(1, 100)], [(-1, 100)], [(0, 0)], [(True, 100)]])
def test_a_credit_note_names_an_existing_line_and_an_amount_above_zero(lines: Any) -> None:
    sub, invoice_id = paid()
    with pytest.raises(InvalidInput):
        sub.issue_credit_note(invoice_id, lines=lines, settlement="credit_balance",
                              reason=None, **_at(sub, LATER))


def test_a_discount_line_is_not_creditable_and_a_full_note_credits_the_total() -> None:
    from decimal import Decimal

    from subledger.domain.coupons import CouponTerms
    sub = start_subscription(plan_terms(amount=3000), at=START, trial_days=3)
    sub.apply_coupon(CouponTerms("half", Decimal(50), None, None, "forever", None),
                     **_at(sub, utc(2026, 3, 2)))
    sub.advance_to(utc(2026, 3, 4), recorded_at=RECORDED_AT, pay=pay_ok)
    invoice_id = list(sub.invoices)[-1]
    kinds = [line["kind"] for line in sub.invoices[invoice_id]["lines"]]
    assert kinds == ["recurring", "discount"]
    with pytest.raises(InvoiceNotCreditable):
        sub.issue_credit_note(invoice_id, lines=[(1, 100)], settlement="credit_balance",
                              reason=None, **_at(sub, utc(2026, 3, 5)))
    sub.issue_credit_note(invoice_id, lines=None, settlement="credit_balance", reason=None,
                          **_at(sub, utc(2026, 3, 5)))
    assert sub.credit_balance == 1500


def test_an_unpaid_invoice_is_credited_off_what_is_due_and_paid_when_nothing_is_left() -> None:
    sub, invoice_id = declined()
    with pytest.raises(InvoiceNotCreditable, match="amount_due"):
        sub.issue_credit_note(invoice_id, lines=None, settlement="refund", reason=None,
                              **_at(sub, LATER))
    sub.issue_credit_note(invoice_id, lines=[(0, 1000)], settlement="amount_due", reason=None,
                          **_at(sub, LATER))
    assert sub.open_invoices[invoice_id]["amount_due"] == 2000
    assert sub.status == PAST_DUE
    sub.issue_credit_note(invoice_id, lines=None, settlement="amount_due", reason=None,
                          **_at(sub, LATER))
    assert sub.invoices[invoice_id]["status"] == PAID
    assert invoice_id not in sub.open_invoices
    assert sub.status == ACTIVE


def test_a_paid_invoice_is_not_credited_off_what_is_due() -> None:
    sub, invoice_id = paid()
    with pytest.raises(InvoiceNotCreditable, match="refund or credit_balance"):
        sub.issue_credit_note(invoice_id, lines=None, settlement="amount_due", reason=None,
                              **_at(sub, LATER))


def test_a_refund_beyond_what_the_charge_has_left_is_refused_with_the_way_out() -> None:
    sub, first = paid(amount=3000)
    sub.issue_credit_note(first, lines=[(0, 1000)], settlement="credit_balance", reason=None,
                          **_at(sub, LATER))
    sub.advance_to(utc(2026, 4, 1), recorded_at=RECORDED_AT, pay=pay_ok)
    renewal = last_invoice_issued(sub)
    assert (renewal.total, renewal.credit_applied, renewal.amount_due) == (3000, 1000, 2000)
    at = _at(sub, utc(2026, 4, 2))
    with pytest.raises(InvoiceNotCreditable, match="settle the rest as credit_balance"):
        sub.issue_credit_note(renewal.invoice_id, lines=None, settlement="refund", reason=None, **at)
    sub.issue_credit_note(renewal.invoice_id, lines=[(0, 2000)], settlement="refund", reason=None, **at)
    sub.issue_credit_note(renewal.invoice_id, lines=None, settlement="credit_balance", reason=None, **at)
    assert sub.invoices[renewal.invoice_id]["credited"] == [3000]
    assert sub.credit_balance == 1000


def test_a_voided_invoice_cannot_be_credited() -> None:
    sub, invoice_id = declined()
    sub.void_invoice(invoice_id, reason=None, **_at(sub, LATER))
    with pytest.raises(InvoiceNotCreditable, match="void"):
        sub.issue_credit_note(invoice_id, lines=None, settlement="credit_balance", reason=None,
                              **_at(sub, LATER))


def test_a_canceled_subscriptions_invoice_can_still_be_credited() -> None:
    sub, invoice_id = paid()
    sub.cancel(when="now", at=None, comment=None, **_at(sub, LATER))
    sub.issue_credit_note(invoice_id, lines=None, settlement="refund", reason=None,
                          **_at(sub, utc(2026, 3, 11)))
    assert sub.invoices[invoice_id]["credited"] == [3000]


# -- balance adjustments ------------------------------------------------------------------


def test_a_debit_is_added_to_the_next_invoices_amount_due() -> None:
    sub, _ = paid(amount=3000)
    sub.adjust_balance(-500, reason="late fee", **_at(sub, LATER))
    assert sub.credit_balance == -500
    sub.advance_to(utc(2026, 4, 1), recorded_at=RECORDED_AT, pay=pay_ok)
    renewal = last_invoice_issued(sub)
    assert (renewal.total, renewal.credit_applied, renewal.amount_due) == (3000, -500, 3500)
    assert sub.credit_balance == 0


@pytest.mark.parametrize("amount, reason", [(0, "x"), (1.5, "x"), (True, "x"), (100, ""),
                                            (10**13, "x")])
def test_an_adjustment_is_a_nonzero_whole_amount_with_a_reason(amount: Any, reason: str) -> None:
    sub, _ = paid()
    with pytest.raises(InvalidInput):
        sub.adjust_balance(amount, reason=reason, **_at(sub, LATER))


# -- the log ------------------------------------------------------------------------------


def test_every_correction_replays_to_the_same_state() -> None:
    sub, invoice_id = paid(amount=3000)
    sub.issue_credit_note(invoice_id, lines=[(0, 1000)], settlement="credit_balance",
                          reason=None, **_at(sub, LATER))
    sub.adjust_balance(-200, reason="fee", **_at(sub, LATER))
    sub.advance_to(utc(2026, 4, 1), recorded_at=RECORDED_AT, pay=pay_declined)
    sub.write_off(list(sub.invoices)[-1], reason=None, **_at(sub, utc(2026, 4, 2)))
    assert state(replay(sub.pending_events)) == state(sub)


def test_the_unpaid_invoice_of_a_subscription_canceled_by_dunning_can_be_written_off() -> None:
    sub = start_subscription(plan_terms(amount=3000), at=START)
    sub.advance_to(utc(2026, 3, 20), recorded_at=RECORDED_AT, pay=pay_declined)
    assert sub.status == CANCELED
    (invoice_id,) = sub.invoices
    assert sub.invoices[invoice_id]["status"] == OPEN
    sub.write_off(invoice_id, reason="churned", **_at(sub, utc(2026, 3, 21)))
    assert sub.invoices[invoice_id]["status"] == UNCOLLECTIBLE
    assert sub.status == CANCELED
