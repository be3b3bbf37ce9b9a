"""The billing clock, manual charges and refunds."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from subledger.commands.billing import run_billing
from subledger.contract.bodies import charge_body
from subledger.domain.errors import ChargeNotFound, SubscriptionNotFound

from ..deps import LedgerDep, PrincipalDep, RunnerDep, path_id
from ..schemas import BillingRunIn, BillingRunOut, ChargeOut, ManualChargeIn, RefundIn, RefundOut

router = APIRouter(tags=["billing"])


@router.post("/billing/run", response_model=BillingRunOut)
def billing_run(body: BillingRunIn, request: Request, runner: RunnerDep, ledger: LedgerDep,
                principal: PrincipalDep) -> Response:
    """Perform everything due up to `until`: trial conversions, renewals with their invoices
    and charges, scheduled changes and cancellations, dunning retries. Running it twice to
    the same `until` appends nothing."""
    return runner.run(
        request, principal, body,
        lambda idem: ledger.remember(idem, run_billing(ledger, body.until)),
        lambda summary: summary.as_dict(),
    )


@router.post("/subscriptions/{subscription_id}/charges", status_code=201, response_model=ChargeOut)
def manual_charge(subscription_id: str, body: ManualChargeIn, request: Request,
                  runner: RunnerDep, ledger: LedgerDep, principal: PrincipalDep) -> Response:
    """Record a payment taken outside the billing clock (a `manual` invoice, paid)."""
    sid = path_id(subscription_id, SubscriptionNotFound)
    return runner.run(
        request, principal, body,
        lambda idem: ledger.record_charge(sid, **body.model_dump(), idempotency=idem),
        lambda result: charge_body(result[0], result[1]), status=201,
    )


@router.get("/charges/{charge_id}", response_model=ChargeOut)
def get_charge(charge_id: str, ledger: LedgerDep, _: PrincipalDep) -> dict[str, Any]:
    subscription_id = ledger.store_recorder.select_charge_subscription(charge_id)
    if subscription_id is None:
        raise ChargeNotFound(f"no succeeded charge {charge_id!r}")
    return charge_body(ledger.get_subscription(subscription_id), charge_id)


@router.post("/charges/{charge_id}/refunds", status_code=201, response_model=RefundOut)
def refund(charge_id: str, body: RefundIn, request: Request, runner: RunnerDep,
           ledger: LedgerDep, principal: PrincipalDep) -> Response:
    """Refund at most what is left of a succeeded charge (partial refunds add up; more is a
    409 `refund-exceeds-charge`). The refund is recorded as requested, sent to the charge's
    gateway, and its outcome recorded: `status` is `succeeded`, `failed` (the gateway
    refused; `failure_code` says why) or `pending` (the gateway could not be reached; the
    billing clock sends it again under the same key). Refunds move cash and revenue, never
    MRR."""
    return runner.run(
        request, principal, body,
        lambda idem: ledger.refund_charge(charge_id, **body.model_dump(), idempotency=idem),
        lambda result: {"refund_id": result[1], **_refund_fields(result[0], result[1]),
                        "charge": charge_body(result[0], charge_id)},
        status=201,
    )


def _refund_fields(subscription: object, refund_id: str) -> dict[str, Any]:
    status = subscription.refund_status(refund_id)  # type: ignore[attr-defined]
    return {"status": status["status"], "amount": status["amount"],
            "failure_code": status["failure_code"], "gateway_ref": status["gateway_ref"]}
