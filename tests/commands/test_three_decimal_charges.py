"""A mid-period change in a three-decimal currency is charged through Stripe and Razorpay,
whose APIs take the last of three decimals as 0 only: the proration is rounded to tens of
fils, so the card is charged and the subscription stays active (an unrounded 6.334 KWD
was refused by the adapter as ``invalid_amount``, and dunning followed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fakes import razorpay as rzp
from fakes.stripe import FakeStripe
from support.factories import utc
from support.ledger import add_plan, add_subscriber, events_of

from subledger.bootstrap import ledger_env
from subledger.commands.gateways import PaymentGateway
from subledger.commands.gateways.razorpay import RazorpayGateway
from subledger.commands.gateways.stripe import StripeGateway
from subledger.commands.ledger import Ledger
from subledger.config import Settings

APRIL_1 = utc(2026, 4, 1)
APRIL_12 = utc(2026, 4, 12)
"""19 of April's 30 days left: one seat of 10.000 KWD is 6.333 33... KWD for the rest."""


@dataclass(frozen=True)
class Provider:
    fake: Callable[[], Any]
    gateway: Callable[[str], PaymentGateway]
    token: str


PROVIDERS = {
    "stripe": Provider(FakeStripe, lambda url: StripeGateway("sk_test_x", api_base=url, timeout=5),
                       "pm_card_visa"),
    "razorpay": Provider(rzp.FakeRazorpay,
                         lambda url: RazorpayGateway(rzp.KEY_ID, rzp.KEY_SECRET, url, 5),
                         f"{rzp.CUSTOMER}:token_ok"),
}


@pytest.fixture(params=sorted(PROVIDERS))
def world(request: pytest.FixtureRequest, settings: Settings) -> Iterator[tuple[str, Ledger, Any]]:
    """(the gateway's name, a ledger charging through it, a subscriber whose card pays)."""
    provider = PROVIDERS[request.param]
    with provider.fake() as fake:
        ledger = Ledger(ledger_env(settings), gateways={request.param: provider.gateway(fake.url)})
        try:
            add_plan(ledger, "seat", currency="KWD", amount=10000)
            ada = add_subscriber(ledger, "ada@example.com")
            ledger.subscribers.set_payment_method(ada.id, gateway=request.param,
                                                  token=provider.token, effective_at=APRIL_1)
            yield request.param, ledger, ada.id
        finally:
            ledger.close()


def data(ledger: Ledger, aggregate_id: Any, kind: str) -> list[dict[str, Any]]:
    return [e["data"] for e in events_of(ledger, aggregate_id, kind)]


def test_a_mid_period_kwd_seat_change_is_charged_and_the_subscription_stays_active(
        world: tuple[str, Ledger, Any]) -> None:
    name, ledger, ada = world
    sub = ledger.subscriptions.start(ada, plan_id="seat", effective_at=APRIL_1)

    ledger.subscriptions.change(sub.id, quantity=2, effective_at=APRIL_12)

    assert ledger.subscriptions.get(sub.id).status == "active"
    assert data(ledger, sub.id, "ChargeFailed") == []
    _, proration = data(ledger, sub.id, "InvoiceIssued")
    assert [line["amount"] for line in proration["lines"]] == [-6330, 12670]  # half-even to tens
    assert proration["amount_due"] == 6340
    paid = data(ledger, sub.id, "ChargeSucceeded")
    assert [(c["amount"], c["currency"], c["gateway"]) for c in paid] == [
        (10000, "KWD", name), (6340, "KWD", name)]


def test_a_kwd_price_recorded_before_the_rule_is_charged_rounded_and_the_subscriber_kept(
        world: tuple[str, Ledger, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    name, ledger, ada = world
    with monkeypatch.context() as before_the_rule:  # a price the ledger once accepted
        before_the_rule.setattr("subledger.domain.plans.check_settleable", lambda amount, *_: amount)
        add_plan(ledger, "old", currency="KWD", amount=3285)

    sub = ledger.subscriptions.start(ada, plan_id="old", effective_at=APRIL_1)

    assert ledger.subscriptions.get(sub.id).status == "active"
    assert data(ledger, sub.id, "ChargeFailed") == []
    (invoice,) = data(ledger, sub.id, "InvoiceIssued")
    assert [(line["kind"], line["amount"]) for line in invoice["lines"]] == [
        ("recurring", 3285), ("rounding", -5)]  # 3.285 half-even to 3.280
    assert [(c["amount"], c["gateway"]) for c in data(ledger, sub.id, "ChargeSucceeded")] == [
        (3280, name)]
