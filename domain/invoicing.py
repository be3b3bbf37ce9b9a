"""Invoice lines and totals: pure arithmetic on integer minor units.

An invoice is a list of lines, each naming its service period; its total is the sum of its
lines. Discounts never take a recurring line below zero. A net-negative invoice (a downgrade
credit larger than the charge) becomes the subscriber's credit balance, applied to the next
invoices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .money import round_half_even
from .periods import Period
from .proration import Proration

RECURRING = "recurring"
DISCOUNT = "discount"
PRORATION_CREDIT = "proration_credit"
PRORATION_CHARGE = "proration_charge"
MANUAL = "manual"
LINE_KINDS = (RECURRING, DISCOUNT, PRORATION_CREDIT, PRORATION_CHARGE, MANUAL)


@dataclass(frozen=True)
class Line:
    kind: str
    amount: int
    period_start: datetime
    period_end: datetime
    description: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "amount": self.amount,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "description": self.description,
        }


@dataclass(frozen=True)
class Discount:
    """A coupon's discount as it applies to one invoice."""

    coupon_id: str
    percent_off: Decimal | None
    amount_off: int | None


def discount_amount(discount: Discount, base: int) -> int:
    """How much ``discount`` takes off ``base`` (>= 0): never more than ``base``."""
    if base <= 0:
        return 0
    if discount.percent_off is not None:
        off = round_half_even(Fraction(base) * Fraction(discount.percent_off) / 100)
    else:
        off = discount.amount_off or 0
    return min(off, base)


def recurring_lines(
    *, description: str, unit_amount: int, quantity: int, period: Period,
    discount: Discount | None,
) -> list[Line]:
    """The lines of a period's invoice: the price times the quantity, and any discount."""
    base = unit_amount * quantity
    lines = [Line(RECURRING, base, period.start, period.end, f"{description} × {quantity}")]
    if discount is not None:
        off = discount_amount(discount, base)
        if off:
            lines.append(Line(DISCOUNT, -off, period.start, period.end, f"coupon {discount.coupon_id}"))
    return lines


def proration_lines(
    *, proration: Proration, old_description: str, new_description: str, at: datetime,
    period_end: datetime,
) -> list[Line]:
    """The lines of a change ``now``: credit for the unused old price, charge for the rest
    of the period at the new one (both as billed, i.e. after the coupon in force)."""
    lines: list[Line] = []
    if proration.credit:
        lines.append(Line(PRORATION_CREDIT, proration.credit, at, period_end,
                          f"unused time on {old_description}"))
    if proration.charge:
        lines.append(Line(PRORATION_CHARGE, proration.charge, at, period_end,
                          f"remaining time on {new_description}"))
    return lines


def total(lines: list[Line]) -> int:
    return sum(line.amount for line in lines)


@dataclass(frozen=True)
class Settlement:
    """How an invoice's total meets the subscriber's credit balance."""

    credit_applied: int
    """Taken from the credit balance to pay this invoice (>= 0)."""
    amount_due: int
    """Left to charge (>= 0)."""
    credit_added: int
    """Added to the credit balance by a net-negative invoice (>= 0)."""


def settle(invoice_total: int, credit_balance: int) -> Settlement:
    if invoice_total < 0:
        return Settlement(credit_applied=0, amount_due=0, credit_added=-invoice_total)
    applied = min(credit_balance, invoice_total)
    return Settlement(credit_applied=applied, amount_due=invoice_total - applied, credit_added=0)
