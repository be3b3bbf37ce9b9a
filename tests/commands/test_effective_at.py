"""effective_at rules: nothing before it existed, never earlier than the aggregate's last
event, at most 5 minutes ahead of the server clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support.factories import utc
from support.ledger import CARD, add_coupon, add_plan, add_subscriber, log_types

from subledger.domain.errors import (
    EffectiveAtInFuture,
    EffectiveAtOutOfOrder,
    InvalidInput,
    NotYetAvailable,
)

JAN_31 = utc(2026, 1, 31)


def test_a_subscription_cannot_start_before_its_subscriber_was_registered(ledger) -> None:
    add_plan(ledger)
    ada = add_subscriber(ledger, at=utc(2026, 2, 1))
    position = ledger.event_log.max_position()

    with pytest.raises(NotYetAvailable):
        ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)

    assert ledger.event_log.max_position() == position
    assert ledger.subscribers.subscription_ids(ada.id) == []


def test_a_subscription_cannot_start_before_its_plan_was_created(ledger) -> None:
    add_plan(ledger, at=utc(2026, 2, 1))
    ada = add_subscriber(ledger)
    position = ledger.event_log.max_position()

    with pytest.raises(NotYetAvailable):
        ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)

    assert ledger.event_log.max_position() == position


def test_a_subscription_cannot_use_a_coupon_before_it_was_created(ledger) -> None:
    add_plan(ledger)
    add_coupon(ledger, at=utc(2026, 2, 1))
    ada = add_subscriber(ledger)
    position = ledger.event_log.max_position()

    with pytest.raises(NotYetAvailable):
        ledger.subscriptions.start(ada.id, plan_id="basic", coupon="twenty", effective_at=JAN_31)

    assert ledger.event_log.max_position() == position


def test_a_change_to_a_plan_created_later_is_not_yet_available(ledger) -> None:
    add_plan(ledger)
    add_plan(ledger, "premium", at=utc(2026, 3, 1))
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)

    with pytest.raises(NotYetAvailable):
        ledger.subscriptions.change(sub.id, plan_id="premium", effective_at=utc(2026, 2, 10))

    assert log_types(ledger, sub.id) == ["SubscriptionStarted", "InvoiceIssued", "ChargeSucceeded"]


def test_a_command_earlier_than_the_subscriptions_last_event_is_out_of_order(ledger) -> None:
    add_plan(ledger)
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)
    ledger.subscriptions.change(sub.id, quantity=2, effective_at=utc(2026, 3, 5))

    # The renewal of Feb 28 and the change of Mar 5 (each invoiced and paid) are in the log now.
    with pytest.raises(EffectiveAtOutOfOrder):
        ledger.subscriptions.change(sub.id, quantity=3, effective_at=utc(2026, 3, 1))
    with pytest.raises(EffectiveAtOutOfOrder):
        ledger.subscriptions.cancel(sub.id, effective_at=utc(2026, 3, 4, 23, 59, 59))

    assert log_types(ledger, sub.id) == [
        "SubscriptionStarted", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionChanged", "InvoiceIssued", "ChargeSucceeded",
    ]
    # The same instant as the last event is in order.
    same = ledger.subscriptions.change(sub.id, quantity=3, effective_at=utc(2026, 3, 5))
    assert same.quantity == 3


def test_out_of_order_applies_to_subscribers_and_plans_too(ledger) -> None:
    add_plan(ledger, at=utc(2026, 2, 1))
    ada = add_subscriber(ledger, at=utc(2026, 2, 1))

    with pytest.raises(EffectiveAtOutOfOrder):
        ledger.catalog.add_plan_price("basic", amount=2000, effective_at=utc(2026, 1, 15))
    with pytest.raises(EffectiveAtOutOfOrder):
        ledger.subscribers.change_details(ada.id, {"name": "Ada L."}, effective_at=utc(2026, 1, 15))
    with pytest.raises(EffectiveAtOutOfOrder):
        ledger.subscribers.set_payment_method(ada.id, gateway="sandbox", token="tok", effective_at=utc(2026, 1, 15))

    assert log_types(ledger) == ["PlanCreated", "SubscriberRegistered"]


def test_effective_at_more_than_five_minutes_ahead_of_the_server_clock_is_refused(clocked_ledger, clock) -> None:
    with pytest.raises(EffectiveAtInFuture):
        add_subscriber(clocked_ledger, at=clock.now + timedelta(minutes=5, seconds=1))
    with pytest.raises(EffectiveAtInFuture):
        add_plan(clocked_ledger, at=clock.now + timedelta(hours=1))

    assert clocked_ledger.event_log.max_position() == 0


def test_effective_at_up_to_five_minutes_ahead_is_accepted_as_clock_skew(clocked_ledger, clock) -> None:
    add_plan(clocked_ledger, at=clock.now)
    ada = add_subscriber(clocked_ledger, at=clock.now + timedelta(minutes=4), token=CARD)
    sub = clocked_ledger.subscriptions.start(
        ada.id, plan_id="basic", effective_at=clock.now + timedelta(minutes=5)
    )

    assert ada.registered_at == clock.now + timedelta(minutes=4)
    assert sub.started_at == clock.now + timedelta(minutes=5)
    with pytest.raises(EffectiveAtInFuture):
        clocked_ledger.subscriptions.change(
            sub.id, quantity=2, effective_at=clock.now + timedelta(minutes=6)
        )


def test_a_naive_effective_at_is_refused(ledger) -> None:
    with pytest.raises(InvalidInput):
        add_plan(ledger, at=utc(2026, 1, 1).replace(tzinfo=None))

    assert ledger.event_log.max_position() == 0
