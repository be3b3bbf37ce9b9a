"""Corrections of what was invoiced: void, write-off, credit notes, manual balance
adjustments and a retry by hand. Each appends a new event; nothing is edited."""

from __future__ import annotations

from uuid import UUID

from fastapi.responses import Response

from subledger.commands.correction_writes import (
    AdjustBalance,
    IssueCreditNote,
    RetryCharge,
    VoidInvoice,
    WriteOffInvoice,
)
from subledger.contract.correction_bodies import ADJUSTMENT, CREDIT_NOTE, INVOICE_STATE, RETRY
from subledger.domain.errors import ChargeNotFound, InvoiceNotFound, SubscriberNotFound

from ..deps import IdempotencyKeyHeader, IdPath, LedgerDep, PrincipalDep, path_id
from ..json_bodies import api_router
from ..requests import BalanceIn, CorrectionIn, CreditNoteIn, EffectiveIn
from ..writes import respond

router = api_router(tags=["corrections"])
InvoiceStateOut = INVOICE_STATE.model()
CreditNoteOut = CREDIT_NOTE.model()
BalanceAdjustmentOut = ADJUSTMENT.model()
ChargeRetryOut = RETRY.model()


@router.post("/invoices/{invoice_id}/void", response_model=InvoiceStateOut)
def void_invoice(invoice_id: IdPath, body: CorrectionIn, ledger: LedgerDep,
                 principal: PrincipalDep, key: IdempotencyKeyHeader = None) -> Response:
    """Void an open invoice: it is never charged again and keeps its number; the credit it
    took from the balance goes back to it; billed falls by what it still billed. A paid,
    void or written-off invoice is a 409 `invoice-not-open`."""
    invoice = str(path_id(invoice_id, InvoiceNotFound))
    return respond(principal, ledger, VoidInvoice(invoice, **body.model_dump()), key)


@router.post("/invoices/{invoice_id}/uncollectible", response_model=InvoiceStateOut)
def write_off(invoice_id: IdPath, body: CorrectionIn, ledger: LedgerDep,
              principal: PrincipalDep, key: IdempotencyKeyHeader = None) -> Response:
    """Write an unpaid invoice off (mark it uncollectible): no more attempts at it; what it
    billed stays billed and is never collected. A subscription past due on it alone is active
    again."""
    invoice = str(path_id(invoice_id, InvoiceNotFound))
    return respond(principal, ledger, WriteOffInvoice(invoice, **body.model_dump()), key)


@router.post("/invoices/{invoice_id}/credit-notes", status_code=201, response_model=CreditNoteOut)
def credit_note(invoice_id: IdPath, body: CreditNoteIn, ledger: LedgerDep,
                principal: PrincipalDep, key: IdempotencyKeyHeader = None) -> Response:
    """Credit an invoice in full or by line. A paid invoice's credit goes back as a `refund`
    to its charge (sent to the charge's gateway; `refund_status` says what it answered) or to
    the subscription's `credit_balance`; an unpaid invoice's comes off its `amount_due`.
    Billed falls by the note's total, and the credited part of each line leaves that line's
    recognized revenue from the note on. More than is left of a line, or a settlement the
    invoice's status does not allow, is a 409 `invoice-not-creditable`."""
    invoice = str(path_id(invoice_id, InvoiceNotFound))
    lines = None if body.lines is None else tuple((line.index, line.amount) for line in body.lines)
    command = IssueCreditNote(invoice, body.settlement, lines, body.reason, body.effective_at)
    return respond(principal, ledger, command, key)


@router.post("/subscribers/{subscriber_id}/balance", status_code=201,
             response_model=BalanceAdjustmentOut)
def adjust_balance(subscriber_id: IdPath, body: BalanceIn, ledger: LedgerDep,
                   principal: PrincipalDep, key: IdempotencyKeyHeader = None) -> Response:
    """Credit (a positive `amount`) or debit (negative) a subscriber's balance by hand, with
    a reason. The balance is kept per subscription: the subscriber's only running one unless
    `subscription_id` names another (none or several running: 409 `subscription-required`).
    The next invoices take a credit off what is due and add a debit to it; billed and
    recognized revenue move by it at once."""
    subscriber = path_id(subscriber_id, SubscriberNotFound)
    fields = body.model_dump()
    named = fields.pop("subscription_id")
    command = AdjustBalance(subscriber, subscription_id=None if named is None else UUID(named),
                            **fields)
    return respond(principal, ledger, command, key)


@router.post("/charges/{charge_id}/retry", response_model=ChargeRetryOut)
def retry_charge(charge_id: IdPath, body: EffectiveIn, ledger: LedgerDep,
                 principal: PrincipalDep, key: IdempotencyKeyHeader = None) -> Response:
    """Take another attempt, now, at the unpaid invoice a failed charge was for. If it fails
    the dunning schedule goes on as it was; if it succeeds the invoice is paid (and a
    subscription past due on it alone is active again). `status` is `pending` when the
    gateway could not be reached: the billing clock takes the attempt when it can. A charge
    that is not a failed attempt at an unpaid invoice is a 404 or a 409 `invoice-not-open`."""
    charge = str(path_id(charge_id, ChargeNotFound))
    return respond(principal, ledger, RetryCharge(charge, body.effective_at), key)
