"""Proration of a mid-period change.

At instant ``at`` inside the period ``[start, end)``, a change from price ``old`` to price
``new`` (each the whole period's amount, quantity included) gives two invoice lines:

- a credit for the unused part of the old price: ``-round(old * remaining / period)``;
- a charge for the rest of the period at the new price: ``round(new * remaining / period)``;

where ``remaining / period`` is the exact ratio of the period's remaining time to its
length, and each line is rounded half-even on its own, to whole minor units, or to tens of
them in a three-decimal currency (its settlement increment, see
:func:`~subledger.domain.money.settlement_increment`): every line, and so the invoice, can
then be charged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from .money import round_to_increment
from .periods import Interval, Period, period_boundary
from .time import microseconds


@dataclass(frozen=True)
class Proration:
    credit: int
    """Non-positive: minus the unused part of the old price."""
    charge: int
    """Non-negative: the new price for the rest of the period."""
    fraction: Fraction
    """remaining / period, exact."""

    @property
    def net(self) -> int:
        return self.credit + self.charge


def remaining_fraction(period: Period, at: datetime) -> Fraction:
    """The exact share of ``period`` left at ``at`` (1 at its start, 0 at its end)."""
    if not period.start <= at <= period.end:
        raise ValueError("proration instant outside the period")
    total = microseconds(period.end - period.start)
    if total <= 0:
        raise ValueError("empty period")
    return Fraction(microseconds(period.end - at), total)


def share_of(period: Period, part: Period) -> Fraction:
    """The exact share of ``period``'s seconds that ``part`` (inside it) covers."""
    return remaining_fraction(period, part.start) - remaining_fraction(period, part.end)


def prorate(old_amount: int, new_amount: int, period: Period, at: datetime,
            billed_until: datetime | None = None, *, increment: int = 1) -> Proration:
    """The credit and charge lines of a change from ``old_amount`` to ``new_amount`` at ``at``,
    for what is left of the period up to ``billed_until`` (its end unless a scheduled
    cancellation cut its invoice short: time never billed is neither credited nor charged),
    each rounded to a multiple of ``increment`` (the currency's settlement increment)."""
    fraction = share_of(period, Period(at, max(at, billed_until or period.end)))
    credit = -round_to_increment(old_amount * fraction, increment)
    charge = round_to_increment(new_amount * fraction, increment)
    return Proration(credit=credit, charge=charge, fraction=fraction)


@dataclass(frozen=True)
class ChangeNow:
    """A change ``now`` of a billed subscription: its proration and the calendar after it."""

    proration: Proration
    billing_anchor: datetime | None
    period_number: int
    period: Period
    reanchored_from: Period | None
    """The period the change left when it re-anchored the calendar (a new interval), up to
    where it was billed."""


def prorate_change(
    *, old_total: int, new_total: int, old_interval: Interval, new_interval: Interval,
    billing_anchor: datetime | None, period_number: int, period: Period, at: datetime,
    increment: int, billed_until: datetime | None = None,
) -> ChangeNow:
    """Prorate a change at ``at`` from ``old_total`` to ``new_total`` (each a whole period's
    price as billed). On the same interval the calendar is kept; a new interval re-anchors
    it at the change (as Stripe does): the old price's unused part is credited and the new
    period is charged whole."""
    if new_interval == old_interval:
        return ChangeNow(prorate(old_total, new_total, period, at, billed_until, increment=increment),
                         billing_anchor, period_number, period, None)
    credit = prorate(old_total, 0, period, at, billed_until, increment=increment).credit
    new_period = Period(at, period_boundary(at, new_interval, 1))
    return ChangeNow(Proration(credit=credit, charge=new_total, fraction=Fraction(1)), at, 0,
                     new_period, Period(period.start, billed_until or period.end))
