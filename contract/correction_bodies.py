"""The answers of the corrections (void, write-off, credit note, balance adjustment, retry),
each defined once as a table of fields (see :mod:`.bodies`).

They show the invoice as the ledger keeps it on its subscription, at once and exactly; its
number and the amounts paid and refunded are the invoices read model's (``GET
/invoices/{id}``), which follows the log.
"""

from __future__ import annotations

from typing import Any, Literal

from subledger.domain.subscription import Subscription

from . import schema_types as t
from .bodies import Body, Field
from .envelope import jsonable

INVOICE_STATUSES = ["open", "paid", "void", "uncollectible"]


def _invoice(r: Any) -> dict[str, Any]:
    sub, invoice_id = r[0], r[1]
    return dict(sub.invoices[invoice_id])


INVOICE_STATE = Body("InvoiceStateOut", (
    Field("invoice_id", t.UUID, str, lambda r: r[1]),
    Field("subscription_id", t.UUID, str, lambda r: str(r[0].id)),
    Field("subscriber_id", t.UUID, str, lambda r: str(r[0].subscriber_id)),
    Field("status", t.one_of(INVOICE_STATUSES), Literal[tuple(INVOICE_STATUSES)],  # type: ignore[misc]
          lambda r: _invoice(r)["status"]),
    Field("currency", t.CURRENCY, str, lambda r: _invoice(r)["currency"]),
    Field("total", t.INTEGER, int, lambda r: _invoice(r)["total"]),
    Field("credit_applied", t.INTEGER, int, lambda r: _invoice(r)["credit_applied"]),
    Field("amount_due", t.INTEGER, int, lambda r: _invoice(r)["amount_due"]),
    Field("credited", t.INTEGER, int, lambda r: sum(_invoice(r)["credited"])),
    Field("charge_id", t.nullable(t.STRING), str | None, lambda r: _invoice(r)["charge_id"]),
    Field("credit_balance", t.INTEGER, int, lambda r: r[0].credit_balance),
))
"""An invoice as its subscription keeps it, with the subscription's credit balance after the
correction (the record is the subscription and the invoice id)."""


def invoice_state_body(sub: Subscription, invoice_id: str) -> dict[str, Any]:
    return INVOICE_STATE.of((sub, invoice_id))


def _note(sub: Subscription, credit_note_id: str) -> dict[str, Any]:
    return sub.credit_notes[credit_note_id]  # type: ignore[no-any-return]


CREDIT_NOTE = Body("CreditNoteOut", (
    Field("credit_note_id", t.UUID, str, lambda r: r[1]),
    Field("invoice_id", t.UUID, str, lambda r: _note(*r)["invoice_id"]),
    Field("lines", {"type": "array", "items": {"type": "object", "required": ["index", "amount"]}},
          list[dict[str, Any]], lambda r: jsonable(_note(*r)["lines"])),
    Field("total", t.INTEGER, int, lambda r: _note(*r)["total"]),
    Field("currency", t.CURRENCY, str, lambda r: _note(*r)["currency"]),
    Field("settlement", t.one_of(["refund", "credit_balance", "amount_due"]), str,
          lambda r: _note(*r)["settlement"]),
    Field("refund_id", t.nullable(t.UUID), str | None, lambda r: _note(*r)["refund_id"]),
    Field("refund_status", t.nullable(t.one_of(["succeeded", "failed", "pending"])), str | None,
          lambda r: None if _note(*r)["refund_id"] is None
          else r[0].refund_status(_note(*r)["refund_id"])["status"]),
    Field("reason", t.nullable(t.STRING), str | None, lambda r: _note(*r)["reason"]),
    Field("invoice", t.OBJECT, dict[str, Any],
          lambda r: invoice_state_body(r[0], _note(*r)["invoice_id"])),
))
"""A credit note, the state of its refund if it is settled by one, and its invoice after it
(the record is the subscription and the credit note's id)."""


def credit_note_body(sub: Subscription, credit_note_id: str) -> dict[str, Any]:
    return CREDIT_NOTE.of((sub, credit_note_id))


ADJUSTMENT = Body("BalanceAdjustmentOut", (
    Field("adjustment_id", t.UUID, str, lambda r: r[1]),
    Field("subscription_id", t.UUID, str, lambda r: str(r[0].id)),
    Field("subscriber_id", t.UUID, str, lambda r: str(r[0].subscriber_id)),
    Field("amount", t.INTEGER, int, lambda r: r[2]),
    Field("currency", t.CURRENCY, str, lambda r: r[0].currency),
    Field("credit_balance", t.INTEGER, int, lambda r: r[0].credit_balance),
))
"""A balance adjustment and the balance after it (the record is the subscription, the
adjustment's id and its amount)."""

RETRY = Body("ChargeRetryOut", (
    Field("invoice_id", t.UUID, str, lambda r: r.invoice_id),
    Field("charge_id", t.UUID, str, lambda r: r.charge_id),
    Field("status", t.one_of(["succeeded", "failed", "pending"]), str, lambda r: r.status),
    Field("invoice", t.OBJECT, dict[str, Any], lambda r: invoice_state_body(r.subscription, r.invoice_id)),
))
"""A retry by hand: the attempt's charge id and outcome (``pending``: the gateway could not be
reached, the billing clock takes it when it can), and the invoice after it."""
