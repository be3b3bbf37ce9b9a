"""A charge recorded as succeeded that its provider denied afterwards
(``domain/charge_reversals.py``): the invoice is due again and in dunning, collected and the
invoice's recognition go down at the reversal's instant, what was recognized before stays.
Figures by hand."""

from __future__ import annotations

from datetime import datetime
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
    utc,
)

from subledger.contract.envelope import to_envelope
from subledger.domain.errors import CurrencyMismatch, InvoiceNotOpen
from subledger.domain.revenue import deferred_at, recognized, revenue_lines
from subledger.domain.subscription import Subscription

APR, MAY = utc(2026, 4, 1), utc(2026, 5, 1)
APR_11, APR_16, APR_21 = utc(2026, 4, 11), utc(2026, 4, 16), utc(2026, 4, 21)


def at(instant: datetime) -> dict[str, Any]:
    return {"effective_at": instant, "recorded_at": RECORDED_AT}


def paid_in_april() -> tuple[Subscription, str, str]:
    """30.00 for April, charged and counted paid on April 1: (subscription, charge, invoice)."""
    sub = start_subscription(plan_terms(amount=3000), at=APR, pay=pay_ok)
    ((charge_id, charge),) = sub.charges.items()
    return sub, charge_id, charge["invoice_id"]


def envelopes(sub: Subscription) -> list[dict[str, Any]]:
    return [to_envelope(n, e) for n, e in enumerate(sub.pending_events, start=1)]


def test_a_denied_charge_reopens_its_invoice_and_starts_dunning() -> None:
    sub, charge, invoice = paid_in_april()
    assert sub.reverse_charge(charge, reason="denied", **at(APR_11))
    assert event_names(sub.pending_events)[-2:] == ["ChargeReversed", "SubscriptionPastDue"]
    assert sub.status == "past_due"
    assert (sub.invoices[invoice]["status"], sub.invoices[invoice]["amount_due"]) == ("open", 3000)
    opened = sub.open_invoices[invoice]
    assert (opened["first_failure_at"], opened["next_attempt_at"]) == (APR_11, utc(2026, 4, 14))
    assert sub.charge_left(charge) == 0  # nothing of it to refund any more
    again = replay(sub.collect_events())
    assert (again.status, again.open_invoices[invoice]["next_attempt_at"]) == ("past_due", utc(2026, 4, 14))


def test_the_reopened_invoice_is_retried_3_5_7_days_after_the_denial_then_canceled() -> None:
    sub, charge, invoice = paid_in_april()
    sub.reverse_charge(charge, reason="denied", **at(APR_11))
    sub.advance_to(utc(2026, 4, 30), recorded_at=RECORDED_AT, pay=pay_declined)
    failed = [(e.attempt, e.effective_at) for e in sub.pending_events
              if type(e).__name__ == "ChargeFailed"]
    assert failed == [(2, utc(2026, 4, 14)), (3, utc(2026, 4, 16)), (4, utc(2026, 4, 18))]
    [canceled] = [e for e in sub.pending_events if type(e).__name__ == "SubscriptionCanceled"]
    assert (sub.status, canceled.reason, canceled.effective_at) \
        == ("canceled", "involuntary", utc(2026, 4, 18))


def test_a_retry_that_succeeds_recovers_the_subscription() -> None:
    sub, charge, invoice = paid_in_april()
    sub.reverse_charge(charge, reason="denied", **at(APR_11))
    sub.advance_to(utc(2026, 4, 14), recorded_at=RECORDED_AT, pay=pay_ok)
    assert event_names(sub.pending_events)[-2:] == ["ChargeSucceeded", "SubscriptionRecovered"]
    assert (sub.status, sub.invoices[invoice]["status"]) == ("active", "paid")


def test_a_charge_is_reversed_once() -> None:
    sub, charge, _invoice = paid_in_april()
    assert sub.reverse_charge(charge, reason="denied", **at(APR_11))
    assert not sub.reverse_charge(charge, reason="denied", **at(APR_11))
    assert event_names(sub.pending_events).count("ChargeReversed") == 1


