"""Revenue recognition as pure functions over public envelopes: the lines of paid invoices
and of refunds, each recognized evenly per second over its service period, and what is
recognized in a window or deferred at an instant (exact ``Fraction``s of a minor unit).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from .mrr import ZERO, Envelope
from .time import microseconds, parse_instant

# -- revenue -------------------------------------------------------------------------------

REFUND = "refund"


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
    """The invoice line's kind, or ``refund``."""
    source: str
    """The invoice id, or the refund id."""

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
    """The lines of every paid invoice, and the lines that refunds take off them, from
    envelopes of any subscriptions (ordered here by ``position``).

    - An invoice's lines count once it is settled: at its ``effective_at`` when nothing was
      due (``amount_due`` 0: covered by the credit balance, or a net credit), else when a
      charge of it succeeds; at full value either way (a total partly paid by credit is
      collected, the credit having been collected before). Unpaid invoices never count.
    - A refund of R at instant r against a charge of invoice I is attributed to I's lines in
      proportion to what is left of each line's service after r: with U the value of I's
      lines still unserved after r (net of earlier refunds of I), min(R, U) comes off the
      lines pro rata, each line's share spread evenly over its remaining service [r, end)
      (so the invoice's future recognition and deferral shrink by the same factor); the rest
      of R (all of it when nothing is left to serve, e.g. a manual charge or an ended
      period) is taken off revenue at r, as a zero-length line.
    """
    invoices: dict[str, Mapping[str, Any]] = {}
    settled: dict[str, list[RevenueLine]] = {}
    remaining: dict[str, Fraction] = {}  # invoice id -> share of its lines not yet refunded
    charge_invoice: dict[str, str | None] = {}
    out: list[RevenueLine] = []

    def settle(invoice_id: str, at: datetime) -> None:
        if invoice_id in settled or invoice_id not in invoices:
            return
        data = invoices[invoice_id]
        lines = [
            RevenueLine(
                amount=Fraction(int(line["amount"])), currency=data["currency"],
                start=parse_instant(line["period_start"]), end=parse_instant(line["period_end"]),
                settled_at=at, kind=line["kind"], source=invoice_id,
            )
            for line in data["lines"]
        ]
        settled[invoice_id] = lines
        remaining[invoice_id] = Fraction(1)
        out.extend(lines)

    for envelope in sorted(envelopes, key=lambda e: int(e["position"])):
        kind, data = envelope["type"], envelope["data"]
        at = parse_instant(envelope["effective_at"])
        if kind == "InvoiceIssued":
            invoices[data["invoice_id"]] = data
            if int(data["amount_due"]) == 0:
                settle(data["invoice_id"], at)
        elif kind == "ChargeSucceeded":
            charge_invoice[data["charge_id"]] = data.get("invoice_id")
            if data.get("invoice_id") is not None:
                settle(data["invoice_id"], at)
        elif kind == "RefundIssued":
            if data["charge_id"] not in charge_invoice:
                raise ValueError(f"refund {data['refund_id']} of charge {data['charge_id']}, "
                                 "whose ChargeSucceeded is not among the envelopes")
            out.extend(_refund_lines(data, at, charge_invoice[data["charge_id"]], settled, remaining))
    return out


def _refund_lines(
    data: Mapping[str, Any], at: datetime, invoice_id: str | None,
    settled: Mapping[str, list[RevenueLine]], remaining: dict[str, Fraction],
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
                                       at, REFUND, data["refund_id"]))
    if refund > attributed:
        out.append(RevenueLine(attributed - refund, data["currency"], at, at, at, REFUND,
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
