"""Plans (with price versions) and coupons."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from subledger.commands.writes import AddPlanPrice, CreateCoupon, CreatePlan
from subledger.contract.bodies import coupon_body, plan_body
from subledger.domain.text import IDENTIFIER

from ..deps import Cursor, IdempotencyKeyHeader, LedgerDep, Limit, PrincipalDep, parse_cursor
from ..requests import CouponIn, PlanIn, PriceIn
from ..schemas import CouponList, CouponOut, PlanList, PlanOut
from ..writes import respond

router = APIRouter(tags=["catalog"])
CatalogId = Annotated[str, Path(json_schema_extra={"pattern": IDENTIFIER})]


@router.post("/plans", status_code=201, response_model=PlanOut)
def create_plan(body: PlanIn, ledger: LedgerDep,
                principal: PrincipalDep, key: IdempotencyKeyHeader = None) -> Response:
    """Create a plan; its `plan_id` is chosen by the client and unique (409 if taken)."""
    return respond(principal, ledger, CreatePlan(**body.model_dump()), key)


@router.get("/plans", response_model=PlanList)
def list_plans(ledger: LedgerDep, _: PrincipalDep, limit: Limit = 100,
               cursor: Cursor = None) -> dict[str, object]:
    plans, next_cursor = ledger.catalog.plans(parse_cursor(cursor), limit)
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


@router.post("/coupons", status_code=201, response_model=CouponOut)
def create_coupon(body: CouponIn, ledger: LedgerDep,
                  principal: PrincipalDep, key: IdempotencyKeyHeader = None) -> Response:
    return respond(principal, ledger, CreateCoupon(**body.model_dump()), key)


@router.get("/coupons", response_model=CouponList)
def list_coupons(ledger: LedgerDep, _: PrincipalDep, limit: Limit = 100,
                 cursor: Cursor = None) -> dict[str, object]:
    coupons, next_cursor = ledger.catalog.coupons(parse_cursor(cursor), limit)
    return {"items": [coupon_body(c) for c in coupons],
            "next_cursor": None if next_cursor is None else str(next_cursor)}


@router.get("/coupons/{coupon_id}", response_model=CouponOut)
def get_coupon(coupon_id: CatalogId, ledger: LedgerDep, _: PrincipalDep) -> dict[str, object]:
    return coupon_body(ledger.catalog.get_coupon(coupon_id))
