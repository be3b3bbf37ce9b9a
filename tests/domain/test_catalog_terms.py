"""The catalog: plans with versioned prices (grandfathering), and coupons."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from support.factories import RECORDED_AT, create_coupon, create_plan, utc

from subledger.domain.coupons import Coupon, CouponTerms, coupon_aggregate_id
from subledger.domain.errors import (
    AmountOutOfBounds,
    DomainError,
    EffectiveAtOutOfOrder,
    InvalidInput,
    NotYetAvailable,
    UnknownCurrency,
)
from subledger.domain.periods import Interval
from subledger.domain.plans import Plan, PlanTerms, plan_aggregate_id

# -- plans -----------------------------------------------------------------------------------


def test_a_new_plan_is_version_1_with_its_price() -> None:
    plan = create_plan(plan_id="pro", name="Pro", tier="medium", amount=2900, currency="eur",
                       interval="quarter", trial_days=14)

    assert plan.terms_at(utc(2026, 1, 1)) == PlanTerms(
        plan_id="pro", version=1, tier="medium", amount=2900, currency="EUR",
        interval=Interval.QUARTER, trial_days=14,
    )
    assert plan.latest_version == 1
    assert plan.amount == 2900


def test_plan_aggregate_id_is_derived_from_the_plan_id() -> None:
    assert create_plan(plan_id="pro").id == plan_aggregate_id("pro")
    assert plan_aggregate_id("pro") == plan_aggregate_id("pro")
    assert plan_aggregate_id("pro") != plan_aggregate_id("basic")
    assert plan_aggregate_id("pro") != coupon_aggregate_id("pro")


@pytest.mark.parametrize(
    "plan_id",
    ["", "-basic", ".basic", "has space", "a/b", "é", "a" * 65, None],
)
def test_plan_ids_that_are_not_slugs_are_refused(plan_id: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        create_plan(plan_id=plan_id)

    assert info.value.code == "invalid-input"


@pytest.mark.parametrize("plan_id", ["a", "Basic-2026.v1_eu", "a" * 64, "0day"])
def test_plan_ids_that_are_slugs_are_accepted(plan_id: str) -> None:
    assert create_plan(plan_id=plan_id).plan_id == plan_id


@pytest.mark.parametrize("tier", ["", "gold tier", "-gold"])
def test_tiers_that_are_not_slugs_are_refused(tier: str) -> None:
    with pytest.raises(InvalidInput):
        create_plan(tier=tier)


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_blank_or_overlong_plan_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        create_plan(name=name)


@pytest.mark.parametrize("interval", ["week", "monthly", "Month", ""])
def test_unknown_intervals_are_refused(interval: str) -> None:
    with pytest.raises(InvalidInput):
        create_plan(interval=interval)


@pytest.mark.parametrize("amount", [-1, 10**12 + 1, 9.99, True])
def test_plan_amounts_out_of_bounds_are_refused(amount: Any) -> None:
    with pytest.raises(AmountOutOfBounds):
        create_plan(amount=amount)


def test_a_free_plan_is_accepted() -> None:
    assert create_plan(amount=0).amount == 0


def test_plan_in_an_unknown_currency_is_refused() -> None:
    with pytest.raises(UnknownCurrency):
        create_plan(currency="XXX")


@pytest.mark.parametrize("trial_days", [0, 1, 730])
def test_trial_days_from_0_to_730_are_accepted(trial_days: int) -> None:
    assert create_plan(trial_days=trial_days).trial_days == trial_days


@pytest.mark.parametrize("trial_days", [-1, 731, True, 1.0, None])
def test_trial_days_outside_0_to_730_or_not_int_are_refused(trial_days: Any) -> None:
    with pytest.raises(InvalidInput):
        create_plan(trial_days=trial_days)


def test_add_price_makes_version_2_and_keeps_version_1() -> None:
    plan = create_plan(amount=1000, effective_at=utc(2026, 1, 1))

    plan.add_price(amount=1500, effective_at=utc(2026, 3, 1), recorded_at=RECORDED_AT)

    assert plan.latest_version == 2
    assert plan.amount == 1500
    assert plan.terms(1).amount == 1000
    assert plan.terms(2).amount == 1500
    assert [type(e).__name__ for e in plan.collect_events()] == ["PlanCreated", "PlanPriceVersionAdded"]


def test_terms_at_picks_the_price_version_in_force_at_the_instant() -> None:
    plan = create_plan(amount=1000, effective_at=utc(2026, 1, 1))
    plan.add_price(amount=1500, effective_at=utc(2026, 3, 1), recorded_at=RECORDED_AT)
    plan.add_price(amount=2000, effective_at=utc(2026, 6, 1), recorded_at=RECORDED_AT)

    assert (plan.terms_at(utc(2026, 1, 1)).version, plan.terms_at(utc(2026, 1, 1)).amount) == (1, 1000)
    assert plan.terms_at(utc(2026, 2, 28, 23, 59, 59)).version == 1
    assert (plan.terms_at(utc(2026, 3, 1)).version, plan.terms_at(utc(2026, 3, 1)).amount) == (2, 1500)
    assert plan.terms_at(utc(2026, 5, 31)).version == 2
    assert (plan.terms_at(utc(2027, 1, 1)).version, plan.terms_at(utc(2027, 1, 1)).amount) == (3, 2000)


def test_terms_at_before_the_plan_was_created_is_not_yet_available() -> None:
    plan = create_plan(effective_at=utc(2026, 1, 1))

    with pytest.raises(NotYetAvailable) as info:
        plan.terms_at(utc(2025, 12, 31, 23, 59, 59))

    assert info.value.code == "not-yet-available"


def test_add_price_earlier_than_the_last_event_is_out_of_order() -> None:
    plan = create_plan(effective_at=utc(2026, 1, 1))
    plan.add_price(amount=1500, effective_at=utc(2026, 3, 1), recorded_at=RECORDED_AT)

    with pytest.raises(EffectiveAtOutOfOrder) as info:
        plan.add_price(amount=2000, effective_at=utc(2026, 2, 1), recorded_at=RECORDED_AT)

    assert info.value.code == "effective-at-out-of-order"
    assert plan.latest_version == 2


def test_add_price_at_the_same_instant_as_the_last_event_is_in_order() -> None:
    plan = create_plan(effective_at=utc(2026, 1, 1))

    plan.add_price(amount=1500, effective_at=utc(2026, 1, 1), recorded_at=RECORDED_AT)

    assert plan.terms_at(utc(2026, 1, 1)).version == 2


@pytest.mark.parametrize("amount", [-1, 10**12 + 1])
def test_add_price_out_of_bounds_is_refused(amount: int) -> None:
    plan = create_plan()

    with pytest.raises(AmountOutOfBounds):
        plan.add_price(amount=amount, effective_at=utc(2026, 2, 1), recorded_at=RECORDED_AT)


def test_plan_rebuilt_from_its_events_has_the_same_versions() -> None:
    plan = create_plan(effective_at=utc(2026, 1, 1))
    plan.add_price(amount=1500, effective_at=utc(2026, 3, 1), recorded_at=RECORDED_AT)
    events = plan.collect_events()

    rebuilt: Plan | None = None
    for event in events:
        rebuilt = event.mutate(rebuilt)

    assert rebuilt is not None
    assert rebuilt.versions == plan.versions
    assert rebuilt.terms_at(utc(2026, 3, 1)) == plan.terms_at(utc(2026, 3, 1))


# -- coupons ---------------------------------------------------------------------------------


def test_a_percent_off_coupon_is_created() -> None:
    coupon = create_coupon(coupon_id="half", percent_off="50", duration="once")

    assert coupon.id == coupon_aggregate_id("half")
    assert coupon.terms() == CouponTerms(
        coupon_id="half", percent_off=Decimal("50"), amount_off=None, currency=None,
        duration="once", duration_in_months=None,
    )


def test_an_amount_off_coupon_is_created_with_its_currency_normalised() -> None:
    coupon = create_coupon(percent_off=None, amount_off=500, currency="usd")

    assert (coupon.amount_off, coupon.currency, coupon.percent_off) == (500, "USD", None)


@pytest.mark.parametrize(
    ("percent_off", "amount_off"), [(None, None), (10, 500)]
)
def test_a_coupon_needs_exactly_one_of_percent_off_or_amount_off(
    percent_off: Any, amount_off: Any
) -> None:
    with pytest.raises(InvalidInput):
        create_coupon(percent_off=percent_off, amount_off=amount_off, currency="USD")


@pytest.mark.parametrize("percent_off", [0, "0", -5, "100.01", 101, "abc", "NaN", "Infinity", "12.34567"])
def test_percent_off_outside_0_exclusive_to_100_inclusive_is_refused(percent_off: Any) -> None:
    with pytest.raises(InvalidInput):
        create_coupon(percent_off=percent_off)


@pytest.mark.parametrize(
    ("percent_off", "stored"),
    [(100, Decimal("100")), ("0.0001", Decimal("0.0001")), ("12.5", Decimal("12.5")), (Decimal("25.00"), Decimal("25"))],
)
def test_percent_off_in_0_exclusive_to_100_inclusive_is_accepted(percent_off: Any, stored: Decimal) -> None:
    assert create_coupon(percent_off=percent_off).percent_off == stored


def test_a_percent_off_coupon_with_a_currency_is_refused() -> None:
    with pytest.raises(InvalidInput):
        create_coupon(percent_off=10, currency="USD")


def test_an_amount_off_coupon_without_a_currency_is_refused() -> None:
    with pytest.raises(InvalidInput):
        create_coupon(percent_off=None, amount_off=500, currency=None)


def test_an_amount_off_coupon_in_an_unknown_currency_is_refused() -> None:
    with pytest.raises(UnknownCurrency):
        create_coupon(percent_off=None, amount_off=500, currency="ABC")


@pytest.mark.parametrize("amount_off", [0, -1, 10**12 + 1, 2.5])
def test_amount_off_must_be_a_positive_bounded_int(amount_off: Any) -> None:
    with pytest.raises(InvalidInput):
        create_coupon(percent_off=None, amount_off=amount_off, currency="USD")


@pytest.mark.parametrize("duration", ["twice", "", "Forever", None])
def test_unknown_durations_are_refused(duration: Any) -> None:
    with pytest.raises(InvalidInput):
        create_coupon(duration=duration)


@pytest.mark.parametrize("months", [None, 0, -1, 121, True, 3.0])
def test_a_repeating_coupon_needs_duration_in_months_from_1_to_120(months: Any) -> None:
    with pytest.raises(InvalidInput):
        create_coupon(duration="repeating", duration_in_months=months)


@pytest.mark.parametrize("months", [1, 120])
def test_a_repeating_coupon_with_1_to_120_months_is_accepted(months: int) -> None:
    assert create_coupon(duration="repeating", duration_in_months=months).duration_in_months == months


@pytest.mark.parametrize("duration", ["once", "forever"])
def test_once_and_forever_coupons_must_not_have_duration_in_months(duration: str) -> None:
    with pytest.raises(InvalidInput):
        create_coupon(duration=duration, duration_in_months=3)


@pytest.mark.parametrize("coupon_id", ["", "bad id", "-x"])
def test_coupon_ids_that_are_not_slugs_are_refused(coupon_id: str) -> None:
    with pytest.raises(InvalidInput):
        create_coupon(coupon_id=coupon_id)


def test_coupon_validation_errors_are_domain_errors() -> None:
    with pytest.raises(DomainError):
        Coupon.create(
            coupon_id="x", percent_off=None, amount_off=None, currency=None, duration="once",
            duration_in_months=None, effective_at=utc(2026, 1, 1), recorded_at=RECORDED_AT,
        )


def _terms(duration: str, months: int | None) -> CouponTerms:
    return CouponTerms(
        coupon_id="c", percent_off=Decimal("10"), amount_off=None, currency=None,
        duration=duration, duration_in_months=months,
    )


def test_a_repeating_coupon_ends_its_months_after_it_was_applied() -> None:
    assert _terms("repeating", 3).ends_at(utc(2026, 1, 15, 12)) == utc(2026, 4, 15, 12)


def test_a_repeating_coupon_end_is_clamped_to_the_months_last_day() -> None:
    assert _terms("repeating", 1).ends_at(utc(2026, 1, 31)) == utc(2026, 2, 28)
    assert _terms("repeating", 12).ends_at(utc(2024, 2, 29)) == utc(2025, 2, 28)


@pytest.mark.parametrize("duration", ["once", "forever"])
def test_once_and_forever_coupons_have_no_end(duration: str) -> None:
    assert _terms(duration, None).ends_at(utc(2026, 1, 31)) is None
