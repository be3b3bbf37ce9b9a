"""The Stripe gateway's refunds, through the official SDK, against FakeStripe."""

from __future__ import annotations

import pytest
from fakes.stripe import FakeStripe
from support import stripe_gateway
from support.stripe_gateway import charge_request, refund_request

from subledger.commands.gateways import GatewayUnavailable, RefundResult
from subledger.commands.gateways.stripe import StripeGateway

# support/stripe_gateway.py's fixtures, under the names the tests take.
fake = stripe_gateway.fake
gateway = stripe_gateway.gateway


@pytest.fixture
def paid(gateway: StripeGateway) -> str:
    """The PaymentIntent id of a succeeded charge of 1999."""
    result = gateway.charge(charge_request(amount=1999, key="inv_paid:1"))
    assert result.succeeded and result.gateway_ref
    return result.gateway_ref


def test_a_refund_succeeds_with_the_refund_id(
    gateway: StripeGateway, fake: FakeStripe, paid: str
) -> None:
    result = gateway.refund(refund_request(paid, amount=500))

    [refund] = fake.refunds.values()
    assert result == RefundResult(succeeded=True, gateway_ref=refund["id"])
    assert refund["id"].startswith("re_")
    assert (refund["payment_intent"], refund["amount"], refund["currency"]) == (paid, 500, "eur")


def test_a_refund_sends_the_payment_intent_amount_and_idempotency_key(
    gateway: StripeGateway, fake: FakeStripe, paid: str
) -> None:
    gateway.refund(refund_request(paid, key="refund_9", amount=700))

    [sent] = fake.requests_to("POST", "/v1/refunds")
    assert sent.params["payment_intent"] == paid
    assert sent.params["amount"] == "700"
    assert sent.idempotency_key == "refund_9"


def test_a_partial_refund_then_one_above_what_is_left_fails_with_stripes_code(
    gateway: StripeGateway, fake: FakeStripe, paid: str
) -> None:
    partial = gateway.refund(refund_request(paid, key="refund_1", amount=1500))
    too_much = gateway.refund(refund_request(paid, key="refund_2", amount=500))
    rest = gateway.refund(refund_request(paid, key="refund_3", amount=499))
    nothing_left = gateway.refund(refund_request(paid, key="refund_4", amount=1))

    assert partial.succeeded
    assert too_much == RefundResult(
        succeeded=False, gateway_ref=None, failure_code="amount_too_large"
    )
    assert rest.succeeded
    assert nothing_left == RefundResult(
        succeeded=False, gateway_ref=None, failure_code="charge_already_refunded"
    )
    assert sum(r["amount"] for r in fake.refunds.values()) == 1999


def test_a_retried_refund_with_the_same_key_refunds_once(
    gateway: StripeGateway, fake: FakeStripe, paid: str
) -> None:
    first = gateway.refund(refund_request(paid, key="refund_1", amount=500))
    again = gateway.refund(refund_request(paid, key="refund_1", amount=500))
    assert again == first
    assert len(fake.refunds) == 1


@pytest.mark.parametrize("reason", ["duplicate", "fraudulent", "requested_by_customer"])
def test_a_refund_reason_stripe_knows_is_sent_as_the_reason(
    gateway: StripeGateway, fake: FakeStripe, paid: str, reason: str
) -> None:
    gateway.refund(refund_request(paid, reason=reason))
    [sent] = fake.requests_to("POST", "/v1/refunds")
    assert sent.params["reason"] == reason
    assert sent.nested("metadata") == {"subledger_refund_id": "refund_1"}


def test_any_other_refund_reason_goes_to_the_metadata(
    gateway: StripeGateway, fake: FakeStripe, paid: str
) -> None:
    result = gateway.refund(refund_request(paid, reason="goodwill after outage"))
    assert result.succeeded
    [sent] = fake.requests_to("POST", "/v1/refunds")
    assert "reason" not in sent.params
    assert sent.nested("metadata") == {"subledger_refund_id": "refund_1",
                                       "subledger_reason": "goodwill after outage"}


def test_a_refund_of_a_payment_stripe_does_not_know_fails_with_resource_missing(
    gateway: StripeGateway,
) -> None:
    result = gateway.refund(refund_request("pi_unknown"))
    assert result == RefundResult(
        succeeded=False, gateway_ref=None, failure_code="resource_missing"
    )


def test_a_refund_of_a_declined_payment_fails(gateway: StripeGateway) -> None:
    declined = gateway.charge(charge_request("pm_card_chargeDeclined", key="inv_d:1"))
    assert declined.gateway_ref is not None
    result = gateway.refund(refund_request(declined.gateway_ref))
    assert (result.succeeded, result.failure_code) == (False, "payment_intent_unexpected_state")


def test_a_refund_of_a_non_positive_amount_fails_without_calling_stripe(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    result = gateway.refund(refund_request("pi_123", amount=0))
    assert result == RefundResult(succeeded=False, gateway_ref=None, failure_code="invalid_amount")
    assert fake.requests == []


def test_a_refund_by_charge_id_is_sent_as_a_charge(
    gateway: StripeGateway, fake: FakeStripe, paid: str
) -> None:
    charge_id = fake.payment_intents[paid]["latest_charge"]
    result = gateway.refund(refund_request(charge_id, amount=100))
    assert result.succeeded
    [sent] = fake.requests_to("POST", "/v1/refunds")
    assert sent.params["charge"] == charge_id and "payment_intent" not in sent.params


def test_a_refund_during_a_stripe_outage_raises_gateway_unavailable(
    gateway: StripeGateway, fake: FakeStripe, paid: str
) -> None:
    fake.fail_next(status=500)
    with pytest.raises(GatewayUnavailable):
        gateway.refund(refund_request(paid))
    assert fake.refunds == {}
