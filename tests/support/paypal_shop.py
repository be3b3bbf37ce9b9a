"""A shop whose charges PayPal took (FakePayPal), served over real HTTP, and PayPal's
webhooks signed as the fake signs them (``POST /gateways/paypal/events``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from fakes.paypal import CLIENT_ID, CLIENT_SECRET, FakePayPal
from fakes.paypal_webhooks import WEBHOOK_ID

from subledger.bootstrap import build_api, build_ledger
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.config_values import GatewayCredentials
from support.ledger import add_plan
from support.live import LiveServer


@dataclass
class PayPalShop:
    ledger: Ledger
    http: httpx.Client
    fake: FakePayPal
    subscriber_id: str
    subscription_id: str
    charge_id: str
    invoice_id: str
    capture: str
    """The id of the capture PayPal answered ``PENDING`` (the charge's gateway_ref)."""
    settings: Settings


def paypal_settings(settings: Settings, fake: FakePayPal, webhook_id: str | None = WEBHOOK_ID) -> Settings:
    return replace(settings, paypal=GatewayCredentials(CLIENT_ID, CLIENT_SECRET, fake.url),
                   paypal_webhook_id=webhook_id)


@pytest.fixture
def paypal_shop(settings: Settings) -> Iterator[PayPalShop]:
    """Ada on a 19.00 monthly plan, her first charge a PayPal capture still ``PENDING``."""
    with FakePayPal() as fake:
        configured = paypal_settings(settings, fake)
        ledger = build_ledger(configured)
        try:
            add_plan(ledger, "basic", amount=1900)
            who = ledger.subscribers.register(email="ada@example.com", name="Ada")
            ledger.subscribers.set_payment_method(who.id, gateway="paypal", token="paypal:paypal_pending")
            sub = ledger.subscriptions.start(who.id, plan_id="basic")
            [(charge_id, charge)] = sub.charges.items()
            with LiveServer(build_api(configured, ledger=ledger)) as server, \
                    httpx.Client(base_url=server.url, timeout=30) as http:
                yield PayPalShop(ledger, http, fake, str(who.id), str(sub.id), charge_id,
                                 charge["invoice_id"], charge["gateway_ref"], configured)
        finally:
            ledger.close()


def send_paypal(shop: PayPalShop, event: dict[str, Any], *, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> httpx.Response:
    """POST ``event`` as PayPal would, signed by the fake (``body``/``headers``: instead)."""
    signed_body, signed_headers = shop.fake.webhooks.signed(event)
    return shop.http.post("/gateways/paypal/events", content=body if body is not None else signed_body,
                          headers=headers if headers is not None else signed_headers)


def tampered(event: dict[str, Any], **resource: Any) -> bytes:
    return json.dumps({**event, "resource": {**event["resource"], **resource}}).encode()
