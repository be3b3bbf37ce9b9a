"""An invoice rounded to its currency's settlement increment shows the rounding as a line of
its own and as a total between the subtotal and the total, so the document still adds up."""

from __future__ import annotations

from datetime import UTC, datetime

from subledger.api.documents import invoice_document

APR, MAY = datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)


def _line(kind: str, amount: int, description: str) -> dict[str, object]:
    return {"kind": kind, "amount": amount, "period_start": APR, "period_end": MAY,
            "description": description, "credited": 0}


def test_the_rounding_is_a_line_and_a_total_of_its_own() -> None:
    invoice = {
        "currency": "KWD", "number": "INV-2026-000001", "status": "paid", "issued_at": APR,
        "period_start": APR, "period_end": MAY, "subscription_id": "s", "credit_notes": [],
        "lines": [_line("recurring", 3285, "old v1 (month) × 1"),
                  _line("rounding", -5, "rounding: KWD is charged in steps of 10 minor units")],
        "total": 3280, "credit_applied": 0, "amount_paid": 3280, "credited": 0, "refunded": 0,
        "amount_due": 0, "credit_added": 0,
    }

    document = invoice_document(invoice, seller=("Seller",), buyer=("Buyer",))

    labels = [label for label, _ in document.totals]
    assert labels[:3] == ["Subtotal", "Rounding", "Total"]
    assert [line[0] for line in document.lines][1].startswith("rounding: KWD")
    subtotal, rounding, total = (amount for _, amount in document.totals[:3])
    assert "3.285" in subtotal and "-0.005" in rounding and "3.280" in total
