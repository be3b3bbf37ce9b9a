"""A Stripe notice about a payment or a refund whose answer the ledger lost (Stripe took it,
the answer timed out on the way back): the ledger asks for that answer first, under the same
key, then records the notice, rather than ignoring it (Stripe sends an answered notice once).
Over real HTTP, signed as Stripe signs it, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

import httpx
import pytest
import stripe
from fakes.stripe import FakeStripe
from support.ledger import add_plan, log_types
from support.live import LiveServer
from support.stripe_shop import SECRET, stripe_event

from subledger.bootstrap import build_api, key_ring, ledger_env
from subledger.commands.gateways.stripe import StripeGateway
from subledger.commands.ledger import Ledger
from subledger.config import Settings


@dataclass
class LostAnswer:
    ledger: Ledger
    fake: FakeStripe
    http: httpx.Client
    subscription_id: str


@pytest.fixture
def lost(settings: Settings) -> Iterator[LostAnswer]:
    """A signup whose first charge Stripe took while its answer timed out: the charge is
    waiting for the billing clock's next run."""
    with FakeStripe() as fake:
        configured = replace(settings, stripe_api_key="sk_test_shop", stripe_api_base=fake.url,
                             stripe_webhook_secret=SECRET)
        gateway = StripeGateway("sk_test_shop", api_base=fake.url, timeout=1)
        ledger = Ledger(ledger_env(configured), gateways={"stripe": gateway},
                        keys=key_ring(configured))
        try:
            add_plan(ledger, "basic", amount=1900)
            who = ledger.subscribers.register(email="ada@example.com", name="Ada")
            ledger.subscribers.set_payment_method(who.id, gateway="stripe",
                                                  token="cus_ada:pm_card_visa")
            fake.hang_next(seconds=3, path="/v1/payment_intents")
            sub = ledger.subscriptions.start(who.id, plan_id="basic")
            assert not sub.charges and fake.payment_intents  # taken, not recorded
            with LiveServer(build_api(configured, ledger=ledger)) as server, \
                    httpx.Client(base_url=server.url, timeout=30) as http:
                yield LostAnswer(ledger, fake, http, str(sub.id))
        finally:
            ledger.close()


def _send(http: httpx.Client, kind: str, obj: dict[str, Any], event_id: str) -> httpx.Response:
    body = stripe_event(kind, obj, event_id)
    signature = stripe.WebhookSignature.generate_signature_header(body, SECRET)
    return http.post("/gateways/stripe/events", content=body,
                     headers={"Stripe-Signature": signature, "content-type": "application/json"})


def _dispute(intent: str) -> dict[str, Any]:
    return {"id": "dp_1", "object": "dispute", "amount": 1900, "currency": "usd",
            "charge": "ch_1", "payment_intent": intent, "reason": "fraudulent",
            "status": "needs_response"}


def test_a_dispute_of_a_payment_whose_answer_was_lost_records_the_payment_then_the_dispute(
        lost: LostAnswer) -> None:
    [intent] = lost.fake.payment_intents
    answer = _send(lost.http, "charge.dispute.created", _dispute(intent), "evt_1")
    assert (answer.status_code, answer.json()["outcome"]) == (200, "recorded"), answer.text
    assert answer.json()["subscription_id"] == lost.subscription_id
    assert log_types(lost.ledger)[-2:] == ["ChargeSucceeded", "ChargeDisputed"]
    assert len(lost.fake.requests_to("POST", "/v1/payment_intents")) == 2  # asked again, same key
    assert len(lost.fake.payment_intents) == 1  # and charged once


def test_while_stripe_cannot_say_whose_payment_it_is_the_notice_is_a_503(lost: LostAnswer) -> None:
    [intent] = lost.fake.payment_intents
    before = log_types(lost.ledger)
    lost.fake.fail_next(status=500)
    answer = _send(lost.http, "charge.dispute.created", _dispute(intent), "evt_1")
    assert (answer.status_code, answer.json()["type"]) == (503, "/problems/gateway-unavailable")
    assert log_types(lost.ledger) == before
    again = _send(lost.http, "charge.dispute.created", _dispute(intent), "evt_1")
    assert again.json()["outcome"] == "recorded"  # Stripe's retry is not answered from a store


def test_a_failed_refund_whose_own_answer_was_lost_is_reversed(lost: LostAnswer) -> None:
    [intent] = lost.fake.payment_intents
    assert _send(lost.http, "charge.dispute.created", {**_dispute(intent), "status": "won"},
                 "evt_0").json()["outcome"] == "recorded"  # the payment's answer comes back
    [charge_id] = lost.ledger.subscriptions.get(UUID(lost.subscription_id)).charges
    lost.fake.hang_next(seconds=3, path="/v1/refunds")
    sub, _ = lost.ledger.payments.refund_charge(charge_id, amount=500)
    assert sub.pending_refunds  # Stripe made the refund; its answer timed out
    [refund] = lost.fake.refunds
    failed = {"id": refund, "object": "refund", "amount": 500, "currency": "usd",
              "charge": "ch_1", "payment_intent": intent, "status": "failed",
              "failure_reason": "lost_or_stolen_card", "metadata": {}}
    answer = _send(lost.http, "refund.failed", failed, "evt_2")
    assert (answer.status_code, answer.json()["outcome"]) == (200, "recorded"), answer.text
    assert log_types(lost.ledger)[-2:] == ["RefundIssued", "RefundReversed"]
    charge = lost.http.get(f"/charges/{charge_id}").json()
    assert (charge["refunded"], charge["refundable"]) == (0, 1900)
