"""Corrections: a mistake is fixed by a new event, never by an edit.

- **Void** an open invoice: it is never charged again, keeps its number, and the credit it
  took from the balance goes back to it; billed falls by its total.
- **Write off** an unpaid invoice (mark it uncollectible): no more attempts; it stays billed
  and is never collected.
- **Credit note** against an issued invoice, by line: settled as a refund to its charge, as
  credit balance, or (an unpaid invoice) off what is due; billed falls by its total, and the
  credited part of each line leaves that line's recognition from the note on.
- **Adjust the balance** by hand, a credit (positive) or a debit (negative), with a reason;
  billed and recognized move by it at once.

Each is reported in the bucket of its own ``effective_at`` and never moves MRR. A write-off
or void that ends the last dunning of a past-due subscription makes it active again.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from .charges import SubscriptionRecovered, in_dunning
from .errors import InvalidInput, InvoiceNotCreditable, InvoiceNotFound, InvoiceNotOpen
from .invoicing import CREDITABLE, OPEN, PAID, UNCOLLECTIBLE, VOID
from .lifecycle import PAST_DUE, check_comment
from .money import check_amount, check_settleable
from .subscription_events import SubscriptionEvent
from .text import check_reason

if TYPE_CHECKING:
    from .subscription import Subscription

REFUND = "refund"
CREDIT_BALANCE = "credit_balance"
AMOUNT_DUE = "amount_due"
SETTLEMENTS = (REFUND, CREDIT_BALANCE, AMOUNT_DUE)


class InvoiceVoided(SubscriptionEvent):
    """An open invoice cancelled before it was paid: never charged again, its number kept,
    the credit it had taken from the balance given back. ``total`` is what it still billed:
    its total less what credit notes had credited of it."""

    invoice_id: str
    total: int
    currency: str
    credit_restored: int
    reason: str | None

    def evolve(self, aggregate: Any) -> None:
        aggregate.open_invoices.pop(self.invoice_id, None)
        aggregate.invoices[self.invoice_id].update(status=VOID, amount_due=0)
        aggregate.credit_balance += self.credit_restored


class InvoiceMarkedUncollectible(SubscriptionEvent):
    """An unpaid invoice written off: no more attempts at it; what it billed stays billed and
    ``amount_due`` is never collected."""

    invoice_id: str
    amount_due: int
    currency: str
    reason: str | None

    def evolve(self, aggregate: Any) -> None:
        aggregate.open_invoices.pop(self.invoice_id, None)
        aggregate.invoices[self.invoice_id]["status"] = UNCOLLECTIBLE


class CreditNoteIssued(SubscriptionEvent):
    """A credit against an issued invoice, line by line (``lines``: ``index`` of the
    invoice's line, ``amount`` credited, ``description``), settled as a ``refund`` to the
    invoice's charge (the refund ``refund_id`` follows), as ``credit_balance``, or off the
    ``amount_due`` of an unpaid invoice."""

    credit_note_id: str
    invoice_id: str
    lines: list[dict[str, Any]]
    total: int
    currency: str
    settlement: str
    refund_id: str | None
    reason: str | None

    def evolve(self, aggregate: Any) -> None:
        invoice = aggregate.invoices[self.invoice_id]
        aggregate.credit_notes[self.credit_note_id] = {
            "invoice_id": self.invoice_id, "lines": self.lines, "total": self.total,
            "currency": self.currency, "settlement": self.settlement,
            "refund_id": self.refund_id, "reason": self.reason,
        }
        for line in self.lines:
            invoice["credited"][line["index"]] += line["amount"]
        if self.settlement == CREDIT_BALANCE:
            aggregate.credit_balance += self.total
        elif self.settlement == AMOUNT_DUE:
            invoice["amount_due"] -= self.total
            unpaid = aggregate.open_invoices.get(self.invoice_id)
            if invoice["amount_due"] == 0:
                invoice["status"] = PAID
                aggregate.open_invoices.pop(self.invoice_id, None)
            elif unpaid is not None:
                unpaid["amount_due"] = invoice["amount_due"]


class BalanceAdjusted(SubscriptionEvent):
    """A credit (a positive ``amount``) or a debit (negative) to the subscription's balance,
    made by hand with its reason: the next invoices take a credit off what is due, and add a
    debit to it."""

    adjustment_id: str
    amount: int
    currency: str
    reason: str

    def evolve(self, aggregate: Any) -> None:
        aggregate.credit_balance += self.amount


def credit_lines(invoice: dict[str, Any], wanted: list[tuple[int, int]] | None,
                 unreturned: int) -> list[dict[str, Any]]:
    """The lines a credit note credits: ``wanted`` as (line index, amount), each at most what
    is left of a line that charges; or, with None, everything left of the invoice, line by
    line in order. Either way at most the invoice's total less what was credited (its
    discounts stay), and at most ``unreturned``: what the subscriber does not have back of it
    yet."""
    lines, credited = invoice["lines"], invoice["credited"]
    left = [0 if line["kind"] not in CREDITABLE else int(line["amount"]) - done
            for line, done in zip(lines, credited, strict=True)]
    budget = min(int(invoice["total"]) - sum(credited), unreturned)
    if wanted is None:
        wanted, room_left = [], budget
        for index, room in enumerate(left):
            take = min(room, room_left)
            if take > 0:
                wanted.append((index, take))
                room_left -= take
    chosen: list[dict[str, Any]] = []
    for index, amount in wanted:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(lines):
            raise InvalidInput(f"invoice {invoice['id']} has no line {index}")
        if check_amount(amount) == 0:
            raise InvalidInput("a credited amount is more than 0")
        check_settleable(amount, invoice["currency"])
        if amount > left[index]:
            raise InvoiceNotCreditable(
                f"line {index} of invoice {invoice['id']} has {left[index]} left to credit, not {amount}")
        chosen.append({"index": index, "amount": amount,
                       "description": f"credit: {lines[index]['description']}"})
    if not chosen:
        raise InvoiceNotCreditable(
            f"invoice {invoice['id']} has nothing left to credit (its total less its discounts,"
            " earlier credit notes and refunds)")
    total = sum(line["amount"] for line in chosen)
    if total > budget:
        raise InvoiceNotCreditable(
            f"invoice {invoice['id']} has {max(budget, 0)} left to credit (its total less its"
            f" discounts, earlier credit notes and refunds), not {total}")
    return chosen


class Corrections:
    """A subscription's side of correcting what it invoiced."""

    def void_invoice(self: Subscription, invoice_id: str, *, reason: str | None,
                     effective_at: datetime, recorded_at: datetime) -> None:
        invoice = self._open_invoice(invoice_id, effective_at, recorded_at, reason)
        self._record(InvoiceVoided, effective_at, recorded_at, invoice_id=invoice_id,
                     total=invoice["total"] - sum(invoice["credited"]), currency=invoice["currency"],
                     credit_restored=invoice["credit_applied"], reason=reason)
        self._end_dunning(invoice_id, effective_at, recorded_at)

    def write_off(self: Subscription, invoice_id: str, *, reason: str | None,
                  effective_at: datetime, recorded_at: datetime) -> None:
        invoice = self._open_invoice(invoice_id, effective_at, recorded_at, reason)
        self._record(InvoiceMarkedUncollectible, effective_at, recorded_at, invoice_id=invoice_id,
                     amount_due=invoice["amount_due"], currency=invoice["currency"], reason=reason)
        self._end_dunning(invoice_id, effective_at, recorded_at)

    def issue_credit_note(
        self: Subscription, invoice_id: str, *, lines: list[tuple[int, int]] | None,
        settlement: str, reason: str | None, effective_at: datetime, recorded_at: datetime,
    ) -> str:
        """Credit an invoice (see the module); returns the credit note's id."""
        check_comment(reason)
        invoice = self._invoice(invoice_id)
        self._catch_up(effective_at, recorded_at)
        allowed = (REFUND, CREDIT_BALANCE) if invoice["status"] == PAID else (AMOUNT_DUE,)
        if invoice["status"] not in (PAID, OPEN) or settlement not in allowed:
            raise InvoiceNotCreditable(
                f"invoice {invoice_id} is {invoice['status']}: it can be credited as"
                f" {' or '.join(allowed) if invoice['status'] in (PAID, OPEN) else 'nothing'}")
        chosen = credit_lines({**invoice, "id": invoice_id}, lines, self.unreturned(invoice_id))
        total = sum(line["amount"] for line in chosen)
        if settlement == AMOUNT_DUE and total > invoice["amount_due"]:
            raise InvoiceNotCreditable(f"invoice {invoice_id} has {invoice['amount_due']} due, not {total}")
        credit_note_id = str(uuid5(UUID(invoice_id), f"credit-note:{self.version + 1}"))
        refund_id = None
        if settlement == REFUND:
            refund_id = str(uuid5(UUID(credit_note_id), "refund"))
            self._check_refundable(invoice, total)
        self._record(CreditNoteIssued, effective_at, recorded_at, credit_note_id=credit_note_id,
                     invoice_id=invoice_id, lines=chosen, total=total, currency=invoice["currency"],
                     settlement=settlement, refund_id=refund_id, reason=reason)
        if settlement == AMOUNT_DUE:
            self._end_dunning(invoice_id, effective_at, recorded_at)
        if refund_id is not None:
            self.request_refund(invoice["charge_id"], total, reason=reason, refund_id=refund_id,
                                effective_at=effective_at, recorded_at=recorded_at)
        return credit_note_id

    def adjust_balance(self: Subscription, amount: int, *, reason: str, effective_at: datetime,
                       recorded_at: datetime) -> str:
        """Credit (positive) or debit (negative) the balance by hand; returns the
        adjustment's id."""
        if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
            raise InvalidInput("amount must be a whole number of minor units, not 0")
        check_settleable(check_amount(abs(amount)), self.currency)
        check_reason(reason, "reason")
        self._begin(effective_at, recorded_at)
        adjustment_id = str(uuid5(self.id, f"balance:{self.version + 1}"))
        self._record(BalanceAdjusted, effective_at, recorded_at, adjustment_id=adjustment_id,
                     amount=amount, currency=self.currency, reason=reason)
        return adjustment_id

    def unreturned(self: Subscription, invoice_id: str) -> int:
        """What of an invoice's total the subscriber does not have back yet: less its credit
        notes kept as credit balance or taken off what was due, and less every refund of its
        charge (requested, issued, or a lost dispute), whatever decided it. A refund and a
        credit note never give the same money back twice."""
        invoice = self._invoice(invoice_id)
        credited = sum(note["total"] for note in self.credit_notes.values()
                       if note["invoice_id"] == invoice_id and note["settlement"] != REFUND)
        charge_id = invoice.get("charge_id")
        if charge_id is None or charge_id not in self.charges:
            return int(invoice["total"]) - credited
        given_back = int(self.charges[charge_id]["amount"]) - self.charge_left(charge_id)
        return int(invoice["total"]) - credited - given_back

    # -- helpers ----------------------------------------------------------------------------

    def _invoice(self: Subscription, invoice_id: str) -> dict[str, Any]:
        invoice = self.invoices.get(invoice_id)
        if invoice is None:
            raise InvoiceNotFound(f"no invoice {invoice_id} on subscription {self.id}")
        return invoice  # type: ignore[no-any-return]

    def _catch_up(self: Subscription, effective_at: datetime, recorded_at: datetime) -> None:
        """What is due first (a canceled subscription has nothing due, and its invoices can
        still be corrected)."""
        self.check_effective_at(effective_at)
        self.advance_to(effective_at, recorded_at=recorded_at)

    def _open_invoice(self: Subscription, invoice_id: str, effective_at: datetime,
                      recorded_at: datetime, reason: str | None) -> dict[str, Any]:
        check_comment(reason)
        invoice = self._invoice(invoice_id)
        self._catch_up(effective_at, recorded_at)
        if invoice["status"] != OPEN:
            raise InvoiceNotOpen(f"invoice {invoice_id} is {invoice['status']}, not open")
        return invoice

    def _end_dunning(self: Subscription, invoice_id: str, at: datetime, recorded_at: datetime) -> None:
        if self.status == PAST_DUE and not in_dunning(self.open_invoices):
            self._record(SubscriptionRecovered, at, recorded_at, invoice_id=invoice_id)

    def _check_refundable(self: Subscription, invoice: dict[str, Any], total: int) -> None:
        charge_id = invoice["charge_id"]
        if charge_id is None or self.refundable(charge_id) < total:
            raise InvoiceNotCreditable(
                "a refund can give back at most what the invoice's charge has left to refund;"
                " settle the rest as credit_balance")
