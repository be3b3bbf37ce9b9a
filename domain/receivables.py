"""Receivables: what subscribers owe on their invoices, and how long they have owed it.

An invoice is due when it is issued: the ledger charges the payment method on file at once,
so what is left to pay from then on is overdue. Its ``amount_due`` after each event about it
is :func:`amount_due_after` (the ``invoices`` read model keeps the same figure), and what is
**outstanding** is that amount while the invoice can still be paid (:func:`outstanding`):
nothing once it is void or written off (uncollectible), which is a loss to the books, not a
debt the ledger pursues.

An aging report sorts the outstanding invoices by the whole days since they were issued
(:func:`days_overdue`) into :data:`AGING_BUCKETS`, the usual finance ranges.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from .invoicing import UNCOLLECTIBLE, VOID


class AgingBucket(NamedTuple):
    name: str
    first_day: int
    last_day: int | None
    """Inclusive; None: no upper bound."""


AGING_BUCKETS = (
    AgingBucket("current", 0, 0),
    AgingBucket("1-30", 1, 30),
    AgingBucket("31-60", 31, 60),
    AgingBucket("61-90", 61, 90),
    AgingBucket("over-90", 91, None),
)
"""``current``: issued less than a day ago (a charge may still be settling); then by whole
days overdue."""
BUCKET_NAMES = tuple(bucket.name for bucket in AGING_BUCKETS)

FINAL = frozenset({VOID, UNCOLLECTIBLE})


def amount_due_after(amount_due: int, kind: str, data: dict[str, Any]) -> int:
    """What is left to pay on an invoice after one event about it: a succeeded charge pays
    it, a void cancels it, a charge the provider denied makes its amount due again, a credit
    note settled against the amount due takes its total off. Other events leave it."""
    if kind in ("ChargeSucceeded", "InvoiceVoided"):
        return 0
    if kind == "ChargeReversed":
        return int(data["amount"])
    if kind == "CreditNoteIssued" and data["settlement"] == "amount_due":
        return amount_due - int(data["total"])
    return amount_due


def outstanding(status: str, amount_due: int) -> int:
    """What a subscriber still owes on an invoice of ``status`` with ``amount_due`` left."""
    if status in FINAL or amount_due <= 0:
        return 0
    return amount_due


def days_overdue(issued_at: datetime, as_of: datetime) -> int:
    """Whole days from an invoice's issue to ``as_of`` (0 within the first day)."""
    return max((as_of - issued_at) // timedelta(days=1), 0)


def aging_bucket(days: int) -> str:
    """The name of the bucket of an invoice ``days`` overdue."""
    for bucket in AGING_BUCKETS:
        if bucket.last_day is None or days <= bucket.last_day:
            return bucket.name
    raise AssertionError("the last bucket has no upper bound")
