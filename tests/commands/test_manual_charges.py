"""Payments taken outside the billing clock, recorded by hand, on both stores: a provider's
payment is counted once in the whole ledger, whichever subscription it is recorded on."""

from __future__ import annotations

import pytest
from support.factories import utc
from support.ledger import add_plan, log_envelopes, paying_subscriber

from subledger.commands.ledger import Ledger
from subledger.domain.errors import PaymentAlreadyRecorded

APRIL_1 = utc(2026, 4, 1)


def _two_subscriptions(ledger: Ledger) -> tuple[object, object]:
    add_plan(ledger, "pro", amount=4900)
    ada = paying_subscriber(ledger, "ada@example.com")
    bob = paying_subscriber(ledger, "bob@example.com")
    return (ledger.subscriptions.start(ada.id, plan_id="pro", effective_at=APRIL_1),
            ledger.subscriptions.start(bob.id, plan_id="pro", effective_at=APRIL_1))


def test_a_payment_recorded_on_one_subscription_is_refused_on_another(ledger: Ledger) -> None:
    ada, bob = _two_subscriptions(ledger)
    payment = {"amount": 500, "currency": "USD", "gateway": "sandbox", "gateway_ref": "pi_wire_1"}
    ledger.payments.record_charge(ada.id, **payment, effective_at=utc(2026, 4, 2))
    before = log_envelopes(ledger)

    with pytest.raises(PaymentAlreadyRecorded, match="pi_wire_1"):
        ledger.payments.record_charge(bob.id, **payment, effective_at=utc(2026, 4, 3))

    assert log_envelopes(ledger) == before


def test_a_payment_the_billing_clock_took_is_refused_as_a_manual_one_elsewhere(
        ledger: Ledger) -> None:
    ada, bob = _two_subscriptions(ledger)
    [charge] = ada.charges.values()
    before = log_envelopes(ledger)

    with pytest.raises(PaymentAlreadyRecorded):
        ledger.payments.record_charge(bob.id, amount=4900, currency="USD", gateway="sandbox",
                                      gateway_ref=charge["gateway_ref"], effective_at=utc(2026, 4, 3))

    assert log_envelopes(ledger) == before

