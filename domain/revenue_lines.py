"""The lines of revenue recognition: an amount recognized evenly over a service period, an
invoice line as refunds and credit notes take parts of it off, and the parts they take
(:func:`refund_lines`, :func:`credit_lines`). :mod:`.revenue` folds the log into them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from .mrr import ZERO
from .time import microseconds

REFUND = "refund"
LOST_DISPUTE = "lost_dispute"
CREDIT = "credit_note"
ADJUSTMENT = "balance_adjustment"
REVERSAL = "refund_reversal"
CHARGE_REVERSAL = "charge_reversal"


@dataclass(frozen=True)
class RevenueLine:
    """An amount recognized evenly over [start, end), or at ``start`` when ``end == start``."""

    amount: Fraction
    """Minor units; negative for discounts, proration credits and refunds (positive for a
    refund's reversal)."""
    currency: str
    start: datetime
    end: datetime
    settled_at: datetime
    """When it was collected (its invoice's charge succeeded, or nothing was due) or, for a
    refund's line, refunded."""
    kind: str
    """The invoice line's kind, or ``refund``, ``lost_dispute``, ``credit_note``,
    ``balance_adjustment``, ``refund_reversal``, ``charge_reversal`` (a charge denied at the
    provider; a later charge of its invoice gives it back under its own charge id)."""
    source: str
    """The invoice, refund, credit note, adjustment, refund or charge reversal id, or the
    charge that paid again an invoice whose charge was reversed."""

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


class Served:
    """An invoice line (``whole``, its ``settled_at`` the invoice's issue) and what refunds and
    credit notes have taken off it so far, spread over the rest of its service."""

    def __init__(self, whole: RevenueLine) -> None:
        self.whole = whole
        self.taken: list[RevenueLine] = []

    def left(self, instant: datetime) -> Fraction:
        """What is left of the line to serve after ``instant``: every refund and credit note
        folded so far is netted, so that a later one cannot take the same service off twice
        (and push deferred revenue below 0)."""
        return self.whole.unserved(instant) + sum((part.unserved(instant) for part in self.taken), ZERO)


Taken = tuple[Served | None, RevenueLine]
"""A part a refund took off: the invoice line it took it off (None: off revenue at once)."""


def credit_lines(line: Served, amount: Fraction, at: datetime, source: str,
                 room: list[Fraction]) -> list[RevenueLine]:
    """What crediting ``amount`` of an invoice line at ``at`` takes off it: as much as is left
    of the line to serve, and of its invoice (``room[0]``, net of its discounts, what the
    note's earlier lines took made less), spread from ``at`` to its end; the rest at ``at``."""
    whole = line.whole
    left = min(line.left(at), room[0])
    later = min(amount, left) if left > 0 else ZERO
    room[0] -= later
    out: list[RevenueLine] = []
    if later > 0:
        spread = RevenueLine(-later, whole.currency, max(at, whole.start), whole.end, at, CREDIT, source)
        line.taken.append(spread)
        out.append(spread)
    if amount > later:
        out.append(RevenueLine(later - amount, whole.currency, at, at, at, CREDIT, source))
    return out


def refund_lines(refund: Fraction, currency: str, at: datetime, lines: Sequence[Served],
                 kind: str, refund_id: str) -> list[Taken]:
    """What a refund of ``refund`` at ``at`` takes off the ``lines`` of its charge's invoice
    (none when it has no settled invoice): pro rata of what is left of each to serve, the rest
    at ``at`` (a part of no line)."""
    left = [line.left(at) for line in lines]
    unserved = sum(left, ZERO)
    attributed = min(refund, unserved) if unserved > 0 else ZERO
    out: list[Taken] = []
    for line, part in zip(lines, left, strict=True):
        if attributed and part:
            whole = line.whole
            start = whole.start if whole.start == whole.end else max(at, whole.start)
            share = RevenueLine(-attributed * part / unserved, currency, start, whole.end, at, kind,
                                refund_id)
            line.taken.append(share)
            out.append((line, share))
    if refund > attributed:
        out.append((None, RevenueLine(attributed - refund, currency, at, at, at, kind, refund_id)))
    return out


def reversal_lines(taken: Sequence[Taken], at: datetime, source: str,
                   kind: str = REVERSAL) -> list[RevenueLine]:
    """What reversing a refund at ``at`` gives back, the exact opposite of what it ``taken``
    off: each line's share still to serve after ``at`` put back on that line over the same
    service, and the rest (what the refund took off before ``at``, or at once) at ``at``, so
    that what was recognized before ``at`` stays."""
    out: list[RevenueLine] = []
    rest = ZERO
    for line, part in taken:
        later = part.unserved(at)
        if line is not None and later:
            back = RevenueLine(-later, part.currency, max(at, part.start), part.end, at, kind,
                               source)
            line.taken.append(back)
            out.append(back)
        rest += part.amount - later
    if rest and taken:
        out.append(RevenueLine(-rest, taken[0][1].currency, at, at, at, kind, source))
    return out
