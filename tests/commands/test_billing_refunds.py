"""Refunds and manual charges through the ledger, on both stores: refunds add up to at most
the charge, refuse what is not there, and never touch the subscription's terms."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from fakes.gateways import RecordingGateway, recording_ledger
from support.factories import utc
from support.ledger import (
    add_plan,
    events_of,
    invoices_of,
    loads_stale,
    log_envelopes,
    paying_subscriber,
    timeline,
)

from subledger.commands.billing import run_billing
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.domain.errors import (
    ChargeNotFound,
    ConcurrentModification,
    CurrencyMismatch,
    EffectiveAtOutOfOrder,
    InvalidInput,
    PaymentAlreadyRecorded,
    RefundExceedsCharge,
    SubscriptionAlreadyCanceled,
    UnknownGateway,
)

APRIL_1 = utc(2026, 4, 1)


@pytest.fixture
def paid(ledger: Ledger) -> tuple[Ledger, Any, str]:
    """A 49.00/month subscription started on April 1 and its first charge (49.00, paid)."""
    add_plan(ledger, "pro", amount=4900)
    add_plan(ledger, "basic", amount=1000)
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="pro", effective_at=APRIL_1)
    (charge_id,) = sub.charges
    return ledger, sub, charge_id


def terms(subscription: Any) -> tuple[Any, ...]:
    return (subscription.status, subscription.plan_id, subscription.plan_version,
            subscription.amount, subscription.quantity, subscription.current_period_start,
            subscription.current_period_end, subscription.credit_balance, subscription.coupon)


def test_partial_refunds_add_up_to_the_charge_and_not_a_cent_more(paid) -> None:  # type: ignore[no-untyped-def]
    ledger, sub, charge_id = paid

    _, first = ledger.payments.refund_charge(charge_id, amount=1000, effective_at=utc(2026, 4, 2))
    _, second = ledger.payments.refund_charge(charge_id, amount=2500, reason="goodwill", effective_at=utc(2026, 4, 3))
    loaded, third = ledger.payments.refund_charge(charge_id, amount=1400, effective_at=utc(2026, 4, 4))

    assert len({first, second, third}) == 3
    refunds = events_of(ledger, sub.id, "RefundIssued")
    assert [(r["data"]["refund_id"], r["data"]["amount"]) for r in refunds] == [
        (first, 1000), (second, 2500), (third, 1400)]
    assert {(r["data"]["charge_id"], r["data"]["currency"]) for r in refunds} == {(charge_id, "USD")}
    assert refunds[1]["data"]["reason"] == "goodwill"
    assert loaded.charges[charge_id]["refunded"] == 4900
    assert loaded.refundable(charge_id) == 0
    before = log_envelopes(ledger)

    with pytest.raises(RefundExceedsCharge):
        ledger.payments.refund_charge(charge_id, amount=1, effective_at=utc(2026, 4, 5))

    assert log_envelopes(ledger) == before


def test_a_refund_above_the_charge_is_refused_and_appends_nothing(paid) -> None:  # type: ignore[no-untyped-def]
    ledger, sub, charge_id = paid
    ledger.payments.refund_charge(charge_id, amount=4000, effective_at=utc(2026, 4, 2))
    before = log_envelopes(ledger)

    with pytest.raises(RefundExceedsCharge):
        ledger.payments.refund_charge(charge_id, amount=901, effective_at=utc(2026, 4, 3))
    with pytest.raises(RefundExceedsCharge):
        ledger.payments.refund_charge(charge_id, amount=4901, effective_at=utc(2026, 4, 3))

    assert log_envelopes(ledger) == before
    assert ledger.subscriptions.get(sub.id).refundable(charge_id) == 900


@pytest.mark.parametrize("amount", [0, -1, 1.5, True])
def test_a_refund_amount_must_be_a_positive_integer(paid, amount) -> None:  # type: ignore[no-untyped-def]
    ledger, _, charge_id = paid
    before = log_envelopes(ledger)

    with pytest.raises(InvalidInput):
        ledger.payments.refund_charge(charge_id, amount=amount, effective_at=utc(2026, 4, 2))

    assert log_envelopes(ledger) == before


def test_a_refund_of_an_unknown_charge_is_charge_not_found(paid) -> None:  # type: ignore[no-untyped-def]
    ledger, _, _ = paid
    before = log_envelopes(ledger)

    for charge_id in (str(uuid4()), "ch_nope", ""):
        with pytest.raises(ChargeNotFound):
            ledger.payments.refund_charge(charge_id, amount=100)

    assert log_envelopes(ledger) == before


def test_a_failed_charge_attempt_cannot_be_refunded(ledger: Ledger) -> None:
    add_plan(ledger, "pro", amount=4900)
    ada = paying_subscriber(ledger, "ada@example.com", token="tok_chargeDeclined")
    sub = ledger.subscriptions.start(ada.id, plan_id="pro", effective_at=APRIL_1)
    (failed,) = events_of(ledger, sub.id, "ChargeFailed")

    with pytest.raises(ChargeNotFound):
        ledger.payments.refund_charge(failed["data"]["charge_id"], amount=100, effective_at=utc(2026, 4, 2))


def test_a_refund_dated_before_the_subscriptions_last_event_is_refused(paid) -> None:  # type: ignore[no-untyped-def]
    ledger, sub, charge_id = paid
    ledger.subscriptions.change(sub.id, quantity=2, effective_at=utc(2026, 4, 10))

    with pytest.raises(EffectiveAtOutOfOrder):
        ledger.payments.refund_charge(charge_id, amount=100, effective_at=utc(2026, 4, 5))


def test_a_refund_first_performs_the_renewals_due_before_it(paid) -> None:  # type: ignore[no-untyped-def]
    ledger, sub, charge_id = paid

    ledger.payments.refund_charge(charge_id, amount=900, effective_at=utc(2026, 6, 10))

    assert timeline(ledger, sub.id)[-5:] == [
        ("SubscriptionRenewed", "2026-06-01T00:00:00Z"),
        ("InvoiceIssued", "2026-06-01T00:00:00Z"),
        ("ChargeSucceeded", "2026-06-01T00:00:00Z"),
        ("RefundRequested", "2026-06-10T00:00:00Z"),
        ("RefundIssued", "2026-06-10T00:00:00Z"),
    ]
    times = [t for _, t in timeline(ledger, sub.id)]
    assert times == sorted(times)
    run_billing(ledger, utc(2026, 7, 1))
    times = [t for _, t in timeline(ledger, sub.id)]
    assert times == sorted(times)


def test_refunds_never_change_the_subscriptions_status_price_or_quantity(paid) -> None:  # type: ignore[no-untyped-def]
    ledger, sub, charge_id = paid
    run_billing(ledger, utc(2026, 5, 1))
    before = terms(ledger.subscriptions.get(sub.id))
    may_charge = events_of(ledger, sub.id, "ChargeSucceeded")[-1]["data"]["charge_id"]

    ledger.payments.refund_charge(charge_id, amount=4900, effective_at=utc(2026, 5, 2))
    loaded, _ = ledger.payments.refund_charge(may_charge, amount=1, effective_at=utc(2026, 5, 2))

    assert terms(loaded) == before
    assert terms(ledger.subscriptions.get(sub.id)) == before
    assert before[0] == "active"
    renewal = run_billing(ledger, utc(2026, 6, 1))
    assert renewal.billed == {"USD": 4900}, "the next invoice is the full price"


def test_a_canceled_subscriptions_charge_can_still_be_refunded_and_it_stays_canceled(paid) -> None:  # type: ignore[no-untyped-def]
    ledger, sub, charge_id = paid
    ledger.subscriptions.cancel(sub.id, when="now", effective_at=utc(2026, 4, 10))

    loaded, _ = ledger.payments.refund_charge(charge_id, amount=3267, effective_at=utc(2026, 4, 10))

    assert loaded.status == "canceled"
    assert loaded.charges[charge_id]["refunded"] == 3267


# -- manual charges ----------------------------------------------------------------------------


def test_a_manual_charge_is_a_paid_manual_invoice_and_can_be_refunded(paid) -> None:  # type: ignore[no-untyped-def]
    ledger, sub, _ = paid

    loaded, charge_id = ledger.payments.record_charge(
        sub.id, amount=12345, currency="usd", gateway="sandbox", gateway_ref="pi_123",
        effective_at=utc(2026, 4, 15))

    assert timeline(ledger, sub.id)[-2:] == [
        ("InvoiceIssued", "2026-04-15T00:00:00Z"), ("ChargeSucceeded", "2026-04-15T00:00:00Z")]
    invoice = invoices_of(ledger, sub.id)[-1]["data"]
    assert invoice["reason"] == "manual"
    assert [(line["kind"], line["amount"]) for line in invoice["lines"]] == [("manual", 12345)]
    assert (invoice["total"], invoice["amount_due"], invoice["currency"]) == (12345, 12345, "USD")
    charge = events_of(ledger, sub.id, "ChargeSucceeded")[-1]["data"]
    assert charge["charge_id"] == charge_id
    assert (charge["invoice_id"], charge["amount"], charge["gateway"], charge["gateway_ref"]) == (
        invoice["invoice_id"], 12345, "sandbox", "pi_123")
    assert loaded.open_invoices == {}, "a manual invoice is paid when issued"
    assert terms(loaded)[:5] == ("active", "pro", 1, 4900, 1)

    _, refund_id = ledger.payments.refund_charge(charge_id, amount=12345, effective_at=utc(2026, 4, 16))

    (refund,) = events_of(ledger, sub.id, "RefundIssued")
    assert (refund["data"]["refund_id"], refund["data"]["charge_id"], refund["data"]["amount"]) == (
        refund_id, charge_id, 12345)
    with pytest.raises(RefundExceedsCharge):
        ledger.payments.refund_charge(charge_id, amount=1, effective_at=utc(2026, 4, 16))


def test_a_manual_charge_leaves_the_credit_balance_alone(paid) -> None:  # type: ignore[no-untyped-def]
    ledger, sub, _ = paid
    ledger.subscriptions.change(sub.id, plan_id="basic", effective_at=utc(2026, 4, 16))
    # 15 of 30 days left: credit 4900 / 2 = 2450, charge 1000 / 2 = 500: 1950 of credit.
    assert ledger.subscriptions.get(sub.id).credit_balance == 1950

    loaded, _ = ledger.payments.record_charge(sub.id, amount=700, currency="USD", gateway="sandbox",
                                     gateway_ref="pi_9", effective_at=utc(2026, 4, 20))

    invoice = invoices_of(ledger, sub.id)[-1]["data"]
    assert (invoice["credit_applied"], invoice["amount_due"]) == (0, 700)
    assert loaded.credit_balance == 1950


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"amount": 0}, InvalidInput),
        ({"amount": 10.5}, InvalidInput),
        ({"currency": "EUR"}, CurrencyMismatch),
        ({"currency": "ZZZ"}, InvalidInput),
        ({"gateway": "paypal"}, UnknownGateway),
        ({"gateway_ref": " "}, InvalidInput),
    ],
)
def test_a_bad_manual_charge_is_refused_and_appends_nothing(paid, fields, error) -> None:  # type: ignore[no-untyped-def]
    ledger, sub, _ = paid
    before = log_envelopes(ledger)
    request = {"amount": 500, "currency": "USD", "gateway": "sandbox", "gateway_ref": "pi_1",
               "effective_at": utc(2026, 4, 2), **fields}

    with pytest.raises(error):
        ledger.payments.record_charge(sub.id, **request)

    assert log_envelopes(ledger) == before


def test_a_canceled_subscription_takes_no_manual_charge(paid) -> None:  # type: ignore[no-untyped-def]
    ledger, sub, _ = paid
    ledger.subscriptions.cancel(sub.id, when="now", reason=None, effective_at=utc(2026, 4, 2))
    before = log_envelopes(ledger)

    with pytest.raises(SubscriptionAlreadyCanceled):
        ledger.payments.record_charge(sub.id, amount=500, currency="USD", gateway="sandbox",
                                      gateway_ref="pi_late", effective_at=utc(2026, 4, 3))

    assert log_envelopes(ledger) == before


def test_the_same_payment_is_recorded_once(paid) -> None:  # type: ignore[no-untyped-def]
    ledger, sub, _ = paid
    payment = {"amount": 500, "currency": "USD", "gateway": "sandbox", "gateway_ref": "pi_wire_1"}
    ledger.payments.record_charge(sub.id, **payment, effective_at=utc(2026, 4, 2))
    before = log_envelopes(ledger)

    with pytest.raises(PaymentAlreadyRecorded, match="pi_wire_1"):
        ledger.payments.record_charge(sub.id, **payment, effective_at=utc(2026, 4, 3))

    assert log_envelopes(ledger) == before
    ledger.payments.record_charge(sub.id, **{**payment, "gateway_ref": "pi_wire_2"},
                                  effective_at=utc(2026, 4, 3))


# -- a refund that loses a race ----------------------------------------------------------------


@pytest.fixture
def recorded(settings: Settings) -> Iterator[tuple[Ledger, RecordingGateway]]:
    """A ledger on the store under test whose sandbox gateway records the money it moves."""
    gateway = RecordingGateway()
    ledger = recording_ledger(settings, gateway)
    try:
        yield ledger, gateway
    finally:
        ledger.close()


def test_a_refund_that_loses_a_race_to_a_concurrent_change_is_refused_and_records_nothing(recorded) -> None:  # type: ignore[no-untyped-def]
    ledger, gateway = recorded
    add_plan(ledger, "pro", amount=4900)
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="pro", effective_at=APRIL_1)
    (charge_id,) = sub.charges
    stale = ledger.subscriptions.get(sub.id)
    # Another request changes the subscription after this refund loaded it.
    ledger.subscriptions.change(sub.id, quantity=2, effective_at=utc(2026, 4, 10))

    with loads_stale(ledger, stale), pytest.raises(ConcurrentModification):
        ledger.payments.refund_charge(charge_id, amount=1000, effective_at=utc(2026, 4, 11))
    assert events_of(ledger, sub.id, "RefundIssued") == []


def test_a_refund_that_loses_a_race_and_is_retried_is_refunded_once_at_the_gateway(recorded) -> None:  # type: ignore[no-untyped-def]
    ledger, gateway = recorded
    add_plan(ledger, "pro", amount=4900)
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="pro", effective_at=APRIL_1)
    (charge_id,) = sub.charges
    stale = ledger.subscriptions.get(sub.id)
    ledger.subscriptions.change(sub.id, quantity=2, effective_at=utc(2026, 4, 10))
    with loads_stale(ledger, stale), pytest.raises(ConcurrentModification):
        ledger.payments.refund_charge(charge_id, amount=1000, effective_at=utc(2026, 4, 11))

    ledger.payments.refund_charge(charge_id, amount=1000, effective_at=utc(2026, 4, 11))  # the retry

    assert [r["data"]["amount"] for r in events_of(ledger, sub.id, "RefundIssued")] == [1000]
    assert sum(gateway.refunded.values()) == 1000
