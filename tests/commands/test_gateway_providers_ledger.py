"""PayPal, Razorpay and Authorize.net behind the ledger, on both stores: each adapter talks to
its provider's fake over real HTTP while the two-phase money protocol runs as in production."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fakes import authorizenet as anet
from fakes import paypal as pp
from fakes import razorpay as rzp
from fakes.provider_server import FakeProvider, Recorded
from support.factories import utc
from support.ledger import add_plan, add_subscriber, events_of

from subledger.bootstrap import ledger_env
from subledger.commands.billing import run_billing
from subledger.commands.gateways import PaymentGateway
from subledger.commands.gateways.authorizenet import AuthorizeNetGateway
from subledger.commands.gateways.paypal import PayPalGateway
from subledger.commands.gateways.razorpay import RazorpayGateway
from subledger.commands.ledger import Ledger
from subledger.config import Settings

APRIL_1 = utc(2026, 4, 1)
TIMEOUT = 0.5


@dataclass(frozen=True)
class Provider:
    fake: Callable[[], FakeProvider]
    gateway: Callable[[str], PaymentGateway]
    ok: str
    declined: str
    decline_code: str
    is_charge: Callable[[Recorded], bool]
    """The request that moves the money (the one a timeout or a 5xx is injected into)."""


PROVIDERS = {
    "paypal": Provider(
        pp.FakePayPal, lambda url: PayPalGateway(pp.CLIENT_ID, pp.CLIENT_SECRET, url, TIMEOUT),
        "card_ok", "card_5120", "insufficient_funds",
        lambda r: r.path == "/v2/checkout/orders"),
    "razorpay": Provider(
        rzp.FakeRazorpay, lambda url: RazorpayGateway(rzp.KEY_ID, rzp.KEY_SECRET, url, TIMEOUT),
        f"{rzp.CUSTOMER}:token_ok", f"{rzp.CUSTOMER}:token_card_expired", "expired_card",
        lambda r: r.path == "/v1/payments/create/recurring"),
    "authorizenet": Provider(
        anet.FakeAuthorizeNet,
        lambda url: AuthorizeNetGateway(anet.LOGIN_ID, anet.TRANSACTION_KEY, url, TIMEOUT),
        f"{anet.CUSTOMER}:1000", f"{anet.CUSTOMER}:2045", "incorrect_cvc",
        lambda r: b"authCaptureTransaction" in r.body),
}


@dataclass
class World:
    name: str
    provider: Provider
    fake: Any
    ledger: Ledger

    def subscriber(self, token: str) -> Any:
        ada = add_subscriber(self.ledger, "ada@example.com")
        return self.ledger.subscribers.set_payment_method(ada.id, gateway=self.name, token=token,
                                                          effective_at=APRIL_1)

    def start(self, token: str) -> Any:
        return self.ledger.subscriptions.start(self.subscriber(token).id, plan_id="pro",
                                               effective_at=APRIL_1)


@pytest.fixture(params=sorted(PROVIDERS))
def world(request: pytest.FixtureRequest, settings: Settings) -> Iterator[World]:
    provider = PROVIDERS[request.param]
    with provider.fake() as fake:
        ledger = Ledger(ledger_env(settings), gateways={request.param: provider.gateway(fake.url)})
        try:
            add_plan(ledger, "pro", amount=4900)
            yield World(request.param, provider, fake, ledger)
        finally:
            ledger.close()


def charges(world: World, sub: Any, kind: str) -> list[dict[str, Any]]:
    return [e["data"] for e in events_of(world.ledger, sub.id, kind)]


def test_a_charge_succeeds_with_the_providers_reference(world: World) -> None:
    sub = world.start(world.provider.ok)

    [paid] = charges(world, sub, "ChargeSucceeded")
    assert (paid["gateway"], paid["amount"], paid["currency"]) == (world.name, 4900, "USD")
    assert paid["gateway_ref"] and world.fake.captured() == 4900
    assert world.ledger.subscriptions.get(sub.id).status == "active"


def test_a_decline_is_recorded_with_the_ledgers_code_and_dunning_starts(world: World) -> None:
    sub = world.start(world.provider.declined)

    [failed] = charges(world, sub, "ChargeFailed")
    assert (failed["gateway"], failed["decline_code"]) == (world.name, world.provider.decline_code)
    assert world.ledger.subscriptions.get(sub.id).status == "past_due"
    assert world.fake.captured() == 0


def test_a_charge_that_times_out_is_retried_by_the_billing_clock_and_charged_once(world: World) -> None:
    world.fake.hang_next(seconds=3, when=world.provider.is_charge)

    sub = world.start(world.provider.ok)

    assert charges(world, sub, "ChargeSucceeded") == charges(world, sub, "ChargeFailed") == []
    assert world.fake.captured() == 4900, "the provider charged; the answer was lost"
    run_billing(world.ledger, APRIL_1)
    [paid] = charges(world, sub, "ChargeSucceeded")
    assert paid["gateway_ref"]
    assert world.fake.captured() == 4900
    run_billing(world.ledger, APRIL_1)
    assert world.fake.captured() == 4900 and len(charges(world, sub, "ChargeSucceeded")) == 1


def test_a_server_error_records_nothing_and_the_retry_charges_once(world: World) -> None:
    world.fake.fail_next(status=503, when=world.provider.is_charge)

    sub = world.start(world.provider.ok)

    assert charges(world, sub, "ChargeSucceeded") == [] and world.fake.captured() == 0
    summary = run_billing(world.ledger, APRIL_1)
    assert summary.deferred == 0
    assert len(charges(world, sub, "ChargeSucceeded")) == 1 and world.fake.captured() == 4900


def test_a_refund_and_partial_refunds_go_to_the_provider_and_add_up_to_the_charge(world: World) -> None:
    sub = world.start(world.provider.ok)
    [paid] = charges(world, sub, "ChargeSucceeded")

    world.ledger.payments.refund_charge(paid["charge_id"], amount=1900, effective_at=utc(2026, 4, 2))
    loaded, _ = world.ledger.payments.refund_charge(paid["charge_id"], amount=3000,
                                                    effective_at=utc(2026, 4, 3))

    issued = charges(world, sub, "RefundIssued")
    assert [r["amount"] for r in issued] == [1900, 3000]
    assert all(r["gateway_ref"] for r in issued)
    assert world.fake.refunded() == 4900
    assert loaded.refundable(paid["charge_id"]) == 0


def test_a_refund_whose_answer_is_lost_is_sent_again_and_refunds_once(world: World) -> None:
    sub = world.start(world.provider.ok)
    [paid] = charges(world, sub, "ChargeSucceeded")
    world.fake.hang_next(seconds=3, when=lambda r: r.method == "POST" and (
        b"refundTransaction" in r.body or r.path.endswith("/refund")))

    world.ledger.payments.refund_charge(paid["charge_id"], amount=1000, effective_at=utc(2026, 4, 2))

    assert charges(world, sub, "RefundIssued") == [] and world.fake.refunded() == 1000
    run_billing(world.ledger, utc(2026, 4, 2))
    [issued] = charges(world, sub, "RefundIssued")
    assert issued["amount"] == 1000 and world.fake.refunded() == 1000
