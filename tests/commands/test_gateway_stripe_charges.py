"""The Stripe gateway's charges, through the official SDK, against FakeStripe: succeeded,
declined, needing authentication, processing, replayed under their idempotency key."""

from __future__ import annotations

import logging

import pytest
from fakes.stripe import FakeStripe, card_error
from support import stripe_gateway
from support.stripe_gateway import API_KEY, charge_request, refund_request

from subledger.commands.gateways import ChargeResult, GatewayUnavailable
from subledger.commands.gateways.stripe import StripeGateway

# support/stripe_gateway.py's fixtures, under the names the tests take.
fake = stripe_gateway.fake
gateway = stripe_gateway.gateway


def test_a_charge_that_succeeds_returns_the_payment_intent_id(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    result = gateway.charge(charge_request())

    [intent] = fake.payment_intents.values()
    assert result == ChargeResult(succeeded=True, gateway_ref=intent["id"], decline_code=None)
    assert intent["status"] == "succeeded"
    assert intent["id"].startswith("pi_")


def test_a_charge_sends_amount_lower_case_currency_confirm_off_session_payment_method_and_metadata(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    gateway.charge(charge_request(amount=4200, currency="EUR", attempt=2, key="inv_1:2"))

    [sent] = fake.requests_to("POST", "/v1/payment_intents")
    assert sent.params["amount"] == "4200"
    assert sent.params["currency"] == "eur"
    assert sent.params["confirm"] == "true"
    assert sent.params["off_session"] == "true"
    assert sent.params["payment_method"] == "pm_card_visa"
    assert sent.params["description"] == "Invoice inv_1"
    assert sent.nested("automatic_payment_methods") == {
        "enabled": "true",
        "allow_redirects": "never",
    }
    assert sent.nested("metadata") == {
        "invoice_id": "inv_1",
        "subledger_customer_ref": "3f0c8a1e-sub",
        "subledger_attempt": "2",
        "subledger_key": "inv_1:2",
    }
    assert "customer" not in sent.params
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"


def test_a_forint_is_sent_as_stripes_hundred_and_refunded_the_same_way(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    result = gateway.charge(charge_request(amount=5000, currency="HUF", key="inv_huf:1"))
    gateway.refund(refund_request(str(result.gateway_ref), amount=1200, currency="HUF"))

    [charged] = fake.requests_to("POST", "/v1/payment_intents")
    [refunded] = fake.requests_to("POST", "/v1/refunds")
    assert (charged.params["amount"], charged.params["currency"]) == ("500000", "huf")
    assert refunded.params["amount"] == "120000"


def test_an_amount_stripe_cannot_take_is_a_decline_and_stripe_is_not_called(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    result = gateway.charge(charge_request(amount=1234, currency="KWD"))

    assert result == ChargeResult(succeeded=False, gateway_ref=None, decline_code="invalid_amount")
    assert fake.requests_to("POST", "/v1/payment_intents") == []


def test_a_charge_sends_the_ledgers_idempotency_key_to_stripe(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    gateway.charge(charge_request(key="inv_77:3"))
    [sent] = fake.requests
    assert sent.idempotency_key == "inv_77:3"


def test_a_retried_charge_with_the_same_key_does_not_create_a_second_payment_intent(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    first = gateway.charge(charge_request(key="inv_1:1"))
    again = gateway.charge(charge_request(key="inv_1:1"))

    assert again == first
    assert len(fake.payment_intents) == 1
    assert len(fake.requests) == 2  # both reached Stripe; the second was a replay


def test_a_charge_with_another_key_creates_another_payment_intent(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    first = gateway.charge(charge_request(key="inv_1:1"))
    second = gateway.charge(charge_request(key="inv_2:1"))
    assert first.gateway_ref != second.gateway_ref
    assert len(fake.payment_intents) == 2


def test_a_token_with_a_customer_charges_that_customers_payment_method(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    result = gateway.charge(charge_request("cus_Q1w2e3:pm_card_visa"))

    assert result.succeeded
    [sent] = fake.requests
    assert (sent.params["customer"], sent.params["payment_method"]) == (
        "cus_Q1w2e3",
        "pm_card_visa",
    )


def test_a_declined_card_is_a_failed_charge_with_stripes_decline_code_and_the_payment_intent(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    result = gateway.charge(charge_request("pm_card_chargeDeclined"))

    [intent] = fake.payment_intents.values()
    assert result == ChargeResult(
        succeeded=False, gateway_ref=intent["id"], decline_code="generic_decline"
    )


def test_insufficient_funds_is_a_failed_charge_with_decline_code_insufficient_funds(
    gateway: StripeGateway,
) -> None:
    result = gateway.charge(charge_request("pm_card_chargeDeclinedInsufficientFunds"))
    assert not result.succeeded
    assert result.decline_code == "insufficient_funds"
    assert result.gateway_ref is not None and result.gateway_ref.startswith("pi_")


def test_a_retried_declined_charge_replays_the_decline_without_a_second_payment_intent(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    first = gateway.charge(charge_request("pm_card_chargeDeclined"))
    again = gateway.charge(charge_request("pm_card_chargeDeclined"))
    assert again == first
    assert len(fake.payment_intents) == 1


def test_a_card_error_without_a_decline_code_uses_the_error_code(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    fake.fail_next(
        status=402,
        body={
            "error": {
                "type": "card_error",
                "code": "expired_card",
                "message": "Your card has expired.",
            }
        },
    )
    result = gateway.charge(charge_request())
    assert result == ChargeResult(succeeded=False, gateway_ref=None, decline_code="expired_card")


def test_an_off_session_authentication_required_card_error_is_a_failed_charge(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    fake.fail_next(status=402, body=card_error("authentication_required"))
    result = gateway.charge(charge_request("pm_card_authenticationRequired"))
    assert (result.succeeded, result.decline_code) == (False, "authentication_required")


def test_a_payment_intent_that_requires_action_is_a_failed_charge_needing_authentication(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    result = gateway.charge(charge_request("pm_card_authenticationRequired"))

    [intent] = fake.payment_intents.values()
    assert intent["status"] == "requires_action"
    assert result == ChargeResult(
        succeeded=False, gateway_ref=intent["id"], decline_code="authentication_required"
    )


def test_a_payment_method_stripe_does_not_know_is_a_failed_charge_not_an_outage(
    gateway: StripeGateway,
) -> None:
    result = gateway.charge(charge_request("pm_does_not_exist"))
    assert result == ChargeResult(
        succeeded=False, gateway_ref=None, decline_code="resource_missing"
    )


def test_a_processing_payment_is_unavailable_until_it_settles_and_then_succeeds_under_the_same_key(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    with pytest.raises(GatewayUnavailable, match="processing"):
        gateway.charge(charge_request("pm_fake_processing"))
    [intent] = fake.payment_intents.values()

    fake.set_payment_intent_status(intent["id"], "succeeded")
    result = gateway.charge(charge_request("pm_fake_processing"))

    assert result == ChargeResult(succeeded=True, gateway_ref=intent["id"])
    assert len(fake.payment_intents) == 1
    assert [(r.method, r.path) for r in fake.requests] == [
        ("POST", "/v1/payment_intents"),
        ("GET", f"/v1/payment_intents/{intent['id']}"),
        ("POST", "/v1/payment_intents"),
        ("GET", f"/v1/payment_intents/{intent['id']}"),
    ]


@pytest.mark.parametrize(("settled", "error", "code"), [
    ("requires_payment_method", {"code": "card_declined", "decline_code": "insufficient_funds"},
     "insufficient_funds"),
    ("requires_payment_method", {"code": "expired_card"}, "expired_card"),
    ("requires_payment_method", None, "requires_payment_method"),
    ("canceled", None, "canceled"),
])
def test_a_processing_payment_that_settles_as_failed_is_a_decline_on_the_retry_under_the_same_key(
    gateway: StripeGateway, fake: FakeStripe, settled: str, error: dict[str, str] | None,
    code: str,
) -> None:
    with pytest.raises(GatewayUnavailable, match="processing"):
        gateway.charge(charge_request("pm_fake_processing"))
    [intent] = fake.payment_intents.values()

    fake.set_payment_intent_status(intent["id"], settled, last_payment_error=error)
    result = gateway.charge(charge_request("pm_fake_processing"))

    assert result == ChargeResult(succeeded=False, gateway_ref=intent["id"], decline_code=code)
    assert len(fake.payment_intents) == 1


def test_a_payment_intent_in_a_status_the_gateway_never_asks_for_is_unavailable_and_logged_as_an_error(
    gateway: StripeGateway, fake: FakeStripe, caplog: pytest.LogCaptureFixture,
) -> None:
    with pytest.raises(GatewayUnavailable, match="processing"):
        gateway.charge(charge_request("pm_fake_processing"))
    [intent] = fake.payment_intents.values()
    fake.set_payment_intent_status(intent["id"], "requires_capture")
    caplog.clear()

    with caplog.at_level(logging.ERROR, logger="subledger.commands.gateways.stripe"):
        with pytest.raises(GatewayUnavailable, match="unexpected status 'requires_capture'"):
            gateway.charge(charge_request("pm_fake_processing"))

    assert [r.levelname for r in caplog.records] == ["ERROR"]
    assert intent["id"] in caplog.records[0].getMessage()
