"""Revenue recognition as pure functions over public envelopes: the lines of paid invoices
and of refunds, credit notes and balance adjustments, each recognized evenly per second over
its service period, and what is recognized in a window or deferred at an instant (exact
``Fraction``s of a minor unit).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from fractions import Fraction
from typing import Any

from .mrr import ZERO, Envelope
from .time import microseconds, parse_instant

# -- revenue -------------------------------------------------------------------------------

REFUND = "refund"
LOST_DISPUTE = "lost_dispute"
CREDIT = "credit_note"
ADJUSTMENT = "balance_adjustment"


@dataclass(frozen=True)
class RevenueLine:
    """An amount recognized evenly over [start, end), or at ``start`` when ``end == start``."""

    amount: Fraction
    """Minor units; negative for discounts, proration credits and refunds."""
    currency: str
    start: datetime
    end: datetime
    settled_at: datetime
    """When it was collected (its invoice's charge succeeded, or nothing was due) or, for a
    refund's line, refunded."""
    kind: str
    """The invoice line's kind, or ``refund``, ``lost_dispute``, ``credit_note``,
    ``balance_adjustment``."""
    source: str
    """The invoice, refund, credit note or adjustment id."""

    def _length(self) -> int:
        return microseconds(self.end - self.start)

    def unserved(self, instant: datetime) -> Fraction:
        """The part of the line for service after ``instant``."""
        length = self._length()
        if length == 0:
            return self.amount if self.start > instant else ZERO
        left = microseconds(self.end - max(instant, self.start))
        return self.amount * Fraction(min(max(left, 0), length), length)

    def within(self, start: datetime, end: datetime) -> Fraction:
        """The part of the line recognized in [start, end)."""
        length = self._length()
        if length == 0:
            return self.amount if start <= self.start < end else ZERO
        overlap = microseconds(min(end, self.end) - max(start, self.start))
        return self.amount * Fraction(max(overlap, 0), length) if overlap > 0 else ZERO


def revenue_lines(envelopes: Iterable[Envelope]) -> list[RevenueLine]:
    """The lines of every paid invoice, and the lines that refunds, credit notes and balance
    adjustments take off or add, from envelopes of any subscriptions (ordered here by
    ``position``).

    - An invoice's lines count once it is settled: at its ``effective_at`` when nothing was
      due (``amount_due`` 0: covered by the credit balance, or a net credit), else when a
      charge of it succeeds or a credit note takes what is due to 0; at full value either
      way (a total partly paid by credit is collected, the credit having been collected
      before). Unpaid, voided and written-off invoices never count.
    - A refund of R at instant r against a charge of invoice I is attributed to I's lines in
      proportion to what is left of each line's service after r: with U the value of I's
      lines still unserved after r (net of earlier refunds and credit notes of I), min(R, U)
      comes off the lines pro rata, each line's share spread evenly over its remaining
      service [r, end) (so the invoice's future recognition and deferral shrink by the same
      factor); the rest of R (all of it when nothing is left to serve, e.g. a manual charge
      or an ended period) is taken off revenue at r, as a zero-length line. The refund that
      settles a credit note is cash only: the note's own lines already took it off.
    - A credit note at instant c crediting C of a line takes C off that line from c on: the
      line's part still unserved after c, spread over [c, end), and the rest at c. Its lines
      count when its invoice is settled (an unpaid invoice's credit counts with it, or never).
    - A lost dispute (``DisputeClosed`` with outcome ``lost``) takes its amount off as a
      refund of the disputed charge would, at the dispute's closing; a won one moves nothing.
    - A balance adjustment of A is recognized at its instant (a credit is -A, a debit +A).
    """
    book = RevenueBook()
    book.fold(envelopes)
    return book.out


class RevenueBook:
    """The state :func:`revenue_lines` keeps while it reads the log in order. Folding more
    envelopes, of later positions, resumes it: ``out`` only grows, so the lines of a longer
    history are those of the shorter one followed by the new ones (a model folds each event
    once, page after page). Only events of :attr:`TYPES` change it."""

    TYPES = frozenset({"InvoiceIssued", "ChargeSucceeded", "RefundIssued", "DisputeClosed",
                       "CreditNoteIssued", "BalanceAdjusted"})

    def __init__(self) -> None:
        self.invoices: dict[str, Mapping[str, Any]] = {}
        self.due: dict[str, int] = {}
        self.settled: dict[str, list[RevenueLine]] = {}
        self.credits: dict[str, list[RevenueLine]] = {}  # of invoices not settled yet
        self.remaining: dict[str, Fraction] = {}  # invoice id -> share not yet refunded
        self.charge_invoice: dict[str, str | None] = {}
        self.cash_only: set[str] = set()  # refunds that settle a credit note
        self.out: list[RevenueLine] = []

    def fold(self, envelopes: Iterable[Envelope]) -> None:
        """Add ``envelopes`` (ordered here by ``position``), all after those folded before."""
        for envelope in sorted(envelopes, key=lambda e: int(e["position"])):
            self.add(envelope["type"], envelope["data"], parse_instant(envelope["effective_at"]))

    def add(self, kind: str, data: Mapping[str, Any], at: datetime) -> None:
        if kind == "InvoiceIssued":
            self.invoices[data["invoice_id"]] = data
            self.due[data["invoice_id"]] = int(data["amount_due"])
            if int(data["amount_due"]) == 0:
                self.settle(data["invoice_id"], at)
        elif kind == "ChargeSucceeded":
            self.charge_invoice[data["charge_id"]] = data.get("invoice_id")
            if data.get("invoice_id") is not None:
                self.settle(data["invoice_id"], at)
        elif kind == "RefundIssued":
            if data["charge_id"] not in self.charge_invoice:
                raise ValueError(f"refund {data['refund_id']} of charge {data['charge_id']}, "
                                 "whose ChargeSucceeded is not among the envelopes")
            if data["refund_id"] not in self.cash_only:
                invoice_id = self.charge_invoice[data["charge_id"]]
                self.out.extend(_refund_lines(data, at, invoice_id, self.settled, self.remaining))
        elif kind == "DisputeClosed" and data["outcome"] == "lost":
            if data["charge_id"] not in self.charge_invoice:
                raise ValueError(f"dispute {data['dispute_id']} of charge {data['charge_id']}, "
                                 "whose ChargeSucceeded is not among the envelopes")
            invoice_id = self.charge_invoice[data["charge_id"]]
            taken = {**data, "refund_id": data["dispute_id"]}
            self.out.extend(_refund_lines(taken, at, invoice_id, self.settled, self.remaining,
                                          LOST_DISPUTE))
        elif kind == "CreditNoteIssued":
            self.credit(data, at)
        elif kind == "BalanceAdjusted":
            self.out.append(RevenueLine(Fraction(-int(data["amount"])), data["currency"], at, at,
                                        at, ADJUSTMENT, data["adjustment_id"]))

    def settle(self, invoice_id: str, at: datetime) -> None:
        if invoice_id in self.settled or invoice_id not in self.invoices:
            return
        data = self.invoices[invoice_id]
        lines = [
            RevenueLine(
                amount=Fraction(int(line["amount"])), currency=data["currency"],
                start=parse_instant(line["period_start"]), end=parse_instant(line["period_end"]),
                settled_at=at, kind=line["kind"], source=invoice_id,
            )
            for line in data["lines"]
        ]
        credits = [replace(line, settled_at=max(line.settled_at, at))
                   for line in self.credits.pop(invoice_id, [])]
        self.settled[invoice_id] = lines + credits
        self.remaining[invoice_id] = Fraction(1)
        self.out.extend(lines + credits)

    def credit(self, data: Mapping[str, Any], at: datetime) -> None:
        invoice_id = data["invoice_id"]
        invoice = self.invoices.get(invoice_id)
        if invoice is None:
            raise ValueError(f"credit note {data['credit_note_id']} of invoice {invoice_id}, "
                             "whose InvoiceIssued is not among the envelopes")
        if data.get("refund_id"):
            self.cash_only.add(data["refund_id"])
        lines = [_credit_lines(invoice["lines"][int(c["index"])], Fraction(int(c["amount"])),
                               invoice["currency"], at, data["credit_note_id"])
                 for c in data["lines"]]
        flat = [line for group in lines for line in group]
        if invoice_id in self.settled:
            self.settled[invoice_id].extend(flat)
            self.out.extend(flat)
            return
        self.credits.setdefault(invoice_id, []).extend(flat)
        if data["settlement"] == "amount_due":
            self.due[invoice_id] -= int(data["total"])
            if self.due[invoice_id] <= 0:
                self.settle(invoice_id, at)


def _credit_lines(line: Mapping[str, Any], amount: Fraction, currency: str, at: datetime,
                  source: str) -> list[RevenueLine]:
    """What crediting ``amount`` of an invoice line at ``at`` takes off it: its unserved part
    from ``at`` to its end, the rest at ``at``."""
    start, end = parse_instant(line["period_start"]), parse_instant(line["period_end"])
    whole = RevenueLine(Fraction(int(line["amount"])), currency, start, end, at, CREDIT, source)
    unserved = whole.unserved(at) if whole.amount else ZERO
    later = min(amount, unserved)
    out: list[RevenueLine] = []
    if later > 0:
        out.append(RevenueLine(-later, currency, max(at, start), end, at, CREDIT, source))
    if amount > later:
        out.append(RevenueLine(later - amount, currency, at, at, at, CREDIT, source))
    return out


def _refund_lines(
    data: Mapping[str, Any], at: datetime, invoice_id: str | None,
    settled: Mapping[str, list[RevenueLine]], remaining: dict[str, Fraction],
    kind: str = REFUND,
) -> list[RevenueLine]:
    refund = Fraction(int(data["amount"]))
    lines = settled.get(invoice_id, []) if invoice_id is not None else []
    unserved = sum((line.unserved(at) for line in lines), ZERO)
    share = remaining.get(invoice_id, ZERO) if invoice_id is not None else ZERO
    attributed = min(refund, share * unserved) if unserved > 0 and share > 0 else ZERO
    out: list[RevenueLine] = []
    if attributed:
        assert invoice_id is not None
        fraction = attributed / unserved  # of each line's unserved part
        remaining[invoice_id] = share - fraction
        for line in lines:
            part = line.unserved(at)
            if part:
                start = line.start if line.start == line.end else max(at, line.start)
                out.append(RevenueLine(-fraction * part, data["currency"], start, line.end,
                                       at, kind, data["refund_id"]))
    if refund > attributed:
        out.append(RevenueLine(attributed - refund, data["currency"], at, at, at, kind,
                               data["refund_id"]))
    return out


def _one_currency(lines: Sequence[RevenueLine]) -> None:
    currencies = {line.currency for line in lines}
    if len(currencies) > 1:
        raise ValueError(f"revenue lines in several currencies: {sorted(currencies)}")


def recognized(lines: Iterable[RevenueLine], start: datetime, end: datetime) -> Fraction:
    """Revenue recognized in [start, end): each line evenly over its service period (exact
    to the microsecond), a zero-length line at its instant. Lines of one currency."""
    if end < start:
        raise ValueError("an interval ends no earlier than it starts")
    lines = list(lines)
    _one_currency(lines)
    return sum((line.within(start, end) for line in lines), ZERO)


def deferred_at(lines: Iterable[RevenueLine], instant: datetime) -> Fraction:
    """Deferred revenue at ``instant``: what was collected by then (lines settled at or
    before it) for service after it, minus the refunds of it (refund lines, as
    :func:`revenue_lines` attributes them). Lines of one currency."""
    lines = list(lines)
    _one_currency(lines)
    return sum((line.unserved(instant) for line in lines if line.settled_at <= instant), ZERO)
