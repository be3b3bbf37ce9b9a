"""MRR movements, the MRR bridge of a period, and churn and retention rates (pure).

- Movements are per subscriber *and currency*: reports are per currency, so a subscriber's
  first MRR in EUR is ``new`` in the EUR book even if they once paid in USD.
- A period P = [start, end) opens with the MRR *before* ``start`` (events effective
  strictly earlier) and closes with the MRR before ``end``; its movements are those at
  instants in [start, end). Then MRR(end) = MRR(start) + new + expansion + reactivation -
  contraction - churn exactly, and one period's closing MRR is the next one's opening. A
  subscriber who signs up exactly at ``start`` is a ``new`` movement of P, not a customer
  at its start.
- Sums of movements add up to the MRR they explain with no rounding residue (exact
  ``Fraction``s); rates are rounded only when shown
  (:func:`~subledger.domain.money.round_rate`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import TypedDict

from .money import exact
from .mrr import ZERO, MrrPoint, Number, mrr_before

# -- movements -----------------------------------------------------------------------------

NEW = "new"
REACTIVATION = "reactivation"
EXPANSION = "expansion"
CONTRACTION = "contraction"
CHURN = "churn"
MOVEMENT_KINDS = (NEW, EXPANSION, REACTIVATION, CONTRACTION, CHURN)


@dataclass(frozen=True)
class Movement:
    """A change of a subscriber's MRR in one currency, from ``mrr_before`` to ``mrr_after``."""

    at: datetime
    kind: str
    amount: Fraction
    """Always > 0: b - a for new, reactivation and expansion, a - b for contraction and churn."""
    mrr_before: Fraction
    mrr_after: Fraction
    currency: str
    event_ids: tuple[str, ...]


def movement_kind(before: Fraction, after: Fraction, *, had_mrr: bool) -> str | None:
    """The kind of a change (docs/business-rules.md) from ``before`` to ``after`` (None: no change).
    ``had_mrr``: whether the subscriber ever had MRR > 0 before this change."""
    if before == after:
        return None
    if before == 0:
        return REACTIVATION if had_mrr else NEW
    if after == 0:
        return CHURN
    return EXPANSION if after > before else CONTRACTION


def movements(timeline: Iterable[MrrPoint]) -> list[Movement]:
    """Every MRR movement of one subscriber's timeline (from its first point), per currency.

    ``new`` only when the subscriber never had MRR > 0 in that currency before; a subscriber
    who churns, comes back and churns again has a ``reactivation`` and two ``churn``s.
    """
    return scan_movements(MovementScan(), timeline)[0]


@dataclass(frozen=True)
class MovementScan:
    """Where :func:`scan_movements` stands after some points of a timeline: the MRR of the
    last one, and the currencies in which the subscriber has had MRR > 0."""

    previous: Mapping[str, Fraction] = field(default_factory=dict)
    had_mrr: frozenset[str] = frozenset()


def scan_movements(start: MovementScan, points: Iterable[MrrPoint]) -> tuple[list[Movement], MovementScan]:
    """The movements of ``points`` (the timeline after those ``start`` has seen), and where
    the scan stands after them: a timeline's movements can be found piece by piece."""
    found: list[Movement] = []
    previous = start.previous
    had_mrr = set(start.had_mrr)
    for point in points:
        for currency in sorted(set(previous) | set(point.mrr)):
            before = previous.get(currency, ZERO)
            after = point.mrr.get(currency, ZERO)
            kind = movement_kind(before, after, had_mrr=currency in had_mrr)
            if kind is not None:
                found.append(Movement(point.at, kind, abs(after - before), before, after,
                                      currency, point.event_ids))
            if after > 0:
                had_mrr.add(currency)
        previous = point.mrr
    return found, MovementScan(previous, frozenset(had_mrr))


@dataclass(frozen=True)
class MrrBridge:
    """One subscriber's MRR over a period [start, end) in one currency, explained:
    ``mrr_end == mrr_start + new + expansion + reactivation - contraction - churn``."""

    currency: str
    start: datetime
    end: datetime
    mrr_start: Fraction
    new: Fraction
    expansion: Fraction
    reactivation: Fraction
    contraction: Fraction
    churn: Fraction
    churned_customers: int
    """The number of ``churn`` movements in the period."""
    mrr_end: Fraction


def bridge(timeline: Sequence[MrrPoint], currency: str, start: datetime, end: datetime) -> MrrBridge:
    """The subscriber's MRR bridge over [start, end): opening MRR before ``start``, the
    movements at instants in [start, end), closing MRR before ``end``."""
    if end < start:
        raise ValueError("a period ends no earlier than it starts")
    sums = dict.fromkeys(MOVEMENT_KINDS, ZERO)
    churned = 0
    for movement in movements(timeline):
        if movement.currency == currency and start <= movement.at < end:
            sums[movement.kind] += movement.amount
            if movement.kind == CHURN:
                churned += 1
    return MrrBridge(
        currency=currency, start=start, end=end,
        mrr_start=mrr_before(timeline, start).get(currency, ZERO),
        new=sums[NEW], expansion=sums[EXPANSION], reactivation=sums[REACTIVATION],
        contraction=sums[CONTRACTION], churn=sums[CHURN], churned_customers=churned,
        mrr_end=mrr_before(timeline, end).get(currency, ZERO),
    )


# -- churn and retention -------------------------------------------------------------------


class ChurnRates(TypedDict):
    customer_churn_rate: Fraction | None
    gross_mrr_churn_rate: Fraction | None
    net_mrr_churn_rate: Fraction | None
    net_revenue_retention: Fraction | None


def churn_rates(
    *,
    customers_start: int,
    churned_customers: int,
    mrr_start: Number,
    churn: Number,
    contraction: Number,
    expansion: Number,
    reactivation: Number,
) -> ChurnRates:
    """The rates of a period (docs/business-rules.md), exact; a rate whose denominator is 0 is None
    (never an error, never 0). Round with ``round_rate`` to show them.

    - customer_churn_rate = churned_customers / customers_start
    - gross_mrr_churn_rate = (churn + contraction) / mrr_start
    - net_mrr_churn_rate = (churn + contraction - expansion - reactivation) / mrr_start
    - net_revenue_retention = (mrr_start + expansion + reactivation - contraction - churn) / mrr_start
    """
    start = exact(mrr_start, "mrr_start")
    lost = exact(churn, "churn") + exact(contraction, "contraction")
    won = exact(expansion, "expansion") + exact(reactivation, "reactivation")

    def ratio(numerator: Fraction, denominator: Fraction) -> Fraction | None:
        return None if denominator == 0 else numerator / denominator

    return ChurnRates(
        customer_churn_rate=ratio(Fraction(churned_customers), Fraction(customers_start)),
        gross_mrr_churn_rate=ratio(lost, start),
        net_mrr_churn_rate=ratio(lost - won, start),
        net_revenue_retention=ratio(start + won - lost, start),
    )
