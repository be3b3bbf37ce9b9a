"""Every gateway behind the ledger, when the answer to a charge was lost and the retry comes
after the provider forgot the first sending (its idempotency key, its duplicate window) or
while it still remembers: the subscriber is charged once either way. The ledger and each
fake share one clock, which the test moves on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fakes import authorizenet as anet
from fakes import paypal as pp
from fakes import razorpay as rzp
from fakes.stripe import FakeStripe
from support.factories import utc
from support.ledger import add_plan, add_subscriber, events_of

from subledger.bootstrap import ledger_env
from subledger.commands.billing import run_billing
from subledger.commands.gateways import PaymentGateway
from subledger.commands.gateways.authorizenet import AuthorizeNetGateway
from subledger.commands.gateways.paypal import PayPalGateway
from subledger.commands.gateways.razorpay import RazorpayGateway
from subledger.commands.gateways.stripe import StripeGateway
from subledger.commands.ledger import Ledger
from subledger.config import Settings

APRIL_1 = utc(2026, 4, 1)
TIMEOUT = 0.5
HOUR = 3600.0


@dataclass(frozen=True)
class Provider:
    fake: Callable[[], Any]
    gateway: Callable[[str], PaymentGateway]
    token: str
    window: float
    """How long the provider remembers a first sending (seconds)."""
    lose: Callable[[Any], None]
    """Make the provider do the next charge but lose its answer."""
    captured: Callable[[Any], int]


def _stripe_captured(fake: FakeStripe) -> int:
    return sum(i["amount_received"] for i in fake.payment_intents.values())


PROVIDERS = {
    "stripe": Provider(
        FakeStripe, lambda url: StripeGateway("sk_test_subledger", api_base=url, timeout=TIMEOUT),
        "pm_card_visa", 24 * HOUR,
        lambda fake: fake.hang_next(seconds=3, path="/v1/payment_intents"), _stripe_captured),
    "paypal": Provider(
        pp.FakePayPal, lambda url: PayPalGateway(pp.CLIENT_ID, pp.CLIENT_SECRET, url, TIMEOUT),
        "card_ok", 6 * HOUR,
        lambda fake: fake.hang_next(seconds=3, path="/v2/checkout/orders"),
        lambda fake: fake.captured()),
    "razorpay": Provider(
        rzp.FakeRazorpay, lambda url: RazorpayGateway(rzp.KEY_ID, rzp.KEY_SECRET, url, TIMEOUT),
        f"{rzp.CUSTOMER}:token_ok", 24 * HOUR,  # no key at all: the receipt look-up is the guard
        lambda fake: fake.hang_next(seconds=3, path="/v1/payments/create/recurring"),
        lambda fake: fake.captured()),
    "authorizenet": Provider(
        anet.FakeAuthorizeNet,
        lambda url: AuthorizeNetGateway(anet.LOGIN_ID, anet.TRANSACTION_KEY, url, TIMEOUT),
        f"{anet.CUSTOMER}:1000", 8 * HOUR,
        lambda fake: fake.hang_next(seconds=3, when=lambda r: b"authCaptureTransaction" in r.body),
        lambda fake: fake.captured()),
}


@dataclass
class World:
    name: str
    provider: Provider
    fake: Any
    ledger: Ledger

    def start(self) -> Any:
        ada = add_subscriber(self.ledger, "ada@example.com")
        self.ledger.subscribers.set_payment_method(ada.id, gateway=self.name,
                                                   token=self.provider.token, effective_at=APRIL_1)
        return self.ledger.subscriptions.start(ada.id, plan_id="pro", effective_at=APRIL_1)

    def paid(self, sub: Any) -> list[dict[str, Any]]:
        return [e["data"] for e in events_of(self.ledger, sub.id, "ChargeSucceeded")]


@pytest.fixture(params=sorted(PROVIDERS))
def world(request: pytest.FixtureRequest, settings: Settings) -> Iterator[World]:
    provider = PROVIDERS[request.param]
    with provider.fake() as fake:
        ledger = Ledger(ledger_env(settings), gateways={request.param: provider.gateway(fake.url)},
                        clock=lambda: datetime.fromtimestamp(fake.now(), UTC))
        try:
            add_plan(ledger, "pro", amount=4900)
            yield World(request.param, provider, fake, ledger)
        finally:
            ledger.close()


def test_a_retry_after_the_provider_forgot_the_first_sending_charges_once(world: World) -> None:
    world.provider.lose(world.fake)
    sub = world.start()
    assert world.paid(sub) == [] and world.provider.captured(world.fake) == 4900

    world.fake.advance(world.provider.window + 2 * HOUR)
    summary = run_billing(world.ledger, APRIL_1)

    [paid] = world.paid(sub)
    assert paid["gateway_ref"] and summary.deferred == 0
    assert world.provider.captured(world.fake) == 4900, "charged once"


def test_a_retry_inside_the_window_charges_once_as_before(world: World) -> None:
    world.provider.lose(world.fake)
    sub = world.start()

    world.fake.advance(timedelta(minutes=30).total_seconds())
    run_billing(world.ledger, APRIL_1)

    [paid] = world.paid(sub)
    assert paid["gateway_ref"] and world.provider.captured(world.fake) == 4900
