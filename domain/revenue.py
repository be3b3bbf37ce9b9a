"""Revenue recognition as pure functions over public envelopes: the lines of paid invoices
and of refunds, credit notes and balance adjustments, each recognized evenly per second over
its service period, and what is recognized in a window or deferred at an instant (exact
``Fraction``s of a minor unit).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from fractions import Fraction
from typing import Any

from .mrr import ZERO, Envelope
from .revenue_lines import (
    ADJUSTMENT,
    CHARGE_REVERSAL,
    CREDIT,
    LOST_DISPUTE,
    REFUND,
    RevenueLine,
    Served,
    Taken,
    credit_lines,
    refund_lines,
    reversal_lines,
)
from .time import parse_instant

__all__ = ["ADJUSTMENT", "CREDIT", "LOST_DISPUTE", "REFUND", "RevenueBook", "RevenueLine",
           "deferred_at", "recognized", "revenue_lines"]


def revenue_lines(envelopes: Iterable[Envelope]) -> list[RevenueLine]:
    """The lines of every paid invoice, and the lines that refunds, credit notes and balance
    adjustments take off or add, from envelopes of any subscriptions (ordered here by
    ``position``).

    - An invoice's lines count once it is settled: at its ``effective_at`` when nothing was
      due (``amount_due`` 0: covered by the credit balance, or a net credit), else when a
      charge of it succeeds or a credit note takes what is due to 0; at full value either
      way (a total partly paid by credit is collected, the credit having been collected
      before). Unpaid, voided and written-off invoices never count.
    - What is left of a line to serve after an instant t is its part for service after t
      less what every earlier refund and credit note of its invoice (in log order, so
      effective by t) took off that part. A refund or a credit note takes at most that off,
      so a line that charges is never left below 0 to serve; what it gives back beyond it
      is taken off revenue at its instant, as a zero-length line.
    - A refund of R at instant r against a charge of invoice I is attributed to I's lines in
      proportion to what is left of each line to serve after r: with U the sum of it over
      I's lines, min(R, U) comes off the lines pro rata, each line's share spread evenly over
      its remaining service [r, end) (so the invoice's future recognition and deferral shrink
      by the same factor); the rest of R (all of it when nothing is left to serve, e.g. a
      manual charge or an ended period) is taken off revenue at r, as a zero-length line.
      The refund that settles a credit note is cash only: the note's own lines already took
      it off.
    - A credit note at instant c crediting C of a line takes C off that line from c on: as
      much of C as is left of the line to serve after c, and of its invoice (net of its
      discounts), spread over [c, end), and the rest at c. Its lines count when its invoice is settled (an unpaid invoice's credit counts
      with it, or never).
    - A lost dispute (``DisputeClosed`` with outcome ``lost``) takes its amount off as a
      refund of the disputed charge would, at the dispute's closing; a won one moves nothing.
    - A refund reversed at v (``RefundReversed``: it failed at the provider) gives back
      exactly what it took off, from v on: each line's share still to serve after v is put
      back over the same service, and the rest (what it took off before v, or at once) at v,
      so what was recognized before v stays. A credit note's refund is given back as cash
      only, as it was taken.
    - A charge reversed at v (``ChargeReversed``: the provider denied it) takes off what was
      left of it as a refund of it would, at v: its invoice is unpaid again. A later charge
      of that invoice gives back exactly what the reversal took, as a reversed refund does;
      a credit note issued while it is unpaid again counts as on any unpaid invoice, once it
      is settled again (by that charge, or by credit notes covering what is due).
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
                       "CreditNoteIssued", "BalanceAdjusted", "RefundReversed",
                       "ChargeReversed"})

    def __init__(self) -> None:
        self.invoices: dict[str, Mapping[str, Any]] = {}
        self.served: dict[str, list[Served]] = {}  # invoice id -> its lines, net of corrections
        self.due: dict[str, int] = {}
        self.settled: set[str] = set()
        self.credits: dict[str, list[RevenueLine]] = {}  # of invoices not settled yet
        self.charge_invoice: dict[str, str | None] = {}
        self.cash_only: set[str] = set()  # refunds that settle a credit note
        self.given: dict[str, list[Taken]] = {}  # refund id -> what it took off, until reversed
        self.unpaid: dict[str, list[Taken]] = {}  # invoice id -> what its charge's reversal took
        self.out: list[RevenueLine] = []

    def fold(self, envelopes: Iterable[Envelope]) -> None:
        """Add ``envelopes`` (ordered here by ``position``), all after those folded before."""
        for envelope in sorted(envelopes, key=lambda e: int(e["position"])):
            self.add(envelope["type"], envelope["data"], parse_instant(envelope["effective_at"]))

    def add(self, kind: str, data: Mapping[str, Any], at: datetime) -> None:
        if kind == "InvoiceIssued":
            self.issue(data, at)
        elif kind == "ChargeSucceeded":
            self.charge_invoice[data["charge_id"]] = data.get("invoice_id")
            if data.get("invoice_id") is not None:
                self.settle(data["invoice_id"], at)
                self.paid_again(data["invoice_id"], at, data["charge_id"])
        elif kind == "RefundIssued":
            self.refund(data, data["refund_id"], at, REFUND)
        elif kind == "DisputeClosed" and data["outcome"] == "lost":
            self.refund(data, data["dispute_id"], at, LOST_DISPUTE)
        elif kind == "CreditNoteIssued":
            self.credit(data, at)
        elif kind == "RefundReversed":
            self.reverse(data, at)
        elif kind == "ChargeReversed":
            taken = self.refund(data, data["reversal_id"], at, CHARGE_REVERSAL)
            if data.get("invoice_id") is not None:
                self.unpaid[data["invoice_id"]] = taken
                self.due[data["invoice_id"]] = int(data["amount"])
        elif kind == "BalanceAdjusted":
            self.out.append(RevenueLine(Fraction(-int(data["amount"])), data["currency"], at, at,
                                        at, ADJUSTMENT, data["adjustment_id"]))

    def issue(self, data: Mapping[str, Any], at: datetime) -> None:
        invoice_id = data["invoice_id"]
        self.invoices[invoice_id] = data
        self.served[invoice_id] = [
            Served(RevenueLine(
                amount=Fraction(int(line["amount"])), currency=data["currency"],
                start=parse_instant(line["period_start"]), end=parse_instant(line["period_end"]),
                settled_at=at, kind=line["kind"], source=invoice_id,
            ))
            for line in data["lines"]
        ]
        self.due[invoice_id] = int(data["amount_due"])
        if int(data["amount_due"]) == 0:
            self.settle(invoice_id, at)

    def settle(self, invoice_id: str, at: datetime) -> None:
        if invoice_id in self.settled or invoice_id not in self.invoices:
            return
        # Most invoices are paid at the instant they are issued: their lines are then the very
        # objects kept to net corrections against, not copies (a rebuild holds every line).
        lines = [line.whole if line.whole.settled_at == at else replace(line.whole, settled_at=at)
                 for line in self.served[invoice_id]]
        self.settled.add(invoice_id)
        self.out.extend(lines)
        self._release_credits(invoice_id, at)

    def paid_again(self, invoice_id: str, at: datetime, source: str) -> None:
        """An invoice whose charge was reversed is settled again (a charge, or a credit note
        taking what it left due to 0): what the reversal took is given back, and the credit
        notes issued while it was unpaid count from now, as on any unpaid invoice."""
        taken = self.unpaid.pop(invoice_id, None)
        if taken is None:
            return
        self.out.extend(reversal_lines(taken, at, source, CHARGE_REVERSAL))
        self._release_credits(invoice_id, at)

    def _release_credits(self, invoice_id: str, at: datetime) -> None:
        """The credit notes held while ``invoice_id`` was unpaid count from ``at`` on."""
        self.out.extend(replace(line, settled_at=max(line.settled_at, at))
                        for line in self.credits.pop(invoice_id, []))

    def refund(self, data: Mapping[str, Any], refund_id: str, at: datetime,
               kind: str) -> list[Taken]:
        """A refund, a lost dispute or a charge reversal of ``data["amount"]`` (see
        :func:`revenue_lines`): what it took off."""
        charge_id = data["charge_id"]
        if charge_id not in self.charge_invoice:
            what = "refund" if kind == REFUND else "dispute"
            raise ValueError(f"{what} {refund_id} of charge {charge_id}, "
                             "whose ChargeSucceeded is not among the envelopes")
        if refund_id in self.cash_only:  # a credit note's refund: the note took it off already
            return []
        invoice_id = self.charge_invoice[charge_id]
        lines = self.served.get(invoice_id, []) if invoice_id in self.settled else []
        taken = refund_lines(Fraction(int(data["amount"])), data["currency"], at, lines, kind, refund_id)
        if kind == REFUND:
            self.given[refund_id] = taken
        self.out.extend(part for _line, part in taken)
        return taken

    def reverse(self, data: Mapping[str, Any], at: datetime) -> None:
        """A refund reversed at ``at`` (``RefundReversed``): what it took off given back."""
        refund_id = data["refund_id"]
        if refund_id in self.cash_only:  # a credit note's refund took nothing off: cash only
            return
        taken = self.given.pop(refund_id, None)
        if taken is None:
            raise ValueError(f"reversal of refund {refund_id}, whose RefundIssued is not among"
                             " the envelopes")
        self.out.extend(reversal_lines(taken, at, data["reversal_id"]))

    def credit(self, data: Mapping[str, Any], at: datetime) -> None:
        invoice_id = data["invoice_id"]
        invoice = self.invoices.get(invoice_id)
        if invoice is None:
            raise ValueError(f"credit note {data['credit_note_id']} of invoice {invoice_id}, "
                             "whose InvoiceIssued is not among the envelopes")
        if data.get("refund_id"):
            self.cash_only.add(data["refund_id"])
        served = self.served[invoice_id]
        room = [sum((line.left(at) for line in served), ZERO)]  # the invoice's, discounts net
        flat = [part for c in data["lines"]
                for part in credit_lines(served[int(c["index"])], Fraction(int(c["amount"])), at,
                                          data["credit_note_id"], room)]
        if invoice_id in self.settled and invoice_id not in self.unpaid:
            self.out.extend(flat)
            return
        # Unpaid (never yet, or again after its charge was reversed, which took off all that
        # was recognized of it): its credit counts once the invoice is settled.
        self.credits.setdefault(invoice_id, []).extend(flat)
        if data["settlement"] == "amount_due":
            self.due[invoice_id] -= int(data["total"])
            if self.due[invoice_id] <= 0:
                self.settle(invoice_id, at)
                self.paid_again(invoice_id, at, data["credit_note_id"])


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
