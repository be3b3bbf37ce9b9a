"""Stripe forgets an idempotency key after 24 hours: a retry of a charge or refund whose
answer was lost must still take the money once, however late it comes. Through the official
SDK against FakeStripe, whose own clock ages the keys."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fakes.stripe import FakeStripe
from support import stripe_gateway
from support.stripe_gateway import LATE_KEY, attempt_sent, lose_the_answer

from subledger.commands.gateways import GatewayUnavailable, RefundRequest
from subledger.commands.gateways.stripe import StripeGateway

DAY = timedelta(days=1)

fake = stripe_gateway.fake  # support/stripe_gateway.py's FakeStripe, under the name the tests take
gateway = stripe_gateway.impatient_gateway


def searches(fake: FakeStripe) -> int:
    return len(fake.requests_to("GET", "/v1/payment_intents/search"))


def test_a_retry_two_days_after_a_lost_answer_finds_the_payment_and_charges_once(
    fake: FakeStripe, gateway: StripeGateway,
) -> None:
    lose_the_answer(fake, gateway, attempt_sent(timedelta(0)))
    [first] = fake.payment_intents.values()

    fake.advance(2 * DAY.total_seconds())
    result = gateway.charge(attempt_sent(2 * DAY))

    assert (result.succeeded, result.gateway_ref) == (True, first["id"])
    assert len(fake.payment_intents) == 1, "Stripe forgot the key: only the look-up saves it"
    assert sum(i["amount_received"] for i in fake.payment_intents.values()) == 1999


def test_a_late_retry_of_a_declined_charge_answers_the_decline_without_a_new_payment(
    fake: FakeStripe, gateway: StripeGateway,
) -> None:
    fake.hang_next(seconds=2)
    with pytest.raises(GatewayUnavailable):
        gateway.charge(attempt_sent(timedelta(0), token="pm_card_chargeDeclined"))

    fake.advance(2 * DAY.total_seconds())
    result = gateway.charge(attempt_sent(2 * DAY, token="pm_card_chargeDeclined"))

    assert (result.succeeded, result.decline_code) == (False, "generic_decline")
    assert len(fake.payment_intents) == 1


def test_a_retry_inside_the_window_replays_the_key_without_a_search(
    fake: FakeStripe, gateway: StripeGateway,
) -> None:
    lose_the_answer(fake, gateway, attempt_sent(timedelta(0)))
    [first] = fake.payment_intents.values()

    fake.advance(timedelta(hours=2).total_seconds())
    result = gateway.charge(attempt_sent(timedelta(hours=2)))

    assert (result.succeeded, result.gateway_ref) == (True, first["id"])
    assert len(fake.payment_intents) == 1 and searches(fake) == 0


def test_a_late_first_sending_finds_nothing_and_charges(
    fake: FakeStripe, gateway: StripeGateway,
) -> None:
    """The billing clock did not run for two days: the attempt is old but was never sent."""
    result = gateway.charge(attempt_sent(2 * DAY))

    [intent] = fake.payment_intents.values()
    assert (result.succeeded, result.gateway_ref) == (True, intent["id"])
    assert searches(fake) == 2  # by the key, then by invoice and attempt
    assert intent["metadata"]["subledger_key"] == LATE_KEY


def test_a_payment_made_before_the_key_was_in_its_metadata_is_found_by_invoice_and_attempt(
    fake: FakeStripe, gateway: StripeGateway,
) -> None:
    lose_the_answer(fake, gateway, attempt_sent(timedelta(0)))
    [first] = fake.payment_intents.values()
    del first["metadata"]["subledger_key"]

    fake.advance(2 * DAY.total_seconds())
    result = gateway.charge(attempt_sent(2 * DAY))

    assert (result.succeeded, result.gateway_ref) == (True, first["id"])
    assert len(fake.payment_intents) == 1


def test_a_refund_retried_two_days_after_a_lost_answer_refunds_once(
    fake: FakeStripe, gateway: StripeGateway,
) -> None:
    paid = gateway.charge(attempt_sent(timedelta(0)))
    request = RefundRequest(idempotency_key="subledger-re_1", charge_gateway_ref=str(paid.gateway_ref),
                            amount=500, currency="EUR")
    fake.hang_next(seconds=2, path="/v1/refunds")
    with pytest.raises(GatewayUnavailable):
        gateway.refund(request)
    [first] = fake.refunds.values()

    fake.advance(2 * DAY.total_seconds())
    result = gateway.refund(request)

    assert (result.succeeded, result.gateway_ref) == (True, first["id"])
    assert len(fake.refunds) == 1


def test_the_fake_forgets_a_key_after_24_hours(fake: FakeStripe, gateway: StripeGateway) -> None:
    """What makes the look-up necessary, as Stripe documents it."""
    request = attempt_sent(timedelta(0))
    gateway.charge(request)
    fake.advance(DAY.total_seconds())
    gateway.charge(request)  # a fresh-looking request: no look-up asked for
    assert len(fake.payment_intents) == 2
