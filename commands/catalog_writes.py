"""The catalog's writes: plans and their prices, coupons (see :mod:`.writes`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from subledger.contract.bodies import coupon_body, plan_body

from .writes import Idem, Write, fields_of

if TYPE_CHECKING:
    from .ledger import Ledger


class _PlanWrite(Write):
    def answer(self, ledger: Ledger, result: Any) -> Any:
        return plan_body(result)


@dataclass(frozen=True)
class CreatePlan(_PlanWrite):
    creates: ClassVar[bool] = True
    plan_id: str
    name: str
    tier: str
    currency: str
    amount: int
    interval: str
    trial_days: int = 0
    effective_at: datetime | None = None

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.catalog.create_plan(**fields_of(self), idempotency=idempotency)


@dataclass(frozen=True)
class AddPlanPrice(_PlanWrite):
    creates: ClassVar[bool] = True
    plan_id: str
    amount: int
    effective_at: datetime | None = None

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.catalog.add_plan_price(self.plan_id, amount=self.amount,
                                             effective_at=self.effective_at, idempotency=idempotency)


@dataclass(frozen=True)
class ArchivePlan(_PlanWrite):
    plan_id: str
    effective_at: datetime | None = None

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.catalog.archive_plan(**fields_of(self), idempotency=idempotency)


class _CouponWrite(Write):
    def answer(self, ledger: Ledger, result: Any) -> Any:
        return coupon_body(result)


@dataclass(frozen=True)
class CreateCoupon(_CouponWrite):
    creates: ClassVar[bool] = True
    coupon_id: str
    duration: str
    name: str | None = None
    percent_off: Decimal | int | str | None = None
    amount_off: int | None = None
    currency: str | None = None
    duration_in_months: int | None = None
    effective_at: datetime | None = None

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.catalog.create_coupon(**fields_of(self), idempotency=idempotency)


@dataclass(frozen=True)
class ArchiveCoupon(_CouponWrite):
    coupon_id: str
    effective_at: datetime | None = None

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.catalog.archive_coupon(**fields_of(self), idempotency=idempotency)
