"""The billing clock, payments recorded by hand and refunds."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from subledger.commands.writes import PayInvoice, RecordCharge, RefundCharge, RunBilling
from subledger.contract.bodies import charge_body
from subledger.domain.errors import InvoiceNotFound, SubscriptionNotFound

from ..deps import IdempotencyKeyHeader, IdPath, LedgerDep, PrincipalDep, path_id
from ..json_bodies import api_router
from ..requests import BillingRunIn, InvoicePaymentIn, ManualChargeIn, RefundIn
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


@router.post("/invoices/{invoice_id}/payments", status_code=201, response_model=ChargeOut)
def pay_invoice(invoice_id: IdPath, body: InvoicePaymentIn, ledger: LedgerDep,
                principal: PrincipalDep, key: IdempotencyKeyHeader = None) -> Response:
    """Record that an open invoice was paid in full outside the billing clock (a payment
    taken through a configured gateway by other means): the invoice's next attempt,
    succeeded with the gateway's reference. Its dunning ends: no retry charges it again, and
    a subscription past due on it alone is active again. An invoice that is not open is a
    409 `invoice-not-open`; a payment already recorded, a 409 `payment-already-recorded`."""
    command = PayInvoice(str(path_id(invoice_id, InvoiceNotFound)), **body.model_dump())
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
