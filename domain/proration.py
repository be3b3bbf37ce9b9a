"""Proration of a mid-period change.

At instant ``at`` inside the period ``[start, end)``, a change from price ``old`` to price
``new`` (each the whole period's amount, quantity included) gives two invoice lines:

- a credit for the unused part of the old price: ``-round(old * remaining / period)``;
- a charge for the rest of the period at the new price: ``round(new * remaining / period)``;

where ``remaining / period`` is the exact ratio of the period's remaining time to its
length, and each line is rounded half-even to whole minor units on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from .money import round_half_even
from .periods import Period


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


def _microseconds(delta_start: datetime, delta_end: datetime) -> int:
    delta = delta_end - delta_start
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def remaining_fraction(period: Period, at: datetime) -> Fraction:
    """The exact share of ``period`` left at ``at`` (1 at its start, 0 at its end)."""
    if not period.start <= at <= period.end:
        raise ValueError("proration instant outside the period")
    total = _microseconds(period.start, period.end)
    if total <= 0:
        raise ValueError("empty period")
    return Fraction(_microseconds(at, period.end), total)


def prorate(old_amount: int, new_amount: int, period: Period, at: datetime) -> Proration:
    """The credit and charge lines of a change from ``old_amount`` to ``new_amount`` at ``at``."""
    fraction = remaining_fraction(period, at)
    credit = -round_half_even(old_amount * fraction)
    charge = round_half_even(new_amount * fraction)
    return Proration(credit=credit, charge=charge, fraction=fraction)
