"""Which payment method a charge attempt is asked of, on both stores: the one the subscriber
had when the attempt fell due. An attempt whose answer was lost (the provider may have taken
the money) is asked again of that same gateway and token under the same key, even if the
subscriber changed their method in between; a method changed before an attempt falls due
serves that attempt, as dunning needs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fakes.gateways import RecordingGateway
from support.factories import utc
from support.ledger import FakeClock, add_plan, add_subscriber, events_of

from subledger.bootstrap import ledger_env
from subledger.commands.billing import run_billing
from subledger.commands.gateways import ChargeRequest, ChargeResult, GatewayUnavailable
from subledger.commands.ledger import Ledger
from subledger.config import Settings

APRIL_1 = utc(2026, 4, 1)


class LostAnswer(RecordingGateway):
    """Takes the money, then the answer is lost (a timeout after the provider charged),
    while ``lose`` is set."""

    lose = True

    def charge(self, request: ChargeRequest) -> ChargeResult:
        result = super().charge(request)
        if self.lose:
            raise GatewayUnavailable("timed out after charging")
        return result


@pytest.fixture
def world(settings: Settings) -> Iterator[tuple[Ledger, FakeClock, LostAnswer, RecordingGateway]]:
    clock = FakeClock(APRIL_1)
    # Both sandboxes (each answers as ``sandbox``): what each charged tells them apart.
    first, other = LostAnswer(), RecordingGateway()
    ledger = Ledger(ledger_env(settings), gateways={"sandbox": first, "other": other}, clock=clock)
    add_plan(ledger, "pro", amount=4900, at=utc(2026, 3, 1))
    yield ledger, clock, first, other
    ledger.close()


def _subscriber(ledger: Ledger, token: str = "tok_visa") -> Any:
    ada = add_subscriber(ledger, "ada@example.com", at=APRIL_1)
    return ledger.subscribers.set_payment_method(ada.id, gateway="sandbox", token=token)


def test_an_attempt_whose_answer_was_lost_is_asked_again_of_the_same_method(world: Any) -> None:
    ledger, clock, first, other = world
    ada = _subscriber(ledger)
    sub = ledger.subscriptions.start(ada.id, plan_id="pro")  # charged, answer lost
    assert list(first.charged.values()) == [4900]
    clock.advance(minutes=5)
    ledger.subscribers.set_payment_method(ada.id, gateway="other", token="tok_visa")
    first.lose = False
    clock.advance(minutes=1)
    run_billing(ledger, clock.now)

    assert list(first.charged.values()) == [4900]  # the same key: no second charge
    assert other.charged == {}
    [paid] = events_of(ledger, sub.id, "ChargeSucceeded")
    assert paid["data"]["amount"] == 4900 and f"subledger-{paid['data']['charge_id']}" in first.charged


def test_a_method_changed_before_a_retry_falls_due_pays_that_retry(world: Any) -> None:
    ledger, clock, first, other = world
    first.lose = False
    ada = _subscriber(ledger, token="tok_chargeDeclined")
    sub = ledger.subscriptions.start(ada.id, plan_id="pro")  # declined: retried later
    [failed] = events_of(ledger, sub.id, "ChargeFailed")
    clock.advance(days=1)
    ledger.subscribers.set_payment_method(ada.id, gateway="other", token="tok_visa")
    clock.set(utc(2026, 4, 30))
    run_billing(ledger, clock.now)

    [paid] = events_of(ledger, sub.id, "ChargeSucceeded")
    assert paid["data"]["attempt"] == 2
    assert other.charged == {f"subledger-{paid['data']['charge_id']}": 4900}
    assert first.charged == {}
    assert failed["data"]["next_attempt_at"] <= paid["effective_at"]


def test_a_retry_asked_by_hand_uses_the_method_set_just_before(world: Any) -> None:
    ledger, clock, first, other = world
    first.lose = False
    ada = _subscriber(ledger, token="tok_chargeDeclined")
    sub = ledger.subscriptions.start(ada.id, plan_id="pro")
    [failed] = events_of(ledger, sub.id, "ChargeFailed")
    clock.advance(hours=1)
    ledger.subscribers.set_payment_method(ada.id, gateway="other", token="tok_visa")
    ledger.corrections.retry_charge(failed["data"]["charge_id"])

    [paid] = events_of(ledger, sub.id, "ChargeSucceeded")
    assert other.charged == {f"subledger-{paid['data']['charge_id']}": 4900}
