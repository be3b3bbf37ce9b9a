"""A shop whose charges Stripe took (FakeStripe), served over real HTTP, and Stripe's webhooks
signed as Stripe signs them (``POST /gateways/stripe/events``)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
import stripe
from fakes.stripe import FakeStripe

from subledger.bootstrap import build_api, build_ledger
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from support.ledger import add_plan
from support.live import LiveServer

SECRET = "whsec_subledger_test"


@dataclass
class Shop:
    ledger: Ledger
    http: httpx.Client
    subscriber_id: str
    subscription_id: str
    charge_id: str
    intent: str
    """The PaymentIntent id Stripe gave the first charge (the charge's gateway_ref)."""
    settings: Settings


@pytest.fixture
def shop(settings: Settings) -> Iterator[Shop]:
    with FakeStripe() as fake:
        configured = replace(settings, stripe_api_key="sk_test_shop", stripe_api_base=fake.url,
                             stripe_webhook_secret=SECRET)
        ledger = build_ledger(configured)
        try:
            add_plan(ledger, "basic", amount=1900)
            who = ledger.subscribers.register(email="ada@example.com", name="Ada")
            ledger.subscribers.set_payment_method(who.id, gateway="stripe",
                                                  token="cus_ada:pm_card_visa")
            sub = ledger.subscriptions.start(who.id, plan_id="basic")
            [charge] = sub.charges.items()
            with LiveServer(build_api(configured, ledger=ledger)) as server, \
                    httpx.Client(base_url=server.url, timeout=30) as http:
                yield Shop(ledger, http, str(who.id), str(sub.id), charge[0],
                           charge[1]["gateway_ref"], configured)
        finally:
            ledger.close()


def stripe_event(kind: str, obj: dict[str, Any], event_id: str = "evt_1") -> str:
    return json.dumps({"id": event_id, "object": "event", "type": kind,
                       "created": int(time.time()) - 60, "data": {"object": obj}})


def send_stripe(shop: Shop, body: str, *, secret: str = SECRET) -> httpx.Response:
    signature = stripe.WebhookSignature.generate_signature_header(body, secret)
    return shop.http.post("/gateways/stripe/events", content=body,
                          headers={"Stripe-Signature": signature, "content-type": "application/json"})
