"""How a subscription invoices: the period invoice (billed up to a cancellation scheduled
inside it), the invoice of a change ``now``, how far the current period is billed, and the
coupon in force. The arithmetic of lines and totals is in :mod:`.invoicing`."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import uuid5

from .invoicing import (
    DISCOUNT,
    MANUAL,
    PRORATION_CREDIT,
    RECURRING,
    VOID,
    Discount,
    InvoiceIssued,
    Line,
    discount_description,
    proration_lines,
    recurring_lines,
    settle,
    settleable,
    total,
)
from .money import settlement_increment
from .periods import Period
from .proration import ChangeNow

if TYPE_CHECKING:
    from .subscription import Subscription


class Invoicing:
    """How a subscription invoices: its periods, its changes, and its coupon."""

    def discount_at(self: Subscription, instant: datetime, *, recurring: bool) -> Discount | None:
        """The coupon's discount on an invoice issued at ``instant``, if one is in force:
        ``once`` on the first recurring invoice after it was applied, ``repeating`` until
        its ``ends_at``, ``forever`` always."""
        coupon = self.coupon
        if coupon is None:
            return None
        duration = coupon["duration"]
        if duration == "once" and (coupon["used"] or not recurring):
            return None
        if duration == "repeating" and coupon["ends_at"] is not None and instant >= coupon["ends_at"]:
            return None
        return Discount(coupon["coupon_id"], coupon["percent_off"], coupon["amount_off"])

    def description(self: Subscription) -> str:
        """The plan version as an invoice line names it."""
        return f"{self.plan_id} v{self.plan_version} ({self.interval.value})"

    def _invoice_period(self: Subscription, reason: str, at: datetime, recorded_at: datetime) -> None:
        self._issue_invoice(reason, self._period_lines(at), at, recorded_at)

    def _period_lines(self: Subscription, at: datetime, served: Period | None = None) -> list[Line]:
        """The current period's recurring lines, billed up to a cancellation scheduled
        inside it (``served`` overrides: the part of the period to bill)."""
        return recurring_lines(
            description=self.description(), unit_amount=self.amount, quantity=self.quantity,
            period=self.current_period, discount=self._discount_left(at),
            increment=settlement_increment(self.currency),
            served=self._billable_part() if served is None else served,
        )

    def _discount_left(self: Subscription, at: datetime) -> Discount | None:
        """The coupon's discount on a part of the current period invoiced at ``at``: a
        period billed in parts (up to a cancellation inside it, then the rest) is discounted
        once, so an ``amount_off`` is what the period's earlier parts left of it (a percent
        comes off each part as off the whole)."""
        discount = self.discount_at(at, recurring=True)
        if discount is None or discount.amount_off is None:
            return discount
        named = discount_description(discount.coupon_id)
        taken = -sum(line["amount"] for line in self._period_lines_billed() if
                     line["kind"] == DISCOUNT and line["description"] == named)
        return replace(discount, amount_off=max(discount.amount_off - taken, 0))

    def _period_lines_billed(self: Subscription) -> list[dict[str, Any]]:
        """The lines of the invoices that bill a part of the current period."""
        return [line for lines in self._period_invoices() for line in lines]

    def _period_invoices(self: Subscription) -> list[list[dict[str, Any]]]:
        """The lines of each invoice still standing (not voided) that bills a part of the
        current period (one with a recurring line inside it), in the order they were issued."""
        period = self.current_period
        return [invoice["lines"] for invoice in self.invoices.values()
                if invoice["status"] != VOID and any(
                    line["kind"] == RECURRING and period.start <= line["period_start"]
                    and line["period_end"] <= period.end for line in invoice["lines"])]

    def _billable_part(self: Subscription) -> Period:
        """The part of the current period an invoice issued now bills: up to a cancellation
        scheduled inside it (Stripe bills up to ``cancel_at``), else all of it."""
        period, end = self.current_period, self.cancel_at
        if end is not None and period.start < end < period.end:
            return Period(period.start, end)
        return period

    def billed_until(self: Subscription) -> datetime:
        """How far the current period is billed: the end of the latest recurring line inside
        it (a period invoiced while a cancellation was scheduled inside it is billed only up
        to it) on an invoice still standing. A voided invoice bills nothing: when every line
        of the period was voided, it is billed up to its start. The period's end when no
        line bills it (a trial)."""
        period, ends, voided = self.current_period, [], False
        for invoice in self.invoices.values():
            for line in invoice["lines"]:
                if line["kind"] == RECURRING and period.start <= line["period_start"] \
                        and line["period_end"] <= period.end:
                    voided |= invoice["status"] == VOID
                    if invoice["status"] != VOID:
                        ends.append(line["period_end"])
        return max(ends, default=period.start if voided else period.end)

    def _issue_invoice(self: Subscription, reason: str, lines: list[Line], at: datetime,
                       recorded_at: datetime) -> str:
        # Deterministic: two processes deciding the same invoice give it the same id, so
        # the gateway's idempotency key (derived from it) dedupes their charges.
        invoice_id = str(uuid5(self.id, f"invoice:{self.version + 1}"))
        increment = settlement_increment(self.currency)
        lines = settleable(lines, self.currency, increment)
        invoice_total = total(lines)
        settlement = settle(invoice_total, 0 if reason == MANUAL else self.credit_balance,
                            increment)
        self._record(
            InvoiceIssued, at, recorded_at,
            invoice_id=invoice_id, reason=reason, total=invoice_total, currency=self.currency,
            lines=[line.as_dict() for line in lines],
            credit_applied=settlement.credit_applied, credit_added=settlement.credit_added,
            amount_due=settlement.amount_due,
        )
        return invoice_id

    def _invoice_change(self: Subscription, change: ChangeNow, old_description: str,
                        at: datetime, recorded_at: datetime) -> None:
        """The invoice of a change ``now``: proration lines, or, when the interval changed
        and the calendar was re-anchored, the old price's credit and the new period whole."""
        if change.reanchored_from is not None:
            lines: list[Line] = []
            if change.proration.credit:
                lines.append(Line(PRORATION_CREDIT, change.proration.credit, at,
                                  change.reanchored_from.end, f"unused time on {old_description}"))
            lines += self._period_lines(at)
        else:
            lines = proration_lines(
                proration=change.proration, old_description=old_description,
                new_description=self.description(), at=at, period_end=self.billed_until(),
            )
        if lines:
            self._issue_invoice("proration", lines, at, recorded_at)
