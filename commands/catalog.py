"""The catalog: plans with their price versions, and coupons; archiving either takes it off
sale."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from subledger.domain.coupons import Coupon, coupon_aggregate_id
from subledger.domain.errors import (
    CouponAlreadyExists,
    CouponNotFound,
    PlanAlreadyExists,
    PlanNotFound,
    UnknownReference,
)
from subledger.domain.plans import Plan, plan_aggregate_id

from .idempotency import IdempotentRequest
from .store import LedgerStore


class Catalog:
    def __init__(self, store: LedgerStore) -> None:
        self.store = store

    def create_plan(
        self, *, plan_id: str, name: str, tier: str, currency: str, amount: int, interval: str,
        trial_days: int = 0, effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Plan:
        effective, now = self.store.times(effective_at)
        plan = Plan.create(
            plan_id=plan_id, name=name, tier=tier, currency=currency, amount=amount,
            interval=interval, trial_days=trial_days, effective_at=effective, recorded_at=now,
        )
        exists = PlanAlreadyExists(f"plan {plan_id} already exists")
        if self.store.exists(plan.id):
            raise exists
        return self.store.commit(plan, result=plan, idempotency=idempotency, on_conflict=exists)

    def add_plan_price(
        self, plan_id: str, *, amount: int, effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Plan:
        plan = self.get_plan(plan_id)
        effective, now = self.store.times(effective_at)
        plan.add_price(amount=amount, effective_at=effective, recorded_at=now)
        return self.store.commit(plan, result=plan, idempotency=idempotency)

    def archive_plan(
        self, plan_id: str, *, effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Plan:
        """Take a plan off sale: subscriptions on it keep it; none starts on or moves to it."""
        plan = self.get_plan(plan_id)
        effective, now = self.store.times(effective_at)
        plan.archive(effective_at=effective, recorded_at=now)
        return self.store.commit(plan, result=plan, idempotency=idempotency)

    def get_plan(self, plan_id: str) -> Plan:
        return self.store.load(plan_aggregate_id(plan_id), Plan, PlanNotFound(f"no plan {plan_id!r}"))

    def create_coupon(
        self, *, coupon_id: str, percent_off: Decimal | int | str | None = None,
        amount_off: int | None = None, currency: str | None = None, duration: str,
        duration_in_months: int | None = None, name: str | None = None,
        effective_at: datetime | None = None, idempotency: IdempotentRequest | None = None,
    ) -> Coupon:
        effective, now = self.store.times(effective_at)
        coupon = Coupon.create(
            coupon_id=coupon_id, percent_off=percent_off, amount_off=amount_off,
            currency=currency, duration=duration, duration_in_months=duration_in_months,
            name=name, effective_at=effective, recorded_at=now,
        )
        exists = CouponAlreadyExists(f"coupon {coupon_id} already exists")
        if self.store.exists(coupon.id):
            raise exists
        return self.store.commit(coupon, result=coupon, idempotency=idempotency, on_conflict=exists)

    def archive_coupon(
        self, coupon_id: str, *, effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Coupon:
        """Stop applying a coupon: subscriptions that have it keep it."""
        coupon = self.get_coupon(coupon_id)
        effective, now = self.store.times(effective_at)
        coupon.archive(effective_at=effective, recorded_at=now)
        return self.store.commit(coupon, result=coupon, idempotency=idempotency)

    def get_coupon(self, coupon_id: str) -> Coupon:
        return self.store.load(coupon_aggregate_id(coupon_id), Coupon,
                               CouponNotFound(f"no coupon {coupon_id!r}"))

    def plans(self, after: int, limit: int,
              archived: bool | None = None) -> tuple[list[Plan], int | None]:
        """Plans in creation order; only the archived ones or only the live ones when
        ``archived`` says so."""
        return self.store.list_created("PlanCreated", Plan, after, limit, _archived(archived))

    def coupons(self, after: int, limit: int,
                archived: bool | None = None) -> tuple[list[Coupon], int | None]:
        """Coupons in creation order, filtered like :meth:`plans`."""
        return self.store.list_created("CouponCreated", Coupon, after, limit, _archived(archived))

    def plans_on_sale(self) -> list[Plan]:
        """Every plan not archived, in creation order (what a pricing page shows)."""
        return _every(lambda after: self.plans(after, 1000, archived=False))

    def coupons_on_sale(self) -> list[Coupon]:
        """Every coupon not archived, in creation order."""
        return _every(lambda after: self.coupons(after, 1000, archived=False))

    def plan_reference(self, plan_id: str) -> Plan:
        """The plan a command's body names (an unknown one is bad input, not a 404)."""
        try:
            return self.get_plan(plan_id)
        except PlanNotFound:
            raise UnknownReference(f"plan_id {plan_id!r} names no plan") from None

    def coupon_reference(self, coupon_id: str) -> Coupon:
        """The coupon a command's body names (an unknown one is bad input, not a 404)."""
        try:
            return self.get_coupon(coupon_id)
        except CouponNotFound:
            raise UnknownReference(f"coupon {coupon_id!r} names no coupon") from None


def _every(page: Callable[[int], tuple[list[Any], int | None]]) -> list[Any]:
    items: list[Any] = []
    after: int | None = 0
    while after is not None:
        found, after = page(after)
        items += found
    return items


def _archived(archived: bool | None) -> Callable[[Any], bool] | None:
    """Keeps the archived records (True), the live ones (False), or every one (None)."""
    if archived is None:
        return None
    return lambda record: (record.archived_at is not None) == archived
