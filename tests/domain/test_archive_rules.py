"""Archiving takes a plan or a coupon off sale from an instant on: nothing new starts on it,
what already has it keeps it."""

from __future__ import annotations

from typing import Any

import pytest
from support.factories import RECORDED_AT, create_coupon, create_plan, event_names, replay, utc

from subledger.domain.coupons import Coupon
from subledger.domain.errors import (
    CouponIsArchived,
    EffectiveAtOutOfOrder,
    NotYetAvailable,
    PlanIsArchived,
)
from subledger.domain.plans import Plan

MARCH = utc(2026, 3, 1)


def _archived_plan(plan_id: str = "legacy", at: Any = MARCH) -> Plan:
    plan = create_plan(plan_id=plan_id)
    plan.archive(effective_at=at, recorded_at=RECORDED_AT)
    return plan


def test_an_archived_plan_records_when_it_went_off_sale() -> None:
    plan = create_plan(plan_id="legacy")
    assert plan.archived_at is None

    plan.archive(effective_at=MARCH, recorded_at=RECORDED_AT)

    events = plan.collect_events()
    assert event_names(events) == ["PlanCreated", "PlanArchived"]
    assert events[-1].plan_id == "legacy" and events[-1].effective_at == MARCH
    assert plan.archived_at == MARCH


def test_an_archived_plan_reads_archived_when_folded_from_its_events() -> None:
    assert replay(_archived_plan().collect_events()).archived_at == MARCH


def test_an_archived_plan_offers_no_terms_from_its_archive_on() -> None:
    plan = _archived_plan()

    for instant in (MARCH, utc(2026, 4, 1)):
        with pytest.raises(PlanIsArchived) as info:
            plan.offered_at(instant)
        assert info.value.code == "plan-archived"


def test_an_archived_plan_still_offers_its_terms_before_the_archive() -> None:
    """A signup backdated to when the plan was on sale records a past fact."""
    plan = _archived_plan()

    assert plan.offered_at(utc(2026, 2, 28)).plan_id == "legacy"


def test_naming_the_plan_a_subscription_is_on_is_no_move_to_an_archived_plan() -> None:
    plan = _archived_plan()

    assert plan.change_terms("legacy", utc(2026, 4, 1)).plan_id == "legacy"
    with pytest.raises(PlanIsArchived):
        plan.change_terms("other", utc(2026, 4, 1))


def test_an_archived_plan_takes_no_new_price() -> None:
    plan = _archived_plan()

    with pytest.raises(PlanIsArchived):
        plan.add_price(amount=2000, effective_at=utc(2026, 4, 1), recorded_at=RECORDED_AT)
    assert plan.latest_version == 1


def test_a_plan_is_archived_once() -> None:
    plan = _archived_plan()

    with pytest.raises(PlanIsArchived):
        plan.archive(effective_at=utc(2026, 4, 1), recorded_at=RECORDED_AT)
    assert event_names(plan.collect_events()) == ["PlanCreated", "PlanArchived"]


def test_an_archive_cannot_precede_the_plans_last_event() -> None:
    plan = create_plan(plan_id="legacy")
    plan.add_price(amount=2000, effective_at=MARCH, recorded_at=RECORDED_AT)

    with pytest.raises(EffectiveAtOutOfOrder):
        plan.archive(effective_at=utc(2026, 2, 1), recorded_at=RECORDED_AT)
    assert plan.archived_at is None


# -- coupons -----------------------------------------------------------------------------


def _archived_coupon(at: Any = MARCH) -> Coupon:
    coupon = create_coupon(coupon_id="SPRING", effective_at=utc(2026, 1, 1))
    coupon.archive(effective_at=at, recorded_at=RECORDED_AT)
    return coupon


def test_an_archived_coupon_is_no_longer_applied_from_its_archive_on() -> None:
    coupon = _archived_coupon()

    with pytest.raises(CouponIsArchived) as info:
        coupon.offered_at(MARCH)
    assert info.value.code == "coupon-archived"
    assert coupon.offered_at(utc(2026, 2, 1)).coupon_id == "SPRING"


def test_an_archived_coupon_still_did_not_exist_before_its_creation() -> None:
    coupon = _archived_coupon()

    with pytest.raises(NotYetAvailable):
        coupon.offered_at(utc(2025, 12, 31))


def test_an_archived_coupon_reads_archived_when_folded_from_its_events() -> None:
    coupon = replay(_archived_coupon().collect_events())

    assert coupon.archived_at == MARCH
    assert coupon.created_effective_at == utc(2026, 1, 1)


def test_a_coupon_is_archived_once() -> None:
    coupon = _archived_coupon()

    with pytest.raises(CouponIsArchived):
        coupon.archive(effective_at=utc(2026, 4, 1), recorded_at=RECORDED_AT)
