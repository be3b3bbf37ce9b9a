"""The catalog through the ledger: versioned prices (grandfathering), unique plan and coupon
ids enforced by the store, and listing in creation order."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from support.factories import utc
from support.ledger import CARD, add_coupon, add_plan, add_subscriber, log_types

from subledger.domain.errors import CouponAlreadyExists, PlanAlreadyExists, PlanNotFound
from subledger.domain.plans import Plan

JAN_31 = utc(2026, 1, 31)


def test_a_new_price_version_leaves_existing_subscriptions_on_theirs(ledger) -> None:
    add_plan(ledger, "basic", amount=1000)
    add_plan(ledger, "premium", amount=3000)
    ada = add_subscriber(ledger, "ada@example.com", token=CARD)
    bob = add_subscriber(ledger, "bob@example.com", token=CARD)
    old = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)

    plan = ledger.catalog.add_plan_price("basic", amount=1200, effective_at=utc(2026, 2, 1))
    ledger.catalog.add_plan_price("premium", amount=3500, effective_at=utc(2026, 2, 1))
    new = ledger.subscriptions.start(bob.id, plan_id="basic", effective_at=utc(2026, 2, 5))

    assert plan.latest_version == 2
    assert (old.plan_version, old.amount) == (1, 1000)
    assert (new.plan_version, new.amount) == (2, 1200)
    # Renewals and quantity changes keep the old subscription on its version.
    kept = ledger.subscriptions.change(old.id, quantity=2, effective_at=utc(2026, 3, 5))
    assert (kept.plan_version, kept.amount, kept.quantity) == (1, 1000, 2)
    same_plan = ledger.subscriptions.change(old.id, plan_id="basic", quantity=3, effective_at=utc(2026, 3, 5))
    assert (same_plan.plan_version, same_plan.amount) == (1, 1000)
    # A change to another plan takes that plan's version in force.
    moved = ledger.subscriptions.change(old.id, plan_id="premium", effective_at=utc(2026, 3, 6))
    assert (moved.plan_id, moved.plan_version, moved.amount) == ("premium", 2, 3500)
    back = ledger.subscriptions.change(old.id, plan_id="basic", effective_at=utc(2026, 3, 7))
    assert (back.plan_version, back.amount) == (2, 1200)


def test_a_subscription_started_before_a_price_change_takes_effect_gets_the_older_version(ledger) -> None:
    add_plan(ledger, "basic", amount=1000)
    ledger.catalog.add_plan_price("basic", amount=1200, effective_at=utc(2026, 3, 1))
    ada = add_subscriber(ledger)

    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)

    assert (sub.plan_version, sub.amount) == (1, 1000)


def test_creating_a_plan_id_twice_is_refused_and_appends_nothing(ledger) -> None:
    add_plan(ledger, "basic", amount=1000)
    position = ledger.event_log.max_position()

    with pytest.raises(PlanAlreadyExists):
        add_plan(ledger, "basic", amount=5000)

    assert ledger.event_log.max_position() == position
    assert ledger.catalog.get_plan("basic").amount == 1000


def test_creating_a_coupon_id_twice_is_refused_and_appends_nothing(ledger) -> None:
    add_coupon(ledger, "twenty")
    position = ledger.event_log.max_position()

    with pytest.raises(CouponAlreadyExists):
        add_coupon(ledger, "twenty", percent_off=50)

    assert ledger.event_log.max_position() == position
    assert ledger.catalog.get_coupon("twenty").percent_off == 20


def _race(ledgers: list[Any], create: Callable[[Any], Any]) -> list[Any]:
    """Run ``create`` on each ledger in its own thread, every one past the existence check
    before any saves (the window in which the store alone can refuse the duplicate)."""
    barrier = threading.Barrier(len(ledgers), timeout=20)
    outcomes: list[Any] = [None] * len(ledgers)

    for app in ledgers:
        check = app.store.exists

        def exists_then_wait(aggregate_id: Any, _check: Callable[[Any], bool] = check) -> bool:
            found = _check(aggregate_id)
            barrier.wait()
            return found

        app.store.exists = exists_then_wait

    def run(i: int) -> None:
        try:
            outcomes[i] = create(ledgers[i])
        except Exception as error:  # noqa: BLE001 - the outcome is what the test checks
            outcomes[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(ledgers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    for app in ledgers:
        del app.store.exists
    return outcomes


def test_two_ledgers_racing_to_create_the_same_plan_leave_exactly_one(ledger, other_ledger) -> None:
    outcomes = _race(
        [ledger, other_ledger], lambda app: add_plan(app, "basic", amount=1000 + id(app) % 7)
    )

    winners = [o for o in outcomes if isinstance(o, Plan)]
    losers = [o for o in outcomes if isinstance(o, PlanAlreadyExists)]
    assert (len(winners), len(losers)) == (1, 1), outcomes
    assert log_types(ledger) == ["PlanCreated"]
    assert ledger.catalog.get_plan("basic").amount == winners[0].amount


def test_two_ledgers_racing_to_create_the_same_coupon_leave_exactly_one(ledger, other_ledger) -> None:
    outcomes = _race([ledger, other_ledger], lambda app: add_coupon(app, "twenty"))

    assert sorted(type(o).__name__ for o in outcomes) == ["Coupon", "CouponAlreadyExists"], outcomes
    assert log_types(ledger) == ["CouponCreated"]


def test_an_unknown_plan_is_not_found(ledger) -> None:
    with pytest.raises(PlanNotFound):
        ledger.catalog.get_plan("nope")


def test_plans_are_listed_in_creation_order_in_keyset_pages(ledger) -> None:
    ids = ["p1", "p2", "p3", "p4", "p5"]
    for plan_id in ids:
        add_plan(ledger, plan_id)
        ledger.catalog.add_plan_price(plan_id, amount=2000, effective_at=utc(2026, 2, 1))  # not listed
    add_coupon(ledger, "twenty")  # not a plan

    pages: list[list[str]] = []
    after: int | None = 0
    while after is not None:
        items, after = ledger.catalog.plans(after, 2)
        pages.append([p.plan_id for p in items])

    assert pages == [["p1", "p2"], ["p3", "p4"], ["p5"]]
    coupons, cursor = ledger.catalog.coupons(0, 10)
    assert [c.coupon_id for c in coupons] == ["twenty"]
    assert cursor is None


def test_a_full_last_page_is_followed_by_an_empty_one(ledger) -> None:
    for plan_id in ["p1", "p2"]:
        add_plan(ledger, plan_id)

    items, cursor = ledger.catalog.plans(0, 2)
    assert [p.plan_id for p in items] == ["p1", "p2"]
    assert cursor is not None
    assert ledger.catalog.plans(cursor, 2) == ([], None)
