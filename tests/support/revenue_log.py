"""A log of public envelopes written by hand, for the revenue functions of the domain: one
subscription's invoices, charges, refunds and credit notes, in USD, at the instants given."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from subledger.domain.time import isoformat


class Log:
    def __init__(self) -> None:
        self.envelopes: list[dict[str, Any]] = []

    def add(self, kind: str, at: datetime, **data: Any) -> None:
        n = len(self.envelopes) + 1
        self.envelopes.append({
            "position": n, "event_id": f"e{n}", "type": kind, "schema_version": 1,
            "subscriber_id": "subscriber-1", "aggregate_id": "sub-a", "aggregate_version": n,
            "recorded_at": "2030-01-01T00:00:00Z", "effective_at": isoformat(at), "data": data,
        })

    def invoice(self, invoice_id: str, at: datetime, lines: list[tuple[str, int, datetime, datetime]],
                amount_due: int | None = None) -> None:
        total = sum(amount for _k, amount, _s, _e in lines)
        self.add("InvoiceIssued", at, invoice_id=invoice_id, reason="renewal", total=total,
                 currency="USD", credit_applied=0, credit_added=0,
                 amount_due=total if amount_due is None else amount_due,
                 lines=[{"kind": k, "amount": a, "period_start": isoformat(s),
                         "period_end": isoformat(e), "description": k} for k, a, s, e in lines])

    def charge(self, charge_id: str, invoice_id: str, at: datetime, amount: int) -> None:
        self.add("ChargeSucceeded", at, charge_id=charge_id, invoice_id=invoice_id, amount=amount,
                 currency="USD", gateway="sandbox", gateway_ref="r", attempt=1)

    def refund(self, refund_id: str, charge_id: str, at: datetime, amount: int) -> None:
        self.add("RefundIssued", at, refund_id=refund_id, charge_id=charge_id, amount=amount,
                 currency="USD", reason=None, gateway="sandbox", gateway_ref="r")

    def credit_note(self, credit_note_id: str, invoice_id: str, at: datetime,
                    lines: list[tuple[int, int]], *, refund_of: str | None = None) -> None:
        """A credit note of ``lines`` (index, amount) of a paid invoice: kept as credit
        balance, or with ``refund_of`` a charge id, paid back by a refund of that charge."""
        total = sum(amount for _i, amount in lines)
        refund_id = None if refund_of is None else f"{credit_note_id}-refund"
        self.add("CreditNoteIssued", at, credit_note_id=credit_note_id, invoice_id=invoice_id,
                 lines=[{"index": i, "amount": a, "description": "credit"} for i, a in lines],
                 total=total, currency="USD",
                 settlement="credit_balance" if refund_of is None else "refund",
                 refund_id=refund_id, reason=None)
        if refund_of is not None and refund_id is not None:
            self.refund(refund_id, refund_of, at, total)
