"""Plans (with price versions) and coupons."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from subledger.commands.writes import AddPlanPrice, CreateCoupon, CreatePlan
from subledger.contract.bodies import coupon_body, plan_body

from ..deps import LedgerDep, Limit, PrincipalDep, parse_cursor
from ..schemas import CouponIn, CouponList, CouponOut, PlanIn, PlanList, PlanOut, PriceIn
from ..writes import respond

router = APIRouter(tags=["catalog"])


@router.post("/plans", status_code=201, response_model=PlanOut)
def create_plan(body: PlanIn, request: Request, ledger: LedgerDep,
                principal: PrincipalDep) -> Response:
    """Create a plan; its `plan_id` is chosen by the client and unique (409 if taken)."""
    return respond(request, principal, ledger, CreatePlan(**body.model_dump()))


@router.get("/plans", response_model=PlanList)
def list_plans(ledger: LedgerDep, _: PrincipalDep, limit: Limit = 100,
               cursor: str | None = None) -> dict[str, object]:
    plans, next_cursor = ledger.catalog.plans(parse_cursor(cursor), limit)
    return {"items": [plan_body(p) for p in plans],
            "next_cursor": None if next_cursor is None else str(next_cursor)}


@router.get("/plans/{plan_id}", response_model=PlanOut)
def get_plan(plan_id: str, ledger: LedgerDep, _: PrincipalDep) -> dict[str, object]:
    return plan_body(ledger.catalog.get_plan(plan_id))


@router.post("/plans/{plan_id}/prices", status_code=201, response_model=PlanOut)
def add_price(plan_id: str, body: PriceIn, request: Request, ledger: LedgerDep,
              principal: PrincipalDep) -> Response:
    """A new price version. Subscriptions already on the plan keep their version."""
    return respond(request, principal, ledger, AddPlanPrice(plan_id, **body.model_dump()))


@router.post("/coupons", status_code=201, response_model=CouponOut)
def create_coupon(body: CouponIn, request: Request, ledger: LedgerDep,
                  principal: PrincipalDep) -> Response:
    return respond(request, principal, ledger, CreateCoupon(**body.model_dump()))


@router.get("/coupons", response_model=CouponList)
def list_coupons(ledger: LedgerDep, _: PrincipalDep, limit: Limit = 100,
                 cursor: str | None = None) -> dict[str, object]:
    coupons, next_cursor = ledger.catalog.coupons(parse_cursor(cursor), limit)
    return {"items": [coupon_body(c) for c in coupons],
            "next_cursor": None if next_cursor is None else str(next_cursor)}


@router.get("/coupons/{coupon_id}", response_model=CouponOut)
def get_coupon(coupon_id: str, ledger: LedgerDep, _: PrincipalDep) -> dict[str, object]:
    return coupon_body(ledger.catalog.get_coupon(coupon_id))
