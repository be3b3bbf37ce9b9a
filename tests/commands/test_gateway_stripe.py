"""The Stripe gateway, through the official SDK, against FakeStripe (a local HTTP server): the
port it implements, and what it raises when Stripe cannot answer. Its charges and refunds are
in test_gateway_stripe_charges.py and test_gateway_stripe_refunds.py."""

from __future__ import annotations

import logging
import time

import pytest
from fakes.stripe import FakeStripe
from support import stripe_gateway
from support.stripe_gateway import API_KEY, charge_request, refund_request

from subledger.commands.gateways import ChargeResult, GatewayUnavailable, PaymentGateway
from subledger.commands.gateways.stripe import StripeGateway

# support/stripe_gateway.py's fixtures, under the names the tests take.
fake = stripe_gateway.fake
gateway = stripe_gateway.gateway


def test_the_gateway_is_named_stripe_and_implements_the_port(gateway: StripeGateway) -> None:
    port: PaymentGateway = gateway
    assert port.name == "stripe"


def test_an_empty_api_key_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="SUBLEDGER_STRIPE_API_KEY"):
        StripeGateway("  ")


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
