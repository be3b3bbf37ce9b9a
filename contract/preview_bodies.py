"""The answers of the previews (a change's cost, the upcoming invoice), each defined once as
a table of fields (see :mod:`.bodies`).

An invoice preview has the fields of ``InvoiceIssued`` but its id: the id is derived from
the subscription's sequence, which another command may move on before the invoice is
issued.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from subledger.domain.invoicing import LINE_KINDS
from subledger.domain.money import round_minor
from subledger.domain.previews import CommandPreview, InvoicePreview

from . import schema_types as t
from .bodies import SUBSCRIPTION, Body, Field, subscription_body
from .envelope import jsonable

PREVIEW_REASONS = ["proration", "renewal", "trial_end"]
"""Why a previewed invoice is issued: a change ``now``, or the billing clock."""


class PreviewLineOut(BaseModel):
    kind: Literal[LINE_KINDS]  # type: ignore[valid-type]
    amount: int
    period_start: str
    period_end: str
    description: str


class DiscountOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    coupon_id: str
    amount: int
    """What the coupon's discount lines take off (negative, as on the lines)."""


_LINE = {"type": "object", "required": list(PreviewLineOut.model_fields),
         "properties": {"kind": t.one_of(list(LINE_KINDS)), "amount": t.INTEGER,
                        "period_start": t.TIME, "period_end": t.TIME,
                        "description": t.STRING}}
_DISCOUNT = {"type": "object", "required": ["coupon_id", "amount"],
             "properties": {"coupon_id": t.STRING, "amount": t.INTEGER}}


def _discounts(invoice: InvoicePreview) -> list[dict[str, Any]]:
    return [{"coupon_id": d.coupon_id, "amount": d.amount} for d in invoice.discounts]


INVOICE_PREVIEW = Body("InvoicePreviewOut", (
    Field("reason", t.one_of(PREVIEW_REASONS), Literal[tuple(PREVIEW_REASONS)],  # type: ignore[misc]
          lambda r: r.reason),
    Field("issued_at", t.TIME, str, lambda r: jsonable(r.issued_at)),
    Field("currency", t.CURRENCY, str, lambda r: r.currency),
    Field("lines", {"type": "array", "items": _LINE}, list[PreviewLineOut],
          lambda r: jsonable(list(r.lines))),
    Field("discounts", {"type": "array", "items": _DISCOUNT}, list[DiscountOut], _discounts),
    Field("total", t.INTEGER, int, lambda r: r.total),
    Field("credit_applied", t.INTEGER, int, lambda r: r.credit_applied),
    Field("credit_added", t.INTEGER, int, lambda r: r.credit_added),
    Field("amount_due", t.INTEGER, int, lambda r: r.amount_due),
))
"""An invoice a change or the billing clock would issue: its lines, the coupons' discounts,
what the credit balance covers (``credit_applied``) or receives (``credit_added``), and what
is left to charge (``amount_due``)."""


def invoice_preview_body(invoice: InvoicePreview) -> dict[str, Any]:
    return INVOICE_PREVIEW.of(invoice)


def _invoice_or_none(invoice: InvoicePreview | None) -> dict[str, Any] | None:
    return None if invoice is None else invoice_preview_body(invoice)


def _mrr(value: Fraction) -> str:
    return str(round_minor(value))


_INVOICE_SCHEMA = {"type": "object", "properties": INVOICE_PREVIEW.properties()}

CHANGE_PREVIEW = Body("ChangePreviewOut", (
    Field("subscription_id", t.UUID, str, lambda r: str(r.subscription.id)),
    Field("effective_at", t.TIME, str, lambda r: jsonable(r.effective_at)),
    Field("invoice", t.nullable(_INVOICE_SCHEMA), INVOICE_PREVIEW.model() | None,
          lambda r: _invoice_or_none(r.invoice)),
    Field("subscription", {"type": "object", "properties": SUBSCRIPTION.properties()},
          SUBSCRIPTION.model(), lambda r: subscription_body(r.subscription)),
    Field("mrr_before", t.MONEY_TEXT, str, lambda r: _mrr(r.mrr_before)),
    Field("mrr_after", t.MONEY_TEXT, str, lambda r: _mrr(r.mrr_after)),
    Field("upcoming_invoice", t.nullable(_INVOICE_SCHEMA), INVOICE_PREVIEW.model() | None,
          lambda r: _invoice_or_none(r.upcoming_invoice)),
))
"""What a change would do, appending nothing: the invoice it would issue at ``effective_at``
(null when it issues none), the subscription after it, its MRR at ``effective_at`` before
and after, and the next invoice the billing clock would issue after it (null when none)."""


def change_preview_body(preview: CommandPreview) -> dict[str, Any]:
    return CHANGE_PREVIEW.of(preview)
