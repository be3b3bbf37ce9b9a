"""Writes run through ``Ledger.execute`` under an idempotency key: the guarantee every entry
point gets (HTTP, the command line and a Python caller alike)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from support.concurrency import HeldClock
from support.factories import utc
from support.ledger import CARD, add_plan, add_subscriber, log_types

from subledger.commands.idempotency import OPEN_SCOPE, IdempotencyKey
from subledger.commands.ledger import Ledger
from subledger.commands.writes import ChangeSubscription, RegisterSubscriber, StartSubscription
from subledger.domain.errors import (
    EmptyChange,
    IdempotencyKeyInFlight,
    IdempotencyKeyMalformed,
    IdempotencyKeyReused,
)

ADA = RegisterSubscriber(email="ada@example.com", name="Ada")


def key(name: str, scope: str = OPEN_SCOPE) -> IdempotencyKey:
    return IdempotencyKey(scope, name)


def test_a_retry_with_the_same_key_answers_the_first_answer_and_appends_nothing(ledger) -> None:
    first = ledger.execute(ADA, key("signup-1"))
    again = ledger.execute(RegisterSubscriber(name="Ada", email="ada@example.com"), key("signup-1"))

    assert (first.created, first.replayed) == (True, False)
    assert (again.body, again.created, again.replayed) == (first.body, True, True)
    assert log_types(ledger) == ["SubscriberRegistered"]


def test_without_a_key_every_call_runs(ledger) -> None:
    ledger.execute(ADA)
    ledger.execute(ADA)

    assert log_types(ledger) == ["SubscriberRegistered", "SubscriberRegistered"]


def test_the_same_key_with_another_command_is_refused_and_appends_nothing(ledger) -> None:
    ledger.execute(ADA, key("signup-2"))

    with pytest.raises(IdempotencyKeyReused):
        ledger.execute(RegisterSubscriber(email="bo@example.com", name="Bo"), key("signup-2"))

    assert log_types(ledger) == ["SubscriberRegistered"]


def test_a_key_is_scoped_to_whoever_sent_it(ledger) -> None:
    ledger.execute(ADA, key("k", scope="key:a"))
    other = ledger.execute(ADA, key("k", scope="key:b"))

    assert not other.replayed
    assert log_types(ledger) == ["SubscriberRegistered", "SubscriberRegistered"]


@pytest.mark.parametrize("name", ["", "k" * 256])
def test_a_key_must_be_1_to_255_characters(name: str) -> None:
    with pytest.raises(IdempotencyKeyMalformed):
        IdempotencyKey(OPEN_SCOPE, name)
    assert IdempotencyKey(OPEN_SCOPE, "k" * 255).key == "k" * 255


def test_a_refused_command_stores_no_answer_and_leaves_its_key_free(ledger) -> None:
    add_plan(ledger)
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=utc(2026, 1, 31))

    with pytest.raises(EmptyChange):
        ledger.execute(ChangeSubscription(sub.id, quantity=1), key("change-1"))
    answer = ledger.execute(ChangeSubscription(sub.id, quantity=2), key("change-1"))

    assert not answer.replayed and answer.body["quantity"] == 2


def test_the_answer_is_the_state_the_decision_saved_even_when_a_charge_followed(ledger) -> None:
    add_plan(ledger)
    ada = add_subscriber(ledger, token=CARD)
    command = StartSubscription(ada.id, plan_id="basic", effective_at=utc(2026, 1, 31))

    first = ledger.execute(command, key("start-1"))
    again = ledger.execute(command, key("start-1"))

    assert first.body["open_invoices"], "the decision's state: its first invoice still open"
    assert again.body == first.body and again.replayed
    assert log_types(ledger).count("ChargeSucceeded") == 1


@pytest.fixture
def held_ledger(ledger_on: Callable[..., Ledger]) -> Iterator[tuple[Ledger, HeldClock]]:
    clock = HeldClock()
    yield ledger_on(clock=clock), clock
    clock.release()


def test_a_duplicate_while_the_first_is_running_is_refused_as_in_flight(held_ledger) -> None:
    ledger, clock = held_ledger
    answers: list[object] = []
    clock.hold_next()
    first = threading.Thread(target=lambda: answers.append(ledger.execute(ADA, key("busy"))))
    first.start()
    assert clock.holding.wait(timeout=30), "the first command reached the clock"

    with pytest.raises(IdempotencyKeyInFlight):
        ledger.execute(ADA, key("busy"))

    clock.release()
    first.join(timeout=30)
    assert len(answers) == 1
    assert ledger.execute(ADA, key("busy")).replayed
    assert log_types(ledger) == ["SubscriberRegistered"]
