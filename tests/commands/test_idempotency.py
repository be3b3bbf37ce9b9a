"""Idempotency keys at the application level: the first answer is stored in the transaction
that appends the command's events; a second command with the key is refused whole."""

from __future__ import annotations

import json
from typing import Any

import pytest
from factories import CARD, add_coupon, add_plan, add_subscriber, loads_stale, log_types, utc

from subledger.commands.idempotency import IdempotentRequest, fingerprint
from subledger.domain.errors import (
    ConcurrentModification,
    Conflict,
    CouponAlreadyExists,
    EmptyChange,
    PlanAlreadyExists,
)

JAN_31 = utc(2026, 1, 31)


def request(key: str, body: Any = None, *, scope: str = "writer-key", path: str = "/v1/x") -> IdempotentRequest:
    return IdempotentRequest(
        scope=scope,
        key=key,
        fingerprint=fingerprint("POST", path, body or {"key": key}),
        render=lambda result: (201, {"id": str(result.id)}),
    )


def test_a_command_with_a_key_stores_its_answer_and_fingerprint(clocked_ledger, clock) -> None:
    spec = request("k-1", {"email": "ada@example.com", "name": "Ada"})

    ada = clocked_ledger.register_subscriber(email="ada@example.com", name="Ada", idempotency=spec)

    stored = clocked_ledger.find_idempotency("writer-key", "k-1")
    assert stored is not None
    assert stored.fingerprint == spec.fingerprint
    assert stored.status_code == 201
    assert json.loads(stored.body) == {"id": str(ada.id)}
    assert stored.created_at == clock.now
    assert clocked_ledger.find_idempotency("writer-key", "k-2") is None
    assert clocked_ledger.find_idempotency("other-scope", "k-1") is None


def test_a_second_creation_with_the_same_key_is_refused_and_creates_nothing(ledger) -> None:
    spec = request("k-1")
    ledger.register_subscriber(email="ada@example.com", name="Ada", idempotency=spec)
    position = ledger.event_log.max_position()

    with pytest.raises(Conflict):
        ledger.register_subscriber(email="ada@example.com", name="Ada", idempotency=spec)

    assert ledger.event_log.max_position() == position
    assert log_types(ledger).count("SubscriberRegistered") == 1


def test_a_second_change_of_the_same_subscription_with_the_same_key_is_refused(ledger) -> None:
    add_plan(ledger)
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.start_subscription(ada.id, plan_id="basic", effective_at=JAN_31)
    spec = request("k-change")
    ledger.change_subscription(sub.id, quantity=2, effective_at=utc(2026, 2, 10), idempotency=spec)
    position = ledger.event_log.max_position()

    with pytest.raises(Conflict):
        ledger.change_subscription(sub.id, quantity=5, effective_at=utc(2026, 2, 11), idempotency=spec)

    assert ledger.event_log.max_position() == position
    assert ledger.get_subscription(sub.id).quantity == 2


def test_a_key_used_by_one_command_refuses_a_different_command(ledger) -> None:
    add_plan(ledger)
    spec = request("k-any")
    ada = add_subscriber(ledger, idempotency=spec)
    position = ledger.event_log.max_position()

    with pytest.raises(Conflict):
        ledger.start_subscription(ada.id, plan_id="basic", effective_at=JAN_31, idempotency=spec)

    assert ledger.event_log.max_position() == position
    assert ledger.subscription_ids(ada.id) == []
    assert ledger.event_log.history(ada.id, 0, 10).last_position == 2


def test_a_command_refused_by_a_domain_rule_stores_no_answer_and_leaves_the_key_free(ledger) -> None:
    add_plan(ledger)
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.start_subscription(ada.id, plan_id="basic", effective_at=JAN_31)
    spec = request("k-empty")

    with pytest.raises(EmptyChange):
        ledger.change_subscription(sub.id, quantity=1, effective_at=utc(2026, 2, 10), idempotency=spec)

    assert ledger.find_idempotency(spec.scope, spec.key) is None
    ledger.change_subscription(sub.id, quantity=2, effective_at=utc(2026, 2, 10), idempotency=spec)
    assert ledger.find_idempotency(spec.scope, spec.key) is not None


def test_the_same_key_in_another_scope_is_another_key(ledger) -> None:
    ledger.register_subscriber(email="ada@example.com", name="Ada", idempotency=request("k", scope="a"))
    ledger.register_subscriber(email="bob@example.com", name="Bob", idempotency=request("k", scope="b"))

    assert log_types(ledger) == ["SubscriberRegistered", "SubscriberRegistered"]
    assert ledger.find_idempotency("a", "k") is not None
    assert ledger.find_idempotency("b", "k") is not None


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
    sub = ledger.start_subscription(ada.id, plan_id="basic", effective_at=JAN_31)
    stale = other_ledger.get_subscription(sub.id)
    ledger.change_subscription(sub.id, quantity=2, effective_at=utc(2026, 2, 10))
    spec = request("k-race")

    with loads_stale(other_ledger, stale), pytest.raises(ConcurrentModification):
        other_ledger.change_subscription(sub.id, quantity=3, effective_at=utc(2026, 2, 11), idempotency=spec)

    assert ledger.find_idempotency(spec.scope, spec.key) is None


def test_a_fingerprint_ignores_key_order_and_whitespace_but_not_values() -> None:
    body = {"plan_id": "basic", "quantity": 2, "meta": {"a": 1, "b": [1, 2]}}
    reordered = json.loads('{ "meta": {"b": [1, 2], "a": 1},  "quantity": 2, "plan_id": "basic" }')

    assert fingerprint("POST", "/v1/subscriptions", body) == fingerprint("post", "/v1/subscriptions", reordered)
    assert fingerprint("POST", "/v1/subscriptions", body) != fingerprint(
        "POST", "/v1/subscriptions", {**body, "quantity": 3}
    )
    assert fingerprint("POST", "/v1/subscriptions", body) != fingerprint("POST", "/v1/plans", body)
    assert fingerprint("POST", "/v1/x", body) != fingerprint("PUT", "/v1/x", body)
    assert fingerprint("POST", "/v1/x", {"b": [1, 2]}) != fingerprint("POST", "/v1/x", {"b": [2, 1]})
