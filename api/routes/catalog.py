"""Plans (with price versions) and coupons; archiving takes either off sale."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from fastapi.responses import Response

from subledger.commands.catalog_writes import (
    AddPlanPrice,
    ArchiveCoupon,
    ArchivePlan,
    CreateCoupon,
    CreatePlan,
)
from subledger.contract.bodies import coupon_body, plan_body
from subledger.domain.text import IDENTIFIER

from ..deps import Cursor, IdempotencyKeyHeader, LedgerDep, Limit, PrincipalDep, parse_cursor
from ..json_bodies import api_router
from ..requests import CouponIn, EffectiveIn, PlanIn, PriceIn
from ..schemas import CouponList, CouponOut, PlanList, PlanOut
from ..writes import respond

router = api_router(tags=["catalog"])
CatalogId = Annotated[str, Path(json_schema_extra={"pattern": IDENTIFIER})]
Archived = Annotated[bool | None, Query(
    description="false: only what is on sale (what a pricing page shows); true: only what"
                " was archived; left out: everything")]


def _effective(body: EffectiveIn | None) -> dict[str, object]:
    return {} if body is None else body.model_dump()


@router.post("/plans", status_code=201, response_model=PlanOut)
def create_plan(body: PlanIn, ledger: LedgerDep,
                principal: PrincipalDep, key: IdempotencyKeyHeader = None) -> Response:
    """Create a plan; its `plan_id` is chosen by the client and unique (409 if taken)."""
    return respond(principal, ledger, CreatePlan(**body.model_dump()), key)


@router.get("/plans", response_model=PlanList)
def list_plans(ledger: LedgerDep, _: PrincipalDep, limit: Limit = 100,
               cursor: Cursor = None, archived: Archived = None) -> dict[str, object]:
    """The catalog's plans in creation order (`archived_at` is null while on sale)."""
    plans, next_cursor = ledger.catalog.plans(parse_cursor(cursor), limit, archived)
    return {"items": [plan_body(p) for p in plans],
            "next_cursor": None if next_cursor is None else str(next_cursor)}


@router.get("/plans/{plan_id}", response_model=PlanOut)
def get_plan(plan_id: CatalogId, ledger: LedgerDep, _: PrincipalDep) -> dict[str, object]:
    return plan_body(ledger.catalog.get_plan(plan_id))


@router.post("/plans/{plan_id}/prices", status_code=201, response_model=PlanOut)
def add_price(plan_id: CatalogId, body: PriceIn, ledger: LedgerDep,
              principal: PrincipalDep, key: IdempotencyKeyHeader = None) -> Response:
    """A new price version. Subscriptions already on the plan keep their version."""
    return respond(principal, ledger, AddPlanPrice(plan_id, **body.model_dump()), key)


@router.post("/plans/{plan_id}/archive", response_model=PlanOut)
def archive_plan(plan_id: CatalogId, ledger: LedgerDep, principal: PrincipalDep,
                 body: EffectiveIn | None = None, key: IdempotencyKeyHeader = None) -> Response:
    """Take a plan off sale: subscriptions on it keep it (renewals, changes already
    scheduled, quantity changes); new subscriptions, changes to it and new prices are 409
    `plan-archived`, and so is archiving it again."""
    return respond(principal, ledger, ArchivePlan(plan_id, **_effective(body)), key)


@router.post("/coupons", status_code=201, response_model=CouponOut)
def create_coupon(body: CouponIn, ledger: LedgerDep,
                  principal: PrincipalDep, key: IdempotencyKeyHeader = None) -> Response:
    return respond(principal, ledger, CreateCoupon(**body.model_dump()), key)


@router.get("/coupons", response_model=CouponList)
def list_coupons(ledger: LedgerDep, _: PrincipalDep, limit: Limit = 100,
                 cursor: Cursor = None, archived: Archived = None) -> dict[str, object]:
    """Coupons in creation order (`archived_at` is null while they can be applied)."""
    coupons, next_cursor = ledger.catalog.coupons(parse_cursor(cursor), limit, archived)
    return {"items": [coupon_body(c) for c in coupons],
            "next_cursor": None if next_cursor is None else str(next_cursor)}


@router.get("/coupons/{coupon_id}", response_model=CouponOut)
def get_coupon(coupon_id: CatalogId, ledger: LedgerDep, _: PrincipalDep) -> dict[str, object]:
    return coupon_body(ledger.catalog.get_coupon(coupon_id))


@router.post("/coupons/{coupon_id}/archive", response_model=CouponOut)
def archive_coupon(coupon_id: CatalogId, ledger: LedgerDep, principal: PrincipalDep,
                   body: EffectiveIn | None = None, key: IdempotencyKeyHeader = None) -> Response:
    """Stop applying a coupon: subscriptions that have it keep it for as long as its
    duration runs; applying it (at signup or later) is 409 `coupon-archived`, and so is
    archiving it again."""
    return respond(principal, ledger, ArchiveCoupon(coupon_id, **_effective(body)), key)
