"""Plans (with price versions) and coupons."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from subledger.contract.bodies import coupon_body, plan_body
from subledger.domain.catalog import Coupon, Plan

from ..deps import LedgerDep, Limit, PrincipalDep, RunnerDep, parse_cursor
from ..schemas import CouponIn, CouponList, CouponOut, PlanIn, PlanList, PlanOut, PriceIn

router = APIRouter(tags=["catalog"])


@router.post("/plans", status_code=201, response_model=PlanOut)
def create_plan(body: PlanIn, request: Request, runner: RunnerDep, ledger: LedgerDep,
                principal: PrincipalDep) -> Response:
    """Create a plan; its `plan_id` is chosen by the client and unique (409 if taken)."""
    return runner.run(
        request, principal, body,
        lambda idem: ledger.create_plan(**body.model_dump(), idempotency=idem),
        plan_body, status=201,
    )


@router.get("/plans", response_model=PlanList)
def list_plans(ledger: LedgerDep, _: PrincipalDep, limit: Limit = 100,
               cursor: str | None = None) -> dict[str, object]:
    plans, next_cursor = ledger.list_created("PlanCreated", Plan, parse_cursor(cursor), limit)
    return {"items": [plan_body(p) for p in plans],
            "next_cursor": None if next_cursor is None else str(next_cursor)}


@router.get("/plans/{plan_id}", response_model=PlanOut)
def get_plan(plan_id: str, ledger: LedgerDep, _: PrincipalDep) -> dict[str, object]:
    return plan_body(ledger.get_plan(plan_id))


@router.post("/plans/{plan_id}/prices", status_code=201, response_model=PlanOut)
def add_price(plan_id: str, body: PriceIn, request: Request, runner: RunnerDep,
              ledger: LedgerDep, principal: PrincipalDep) -> Response:
    """A new price version. Subscriptions already on the plan keep their version."""
    return runner.run(
        request, principal, body,
        lambda idem: ledger.add_plan_price(plan_id, **body.model_dump(), idempotency=idem),
        plan_body, status=201,
    )


@router.post("/coupons", status_code=201, response_model=CouponOut)
def create_coupon(body: CouponIn, request: Request, runner: RunnerDep, ledger: LedgerDep,
                  principal: PrincipalDep) -> Response:
    return runner.run(
        request, principal, body,
        lambda idem: ledger.create_coupon(**body.model_dump(), idempotency=idem),
        coupon_body, status=201,
    )


@router.get("/coupons", response_model=CouponList)
def list_coupons(ledger: LedgerDep, _: PrincipalDep, limit: Limit = 100,
                 cursor: str | None = None) -> dict[str, object]:
    coupons, next_cursor = ledger.list_created("CouponCreated", Coupon, parse_cursor(cursor), limit)
    return {"items": [coupon_body(c) for c in coupons],
            "next_cursor": None if next_cursor is None else str(next_cursor)}


@router.get("/coupons/{coupon_id}", response_model=CouponOut)
def get_coupon(coupon_id: str, ledger: LedgerDep, _: PrincipalDep) -> dict[str, object]:
    return coupon_body(ledger.get_coupon(coupon_id))