def test_a_charge_refunded_in_part_is_reversed_for_what_is_left() -> None:
    sub, charge, invoice = paid_in_april()
    intent = sub.request_refund(charge, 1000, reason=None, **at(APR_11))
    sub.record_refund_outcome(intent, succeeded=True, gateway_ref="r_1", failure_code=None,
                              recorded_at=RECORDED_AT)
    assert sub.reverse_charge(charge, reason="denied", **at(APR_16))
    [reversal] = [e for e in sub.pending_events if type(e).__name__ == "ChargeReversed"]
    assert reversal.amount == 2000
    assert sub.invoices[invoice]["amount_due"] == 2000


def test_a_reversal_in_another_currency_than_its_charge_is_refused() -> None:
    sub, charge, _invoice = paid_in_april()
    with pytest.raises(CurrencyMismatch):
        sub.reverse_charge(charge, reason="denied", currency="JPY", **at(APR_11))


def test_a_reversal_takes_off_what_the_invoice_had_left_to_serve_and_what_was_recognized() -> None:
    # 30.00 for April (30 days, 1.00 a day). Denied on April 21: the 10.00 still to serve
    # (April 21-30) comes off over those days, the 20.00 recognized April 1-20 comes off at
    # once on April 21, so the month recognizes nothing, and nothing is deferred after.
    sub, charge, _invoice = paid_in_april()
    sub.reverse_charge(charge, reason="denied", **at(APR_21))
    lines = revenue_lines(envelopes(sub))
    assert recognized(lines, APR, APR_21) == 2000  # what was recognized before stays
    assert recognized(lines, APR_21, MAY) == -2000
    assert recognized(lines, APR, MAY) == 0
    assert deferred_at(lines, utc(2026, 4, 26)) == 0


def test_paid_again_after_a_reversal_the_invoice_is_recognized_in_full() -> None:
    sub, charge, _invoice = paid_in_april()
    sub.reverse_charge(charge, reason="denied", **at(APR_11))
    sub.advance_to(utc(2026, 4, 14), recorded_at=RECORDED_AT, pay=pay_ok)
    lines = revenue_lines(envelopes(sub))
    assert recognized(lines, APR, MAY) == 3000
    assert recognized(lines, APR_11, utc(2026, 4, 14)) == -1000  # 10.00 taken off on the 11th
    assert deferred_at(lines, utc(2026, 4, 21)) == 1000


def test_a_denied_manual_charge_leaves_its_invoice_due_and_payable_by_other_means() -> None:
    sub, _, _ = paid_in_april()
    charge = sub.record_manual_charge(amount=1000, currency="USD", gateway="paypal",
                                      gateway_ref="CAPTURE-1", **at(APR_11))
    invoice = sub.charges[charge]["invoice_id"]
    assert sub.reverse_charge(charge, reason="denied", **at(APR_11))
    assert (sub.status, sub.invoices[invoice]["status"]) == ("active", "open")
    sub.advance_to(MAY, recorded_at=RECORDED_AT, pay=pay_declined)
    assert sub.invoices[invoice]["amount_due"] == 1000, "nothing charges it by itself"

    paid = sub.pay_outside(invoice, gateway="bank", gateway_ref="wire-7", **at(utc(2026, 5, 2)))

    assert (sub.charges[paid]["amount"], sub.invoices[invoice]["status"]) == (1000, "paid")
    assert invoice not in replay(sub.collect_events()).open_invoices


def test_an_invoice_left_unpaid_by_a_canceled_subscription_can_still_be_paid() -> None:
    sub = start_subscription(plan_terms(amount=3000), at=APR, pay=pay_declined)
    sub.advance_to(APR_21, recorded_at=RECORDED_AT, pay=pay_declined)
    [invoice] = sub.invoices
    assert (sub.status, sub.invoices[invoice]["status"]) == ("canceled", "open")

    paid = sub.pay_outside(invoice, gateway="bank", gateway_ref="collections-1", **at(MAY))

    assert sub.charges[paid]["amount"] == 3000
    assert (sub.status, sub.invoices[invoice]["status"]) == ("canceled", "paid")
    assert event_names(sub.pending_events)[-1] == "ChargeSucceeded"
    with pytest.raises(InvoiceNotOpen):
        sub.pay_outside(invoice, gateway="bank", gateway_ref="collections-2", **at(MAY))
