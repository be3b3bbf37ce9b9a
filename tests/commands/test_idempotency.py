"""Idempotency keys at the application level: the first answer is stored in the transaction
that appends the command's events; a second command with the key is refused whole."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from uuid import UUID

import pytest
from support.factories import utc
from support.ledger import CARD, add_coupon, add_plan, add_subscriber, loads_stale, log_types

from subledger.commands.catalog_writes import CreatePlan
from subledger.commands.idempotency import IdempotentRequest, fingerprint
from subledger.commands.writes import ChangeSubscription, RegisterSubscriber
from subledger.domain.errors import (
    ConcurrentModification,
    Conflict,
    CouponAlreadyExists,
    EmptyChange,
    PlanAlreadyExists,
)

JAN_31 = utc(2026, 1, 31)


def request(key: str, *, scope: str = "writer-key") -> IdempotentRequest:
    return IdempotentRequest(
        scope=scope,
        key=key,
        fingerprint=fingerprint(RegisterSubscriber(email=f"{key}@example.com", name=key)),
        created=True,
        render=lambda result: {"id": str(result.id)},
    )


def test_a_command_with_a_key_stores_its_answer_and_fingerprint(clocked_ledger, clock) -> None:
    spec = request("k-1")

    ada = clocked_ledger.subscribers.register(email="ada@example.com", name="Ada", idempotency=spec)

    stored = clocked_ledger.store.find_idempotency("writer-key", "k-1")
    assert stored is not None
    assert stored.fingerprint == spec.fingerprint
    assert stored.status_code == 201
    assert json.loads(stored.body) == {"id": str(ada.id)}
    assert stored.created_at == clock.now
    assert clocked_ledger.store.find_idempotency("writer-key", "k-2") is None
    assert clocked_ledger.store.find_idempotency("other-scope", "k-1") is None


def test_a_second_creation_with_the_same_key_is_refused_and_creates_nothing(ledger) -> None:
    spec = request("k-1")
    ledger.subscribers.register(email="ada@example.com", name="Ada", idempotency=spec)
    position = ledger.event_log.max_position()

    with pytest.raises(Conflict):
        ledger.subscribers.register(email="ada@example.com", name="Ada", idempotency=spec)

    assert ledger.event_log.max_position() == position
    assert log_types(ledger).count("SubscriberRegistered") == 1


def test_a_second_change_of_the_same_subscription_with_the_same_key_is_refused(ledger) -> None:
    add_plan(ledger)
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)
    spec = request("k-change")
    ledger.subscriptions.change(sub.id, quantity=2, effective_at=utc(2026, 2, 10), idempotency=spec)
    position = ledger.event_log.max_position()

    with pytest.raises(Conflict):
        ledger.subscriptions.change(sub.id, quantity=5, effective_at=utc(2026, 2, 11), idempotency=spec)

    assert ledger.event_log.max_position() == position
    assert ledger.subscriptions.get(sub.id).quantity == 2


def test_a_key_used_by_one_command_refuses_a_different_command(ledger) -> None:
    add_plan(ledger)
    spec = request("k-any")
    ada = add_subscriber(ledger, idempotency=spec)
    position = ledger.event_log.max_position()

    with pytest.raises(Conflict):
        ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31, idempotency=spec)

    assert ledger.event_log.max_position() == position
    assert ledger.subscribers.subscription_ids(ada.id) == []
    assert ledger.event_log.history(ada.id, 0, 10).last_position == 2


def test_a_command_refused_by_a_domain_rule_stores_no_answer_and_leaves_the_key_free(ledger) -> None:
    add_plan(ledger)
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)
    spec = request("k-empty")

    with pytest.raises(EmptyChange):
        ledger.subscriptions.change(sub.id, quantity=1, effective_at=utc(2026, 2, 10), idempotency=spec)

    assert ledger.store.find_idempotency(spec.scope, spec.key) is None
    ledger.subscriptions.change(sub.id, quantity=2, effective_at=utc(2026, 2, 10), idempotency=spec)
    assert ledger.store.find_idempotency(spec.scope, spec.key) is not None


def test_the_same_key_in_another_scope_is_another_key(ledger) -> None:
    ledger.subscribers.register(email="ada@example.com", name="Ada", idempotency=request("k", scope="a"))
    ledger.subscribers.register(email="bob@example.com", name="Bob", idempotency=request("k", scope="b"))

    assert log_types(ledger) == ["SubscriberRegistered", "SubscriberRegistered"]
    assert ledger.store.find_idempotency("a", "k") is not None
    assert ledger.store.find_idempotency("b", "k") is not None


@pytest.mark.parametrize("kind", ["plan", "coupon"])
def test_a_reused_key_on_a_new_plan_or_coupon_is_not_reported_as_a_duplicate_id(ledger, kind: str) -> None:
    create = add_plan if kind == "plan" else add_coupon
    create(ledger, "first", idempotency=request("k-catalog"))

    with pytest.raises(Conflict) as refused:
        create(ledger, "second", idempotency=request("k-catalog"))

    assert ledger.event_log.max_position() == 1
    assert not isinstance(refused.value, (PlanAlreadyExists, CouponAlreadyExists))


def test_a_command_that_loses_a_race_stores_no_answer(ledger, other_ledger) -> None:
    add_plan(ledger)
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)
    stale = other_ledger.subscriptions.get(sub.id)
    ledger.subscriptions.change(sub.id, quantity=2, effective_at=utc(2026, 2, 10))
    spec = request("k-race")

    with loads_stale(other_ledger, stale), pytest.raises(ConcurrentModification):
        other_ledger.subscriptions.change(sub.id, quantity=3, effective_at=utc(2026, 2, 11), idempotency=spec)

    assert ledger.store.find_idempotency(spec.scope, spec.key) is None


def test_a_fingerprint_is_the_commands_kind_and_values_not_how_they_were_written() -> None:
    sid = UUID("00000000-0000-4000-8000-000000000007")
    change = ChangeSubscription(sid, quantity=2, effective_at=utc(2026, 2, 10))
    same_instant = datetime(2026, 2, 10, 1, tzinfo=timezone(timedelta(hours=1)))

    assert fingerprint(change) == fingerprint(
        ChangeSubscription(subscription_id=sid, effective_at=same_instant, quantity=2, when="now"))
    assert fingerprint(change) != fingerprint(ChangeSubscription(sid, quantity=3,
                                                                 effective_at=utc(2026, 2, 10)))
    assert fingerprint(change) != fingerprint(ChangeSubscription(sid, quantity=2))
    plan = {"plan_id": "p", "name": "P", "tier": "t", "currency": "USD", "amount": 1,
            "interval": "month"}
    assert fingerprint(CreatePlan(**plan)) != fingerprint(CreatePlan(**{**plan, "amount": 2}))
