"""The billing clock, manual charges and refunds."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from subledger.commands.writes import RecordCharge, RefundCharge, RunBilling
from subledger.contract.bodies import charge_body
from subledger.domain.errors import SubscriptionNotFound

from ..deps import IdempotencyKeyHeader, IdPath, LedgerDep, PrincipalDep, path_id
from ..json_bodies import api_router
from ..requests import BillingRunIn, ManualChargeIn, RefundIn
from ..schemas import BillingRunOut, ChargeOut, RefundOut
from ..writes import respond

router = api_router(tags=["billing"])


@router.post("/billing/run", response_model=BillingRunOut)
def billing_run(body: BillingRunIn, ledger: LedgerDep,
                principal: PrincipalDep, key: IdempotencyKeyHeader = None) -> Response:
    """Perform everything due up to `until`: trial conversions, renewals with their invoices
    and charges, scheduled changes and cancellations, dunning retries. Running it twice to
    the same `until` appends nothing."""
    return respond(principal, ledger, RunBilling(body.until), key)


@router.post("/subscriptions/{subscription_id}/charges", status_code=201, response_model=ChargeOut)
def manual_charge(subscription_id: IdPath, body: ManualChargeIn, ledger: LedgerDep, principal: PrincipalDep, key: IdempotencyKeyHeader = None) -> Response:
    """Record a payment taken outside the billing clock (a `manual` invoice, paid)."""
    command = RecordCharge(path_id(subscription_id, SubscriptionNotFound), **body.model_dump())
    return respond(principal, ledger, command, key)


@router.get("/charges/{charge_id}", response_model=ChargeOut)
def get_charge(charge_id: IdPath, ledger: LedgerDep, _: PrincipalDep) -> dict[str, Any]:
    return charge_body(ledger.payments.charged_subscription(charge_id), charge_id)


@router.post("/charges/{charge_id}/refunds", status_code=201, response_model=RefundOut)
def refund(charge_id: IdPath, body: RefundIn, ledger: LedgerDep,
           principal: PrincipalDep, key: IdempotencyKeyHeader = None) -> Response:
    """Refund at most what is left of a succeeded charge (partial refunds add up; more is a
    409 `refund-exceeds-charge`). The refund is recorded as requested, sent to the charge's
    gateway, and its outcome recorded: `status` is `succeeded`, `failed` (the gateway
    refused; `failure_code` says why) or `pending` (the gateway could not be reached; the
    billing clock sends it again under the same key). Refunds move cash and revenue, never
    MRR."""
    return respond(principal, ledger, RefundCharge(charge_id, **body.model_dump()), key)
