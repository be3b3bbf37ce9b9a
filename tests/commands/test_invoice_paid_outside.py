"""An open invoice paid outside the billing clock, on both stores: its next attempt is
recorded as succeeded with the payment's reference, its dunning ends (no retry charges the
card again) and a subscription past due on it is active again; a payment is recorded once."""

from __future__ import annotations

from typing import Any

import pytest
from support.factories import utc
from support.ledger import add_plan, events_of, log_envelopes, paying_subscriber

from subledger.commands.billing import run_billing
from subledger.commands.ledger import Ledger
from subledger.domain.errors import InvoiceNotOpen, PaymentAlreadyRecorded, UnknownGateway

APRIL_1 = utc(2026, 4, 1)


def _past_due(ledger: Ledger) -> tuple[Any, str]:
    """A 49.00 subscription whose card is declined: past due on its first invoice."""
    add_plan(ledger, "pro", amount=4900)
    ada = paying_subscriber(ledger, "ada@example.com", token="tok_chargeDeclined")
    sub = ledger.subscriptions.start(ada.id, plan_id="pro", effective_at=APRIL_1)
    [invoice] = events_of(ledger, sub.id, "InvoiceIssued")
    return sub, invoice["data"]["invoice_id"]


def test_an_invoice_paid_outside_the_clock_ends_its_dunning(ledger: Ledger) -> None:
    sub, invoice_id = _past_due(ledger)
    assert sub.status == "past_due"

    paid, charge_id = ledger.payments.pay_invoice(invoice_id, gateway="sandbox",
                                                  gateway_ref="wire-7", effective_at=utc(2026, 4, 2))
    run_billing(ledger, utc(2026, 4, 20))  # the retries of Apr 4, 6 and 8 are not taken

    assert paid.status == "active" and invoice_id not in paid.open_invoices
    [succeeded] = events_of(ledger, sub.id, "ChargeSucceeded")
    assert (succeeded["data"]["charge_id"], succeeded["data"]["amount"]) == (charge_id, 4900)
    assert (succeeded["data"]["gateway_ref"], succeeded["data"]["attempt"]) == ("wire-7", 2)
    assert len(events_of(ledger, sub.id, "ChargeFailed")) == 1
    assert [e["type"] for e in events_of(ledger, sub.id)][-2:] == [
        "ChargeSucceeded", "SubscriptionRecovered"]
    assert ledger.subscriptions.get(sub.id).status == "active"


def test_an_invoice_not_open_or_a_payment_recorded_before_is_refused(ledger: Ledger) -> None:
    sub, invoice_id = _past_due(ledger)
    ledger.payments.pay_invoice(invoice_id, gateway="sandbox", gateway_ref="wire-7",
                                effective_at=utc(2026, 4, 2))
    before = log_envelopes(ledger)

    with pytest.raises(InvoiceNotOpen, match="paid"):
        ledger.payments.pay_invoice(invoice_id, gateway="sandbox", gateway_ref="wire-8",
                                    effective_at=utc(2026, 4, 3))
    with pytest.raises(PaymentAlreadyRecorded, match="wire-7"):
        ledger.payments.record_charge(sub.id, amount=100, currency="USD", gateway="sandbox",
                                      gateway_ref="wire-7", effective_at=utc(2026, 4, 3))
    with pytest.raises(UnknownGateway):
        ledger.payments.pay_invoice(invoice_id, gateway="bank", gateway_ref="wire-9")

    assert log_envelopes(ledger) == before
