"""The public bodies of invoices and credit notes, each defined once as a table of fields
(see ``bodies``): ``GET /invoices/{id}``, the items of ``GET /invoices`` and ``GET
/credit-notes/{id}``, their JSON Schemas and HTTP models come from here.

A record is what the ``invoices`` read model holds of a document (instants as datetimes,
lines as lists); amounts are integer minor units of its ``currency``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from subledger.domain.corrections import SETTLEMENTS
from subledger.domain.document_numbers import NUMBER
from subledger.domain.invoice_status import INVOICE_STATUSES
from subledger.domain.invoicing import LINE_KINDS
from subledger.domain.time import isoformat

from . import schema_types as t
from .bodies import Body, Field


class InvoiceLineOut(BaseModel):
    kind: Literal[LINE_KINDS]  # type: ignore[valid-type]
    description: str
    period_start: str
    period_end: str
    amount: int
    credited: int


class DocumentRef(BaseModel):
    credit_note_id: str
    number: str


class CreditNoteLineOut(BaseModel):
    index: int
    """The credited line's place among the invoice's lines, from 0."""
    description: str
    amount: int


def _time(value: Any) -> str | None:
    return None if value is None else isoformat(value)


def _key(name: str, convert: Any = lambda v: v) -> Any:
    return lambda record: convert(record[name])


def _money(name: str, description: str) -> Field:
    return Field(name, {**t.INTEGER, "description": description}, int, _key(name))


_NUMBER = {"type": "string", "pattern": NUMBER}
_MAYBE_TIME = t.nullable(t.TIME)
_MAYBE_TEXT = t.nullable(t.STRING)
_LINES = {"type": "array", "items": {"type": "object", "required": ["kind", "amount", "credited"]}}

INVOICE = Body("InvoiceOut", (
    Field("invoice_id", t.UUID, str, _key("invoice_id")),
    Field("number", _NUMBER, str, _key("number")),
    Field("series", t.STRING, str, _key("series")),
    Field("subscription_id", t.UUID, str, _key("subscription_id")),
    Field("subscriber_id", t.UUID, str, _key("subscriber_id")),
    Field("currency", t.CURRENCY, str, _key("currency")),
    Field("reason", t.STRING, str, _key("reason")),
    Field("status", t.one_of(list(INVOICE_STATUSES)), Literal[INVOICE_STATUSES],  # type: ignore[valid-type]
          _key("status")),
    Field("issued_at", t.TIME, str, _key("issued_at", _time)),
    Field("recorded_at", t.TIME, str, _key("recorded_at", _time)),
    Field("period_start", _MAYBE_TIME, str | None, _key("period_start", _time)),
    Field("period_end", _MAYBE_TIME, str | None, _key("period_end", _time)),
    _money("total", "the sum of the lines"),
    _money("credit_applied", "taken from the credit balance (negative: a debit added)"),
    _money("credit_added", "added to the credit balance by a net-negative invoice"),
    _money("amount_due", "what is left to pay"),
    _money("amount_paid", "succeeded charges"),
    _money("credited", "credit notes against it"),
    _money("refunded", "refunds of its charge, a credit note's refund included"),
    Field("failed_attempts", {**t.at_least(0), "description": "charge attempts that failed"},
          int, _key("failed_attempts")),
    Field("next_attempt_at", _MAYBE_TIME, str | None, _key("next_attempt_at", _time)),
    Field("charge_id", _MAYBE_TEXT, str | None, _key("charge_id")),
    Field("lines", _LINES, list[InvoiceLineOut], _key("lines")),
    Field("credit_notes", {"type": "array", "items": t.OBJECT}, list[DocumentRef],
          _key("credit_notes")),
    Field("position", t.at_least(1), int, _key("position")),
))
"""An invoice as a document: its number, what it billed and what became of it."""

CREDIT_NOTE = Body("CreditNoteOut", (
    Field("credit_note_id", t.UUID, str, _key("credit_note_id")),
    Field("number", _NUMBER, str, _key("number")),
    Field("series", t.STRING, str, _key("series")),
    Field("invoice_id", t.UUID, str, _key("invoice_id")),
    Field("invoice_number", _NUMBER, str, _key("invoice_number")),
    Field("subscription_id", t.UUID, str, _key("subscription_id")),
    Field("subscriber_id", t.UUID, str, _key("subscriber_id")),
    Field("currency", t.CURRENCY, str, _key("currency")),
    _money("total", "the sum of the credited amounts"),
    Field("settlement", t.one_of(list(SETTLEMENTS)), Literal[SETTLEMENTS],  # type: ignore[valid-type]
          _key("settlement")),
    Field("refund_id", _MAYBE_TEXT, str | None, _key("refund_id")),
    Field("reason", _MAYBE_TEXT, str | None, _key("reason")),
    Field("lines", {"type": "array", "items": t.OBJECT}, list[CreditNoteLineOut], _key("lines")),
    Field("effective_at", t.TIME, str, _key("effective_at", _time)),
    Field("recorded_at", t.TIME, str, _key("recorded_at", _time)),
    Field("position", t.at_least(1), int, _key("position")),
))
"""A credit note: the invoice it credits, line by line, and how it was settled."""


def invoice_body(record: dict[str, Any]) -> dict[str, Any]:
    return INVOICE.of(record)


def credit_note_body(record: dict[str, Any]) -> dict[str, Any]:
    return CREDIT_NOTE.of(record)
