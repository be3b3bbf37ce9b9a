"""The Stripe gateway, through the official SDK, against FakeStripe (a local HTTP server)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fakes.stripe import FakeStripe, card_error

from subledger.commands.gateways import (
    ChargeRequest,
    ChargeResult,
    GatewayUnavailable,
    PaymentGateway,
    RefundRequest,
    RefundResult,
)
from subledger.commands.gateways.stripe import StripeGateway

API_KEY = "sk_test_subledger123"
SENT_AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with FakeStripe() as server:
        yield server


@pytest.fixture
def gateway(fake: FakeStripe) -> StripeGateway:
    return StripeGateway(API_KEY, api_base=fake.url, timeout=5)


def charge_request(
    token: str = "pm_card_visa",
    *,
    key: str = "inv_1:1",
    amount: int = 1999,
    currency: str = "EUR",
    attempt: int = 1,
) -> ChargeRequest:
    return ChargeRequest(
        idempotency_key=key,
        amount=amount,
        currency=currency,
        token=token,
        customer_ref="3f0c8a1e-sub",
        description="Invoice inv_1",
        attempt=attempt,
        metadata={"invoice_id": "inv_1"},
        # A fresh attempt: Stripe still knows its key, no look-up first.
        due_at=SENT_AT,
        sent_at=SENT_AT,
    )


def refund_request(
    charge_ref: str, *, key: str = "refund_1", amount: int = 500, reason: str | None = None,
    currency: str = "EUR",
) -> RefundRequest:
    return RefundRequest(
        idempotency_key=key,
        charge_gateway_ref=charge_ref,
        amount=amount,
        currency=currency,
        reason=reason,
    )


def test_the_gateway_is_named_stripe_and_implements_the_port(gateway: StripeGateway) -> None:
    port: PaymentGateway = gateway
    assert port.name == "stripe"


def test_an_empty_api_key_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="SUBLEDGER_STRIPE_API_KEY"):
        StripeGateway("  ")


# -- charges --------------------------------------------------------------------------


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


# -- the gateway cannot answer: GatewayUnavailable, nothing to record ------------------


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_a_server_error_or_rate_limit_raises_gateway_unavailable(
    gateway: StripeGateway, fake: FakeStripe, status: int
) -> None:
    fake.fail_next(status=status)
    with pytest.raises(GatewayUnavailable):
        gateway.charge(charge_request())
    assert fake.payment_intents == {}


def test_after_a_server_error_the_retry_with_the_same_key_charges_once(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    fake.fail_next(status=500)
    with pytest.raises(GatewayUnavailable):
        gateway.charge(charge_request(key="inv_1:1"))

    result = gateway.charge(charge_request(key="inv_1:1"))

    assert result.succeeded
    assert len(fake.payment_intents) == 1
    assert {r.idempotency_key for r in fake.requests} == {"inv_1:1"}


def test_a_refused_connection_raises_gateway_unavailable() -> None:
    with FakeStripe() as server:
        url = server.url
    gateway = StripeGateway(API_KEY, api_base=url, timeout=2)

    with pytest.raises(GatewayUnavailable):
        gateway.charge(charge_request())
    with pytest.raises(GatewayUnavailable):
        gateway.refund(refund_request("pi_123"))


def test_a_timeout_raises_gateway_unavailable_and_the_retry_replays_the_charge_stripe_made(
    fake: FakeStripe,
) -> None:
    gateway = StripeGateway(API_KEY, api_base=fake.url, timeout=0.3)
    fake.hang_next(seconds=3)

    started = time.monotonic()
    with pytest.raises(GatewayUnavailable):
        gateway.charge(charge_request(key="inv_1:1"))
    assert time.monotonic() - started < 2.5

    result = gateway.charge(charge_request(key="inv_1:1"))
    [intent] = fake.payment_intents.values()
    assert result == ChargeResult(succeeded=True, gateway_ref=intent["id"])


def test_a_bad_api_key_raises_gateway_unavailable_and_logs_an_error(
    fake: FakeStripe, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = StripeGateway("sk_live_not_a_test_key", api_base=fake.url, timeout=5)

    with caplog.at_level(logging.WARNING, logger="subledger.commands.gateways.stripe"):
        with pytest.raises(GatewayUnavailable):
            gateway.charge(charge_request())

    assert fake.payment_intents == {}
    [record] = [r for r in caplog.records if r.name == "subledger.commands.gateways.stripe"]
    assert record.levelno == logging.ERROR
    assert "Invalid API Key provided" in record.getMessage()
    assert "sk_live_not_a_test_key" not in record.getMessage()


def test_reusing_a_key_with_other_parameters_raises_gateway_unavailable_and_logs_an_error(
    gateway: StripeGateway, fake: FakeStripe, caplog: pytest.LogCaptureFixture
) -> None:
    gateway.charge(charge_request(key="inv_1:1", amount=1000))

    with caplog.at_level(logging.WARNING, logger="subledger.commands.gateways.stripe"):
        with pytest.raises(GatewayUnavailable, match="idempotency_error"):
            gateway.charge(charge_request(key="inv_1:1", amount=2000))

    assert len(fake.payment_intents) == 1
    assert [r.levelno for r in caplog.records if r.name.endswith("gateways.stripe")] == [
        logging.ERROR
    ]


def test_a_server_error_is_logged_as_a_warning_not_an_error(
    gateway: StripeGateway, fake: FakeStripe, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail_next(status=503)
    with caplog.at_level(logging.WARNING, logger="subledger.commands.gateways.stripe"):
        with pytest.raises(GatewayUnavailable):
            gateway.charge(charge_request())
    assert [r.levelno for r in caplog.records if r.name.endswith("gateways.stripe")] == [
        logging.WARNING
    ]


# -- refunds --------------------------------------------------------------------------


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
