"""The subscription's signup: its trial, its first period, its terms and the bounds of its
quantity and trial days (docs/business-rules.md).

The subscription and its commands come from ``support/subscriptions.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from support.factories import (
    RECORDED_AT,
    SUBSCRIBER_ID,
    event_names,
    plan_terms,
    start_subscription,
    utc,
)
from support.subscriptions import ANNUAL, BASIC

from subledger.domain.errors import InvalidInput, QuantityOutOfBounds
from subledger.domain.periods import Interval


def test_signup_with_a_trial_is_trialing_until_start_plus_trial_days_with_no_anchor() -> None:
    sub = start_subscription(plan_terms(trial_days=14), at=utc(2026, 1, 10, 9, 30))

    assert sub.status == "trialing"
    assert sub.trial_end == utc(2026, 1, 24, 9, 30)
    assert sub.billing_anchor is None
    assert (sub.current_period_start, sub.current_period_end) == (
        utc(2026, 1, 10, 9, 30), utc(2026, 1, 24, 9, 30)
    )
    assert sub.started_at == utc(2026, 1, 10, 9, 30)
    (event,) = sub.collect_events()
    assert type(event).__name__ == "SubscriptionStarted"
    assert (event.status, event.trial_end, event.effective_at) == (
        "trialing", utc(2026, 1, 24, 9, 30), utc(2026, 1, 10, 9, 30)
    )
    assert event.recorded_at == RECORDED_AT
    assert event.subscriber_id == SUBSCRIBER_ID


def test_signup_without_a_trial_is_active_for_one_interval_from_the_start() -> None:
    sub = start_subscription(BASIC, at=utc(2026, 1, 31))

    assert sub.status == "active"
    assert sub.trial_end is None
    assert sub.billing_anchor == utc(2026, 1, 31)
    assert sub.period_number == 0
    assert (sub.current_period_start, sub.current_period_end) == (utc(2026, 1, 31), utc(2026, 2, 28))
    started_event, invoiced = sub.collect_events()
    assert event_names([started_event, invoiced]) == ["SubscriptionStarted", "InvoiceIssued"]
    assert (invoiced.effective_at, invoiced.reason, invoiced.total) == (
        utc(2026, 1, 31), "subscription_create", 1000
    )


def test_quarterly_signup_on_nov_30_ends_its_first_period_on_feb_28() -> None:
    sub = start_subscription(plan_terms(interval="quarter"), at=utc(2025, 11, 30, 12))

    assert sub.current_period_end == utc(2026, 2, 28, 12)


def test_yearly_signup_on_feb_29_ends_its_first_period_on_feb_28() -> None:
    sub = start_subscription(ANNUAL, at=utc(2024, 2, 29))

    assert sub.current_period_end == utc(2025, 2, 28)


def test_signup_records_the_plan_version_price_and_quantity() -> None:
    sub = start_subscription(plan_terms("team", version=3, tier="gold", amount=4200), at=utc(2026, 1, 1),
                             quantity=5)

    assert (sub.plan_id, sub.plan_version, sub.tier, sub.amount, sub.currency, sub.interval,
            sub.quantity) == ("team", 3, "gold", 4200, "USD", Interval.MONTH, 5)


def test_trial_days_zero_overrides_the_plans_trial() -> None:
    sub = start_subscription(plan_terms(trial_days=14), at=utc(2026, 3, 1), trial_days=0)

    assert sub.status == "active"
    assert sub.current_period_end == utc(2026, 4, 1)


def test_trial_days_override_gives_a_trial_on_a_plan_without_one() -> None:
    sub = start_subscription(BASIC, at=utc(2026, 3, 1), trial_days=7)

    assert sub.status == "trialing"
    assert sub.trial_end == utc(2026, 3, 8)


@pytest.mark.parametrize("quantity", [0, -1, 1_000_001, True, 1.0])
def test_signup_with_a_quantity_out_of_bounds_is_refused(quantity: Any) -> None:
    with pytest.raises(QuantityOutOfBounds) as info:
        start_subscription(BASIC, at=utc(2026, 1, 1), quantity=quantity)

    assert info.value.code == "quantity-out-of-bounds"


@pytest.mark.parametrize("trial_days", [-1, 731, True])
def test_signup_with_trial_days_out_of_bounds_is_refused(trial_days: Any) -> None:
    with pytest.raises(InvalidInput):
        start_subscription(BASIC, at=utc(2026, 1, 1), trial_days=trial_days)
