"""Invoicing: invoice lines and totals, discounts, and how a subscription issues invoices.

An invoice is a list of lines, each naming its service period; its total is the sum of its
lines. Discounts never take a recurring line below zero. A net-negative invoice (a downgrade
credit larger than the charge) becomes the subscriber's credit balance, applied to the next
invoices. The arithmetic is pure; :mod:`.subscription_invoicing` is the aggregate's side: the
period invoice, the invoice of a change ``now``, and the coupon in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .money import round_to_increment
from .periods import Period
from .proration import Proration, share_of
from .subscription_events import SubscriptionEvent

RECURRING = "recurring"
DISCOUNT = "discount"
PRORATION_CREDIT = "proration_credit"
PRORATION_CHARGE = "proration_charge"
MANUAL = "manual"
ROUNDING = "rounding"
"""The line that brings an invoice's total to a multiple of its currency's settlement
increment, when an amount recorded before that rule (a plan price, a coupon's amount) left
it finer than the currency can be charged in."""
CREDITABLE = frozenset({RECURRING, PRORATION_CHARGE, MANUAL})
"""Lines a credit note can credit (the ones that charge; a discount, a credit or a rounding
is not)."""
LINE_KINDS = (RECURRING, DISCOUNT, PRORATION_CREDIT, PRORATION_CHARGE, MANUAL, ROUNDING)
PAUSE = "pause"
"""The reason of the invoice of a pause: the credit for the unused part of the period."""
CANCELLATION_CHANGED = "cancellation_changed"
"""The reason of the invoice of a cancellation that had cut its period's invoice short and
was revoked or moved later: the rest of the period, up to the new end."""


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


def discount_amount(discount: Discount, base: int, increment: int = 1) -> int:
    """How much ``discount`` takes off ``base`` (>= 0): never more than ``base``. A percent
    is rounded to a multiple of ``increment`` (the currency's settlement increment)."""
    if base <= 0:
        return 0
    if discount.percent_off is not None:
        off = round_to_increment(Fraction(base) * Fraction(discount.percent_off) / 100, increment)
    else:
        off = discount.amount_off or 0
    return min(off, base)


def discounted(amount: int, discount: Discount | None, increment: int = 1) -> int:
    """``amount`` after ``discount`` (if any)."""
    return amount if discount is None else amount - discount_amount(discount, amount, increment)


def discount_description(coupon_id: str) -> str:
    """How a discount line names the coupon it takes off."""
    return f"coupon {coupon_id}"


def recurring_description(description: str, quantity: int) -> str:
    """How a recurring line names the terms it bills (what tells one period's terms apart)."""
    return f"{description} × {quantity}"


def recurring_lines(
    *, description: str, unit_amount: int, quantity: int, period: Period,
    discount: Discount | None, served: Period | None = None, increment: int = 1,
) -> list[Line]:
    """The lines of a period's invoice: the price times the quantity, and any discount, each
    rounded to a multiple of ``increment`` (the currency's settlement increment).

    ``served``: the part of ``period`` billed when it is not all of it (up to a cancellation
    scheduled inside it, or the rest after that cancellation is revoked): the price by its
    share of the period's seconds, rounded half-even, the discount taken off that."""
    base = unit_amount * quantity
    part = period if served is None else served
    if part != period:
        base = round_to_increment(base * share_of(period, part), increment)
    lines = [Line(RECURRING, base, part.start, part.end, recurring_description(description, quantity))]
    if discount is not None:
        off = discount_amount(discount, base, increment)
        if off:
            lines.append(Line(DISCOUNT, -off, part.start, part.end,
                              discount_description(discount.coupon_id)))
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


def settleable(lines: list[Line], currency: str, increment: int) -> list[Line]:
    """``lines``, and a :data:`ROUNDING` line when their total is not a multiple of
    ``increment`` (the currency's settlement increment): the total rounded half-even to it,
    less the total, over the lines' service. Only an amount recorded before amounts had to be
    multiples of it (a plan price, a coupon's amount) can leave such a total."""
    exact = total(lines)
    off = round_to_increment(exact, increment) - exact
    if not off:
        return lines
    return [*lines, Line(ROUNDING, off, min(line.period_start for line in lines),
                         max(line.period_end for line in lines),
                         f"rounding: {currency} is charged in steps of {increment} minor units")]


@dataclass(frozen=True)
class Settlement:
    """How an invoice's total meets the subscriber's credit balance."""

    credit_applied: int
    """Taken from the credit balance to pay this invoice; negative when the balance is a
    debit (a manual one), which is added to what is due."""
    amount_due: int
    """Left to charge (>= 0)."""
    credit_added: int
    """Added to the credit balance by a net-negative invoice (>= 0)."""


def settle(invoice_total: int, credit_balance: int, increment: int = 1) -> Settlement:
    """How ``invoice_total`` meets ``credit_balance``. What is applied is a multiple of
    ``increment`` (toward 0), so what is due is one when the total is: a balance finer than
    the currency is charged in (left by amounts recorded before that rule) keeps the rest."""
    if invoice_total < 0:
        return Settlement(credit_applied=0, amount_due=0, credit_added=-invoice_total)
    applied = min(credit_balance, invoice_total)
    applied = (abs(applied) // increment * increment) * (1 if applied >= 0 else -1)
    return Settlement(credit_applied=applied, amount_due=invoice_total - applied, credit_added=0)


OPEN = "open"
PAID = "paid"
VOID = "void"
UNCOLLECTIBLE = "uncollectible"
"""An invoice's status as the subscription keeps it (``past_due`` is an open invoice with a
failed charge: the read model of invoices names it)."""


class InvoiceIssued(SubscriptionEvent):
    """The subscription was invoiced: the lines, their total, and how much the credit balance
    covered (``credit_applied``) or received (``credit_added``). A positive ``amount_due``
    is charged at once."""

    invoice_id: str
    reason: str
    total: int
    currency: str
    lines: list[dict[str, Any]]
    credit_applied: int
    credit_added: int
    amount_due: int

    def evolve(self, aggregate: Any) -> None:
        aggregate.credit_balance += self.credit_added - self.credit_applied
        aggregate.invoices[self.invoice_id] = {
            "total": self.total,
            "currency": self.currency,
            "lines": self.lines,
            "credit_applied": self.credit_applied,
            "amount_due": self.amount_due,
            "status": PAID if self.amount_due == 0 else OPEN,
            "charge_id": None,
            "credited": [0] * len(self.lines),
        }
        if self.amount_due > 0 and self.reason != MANUAL:
            aggregate.open_invoices[self.invoice_id] = {
                "amount_due": self.amount_due,
                "currency": self.currency,
                "issued_at": self.effective_at,
                "attempts": 0,
                "first_failure_at": None,
                "next_attempt_at": self.effective_at,
            }
        coupon = aggregate.coupon
        if coupon is not None and coupon["duration"] == "once" and any(
            line["kind"] == RECURRING for line in self.lines
        ):
            coupon["used"] = True
