"""A subscriber's MRR over time, as pure functions over public envelopes.

One subscription's MRR (its state folded from its events, its MRR at an instant) is
:mod:`subledger.domain.subscription_mrr`, whose names this module also offers. Here its
subscriptions are added up into the subscriber's timeline: one point per instant its MRR may
change. The projections fold these functions over the log; nothing here does I/O.

The timeline is a fold that can be resumed (:func:`fold_timeline`): from the state after the
events effective up to an instant (:class:`TimelineState`), the events effective after it give
the rest of the timeline, the very points a fold from the first event gives. A read model keeps
that state per subscriber, so a new event costs the events of its own instant, not the
subscriber's whole history.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from itertools import groupby

from .subscription_mrr import (
    SUBSCRIPTION_EVENT_TYPES,
    ZERO,
    Coupon,
    Envelope,
    Number,
    SubscriptionMrr,
    aggregate_mrr,
    change_points,
    fold_subscription,
    mrr_at,
)
from .time import parse_instant

__all__ = [
    "SUBSCRIPTION_EVENT_TYPES", "ZERO", "Coupon", "Envelope", "MrrPoint", "Number",
    "SubscriptionMrr", "TimelineState", "aggregate_mrr", "change_points", "fold_subscription",
    "fold_timeline", "mrr_as_of", "mrr_at", "mrr_before", "mrr_timeline",
]


@dataclass(frozen=True)
class MrrPoint:
    """A subscriber's MRR per currency from ``at`` until the next point."""

    at: datetime
    mrr: Mapping[str, Fraction]
    """Per currency, every currency the subscriber has had a subscription in (0 included)."""
    event_ids: tuple[str, ...]
    """The events effective at ``at``, in ledger order, then the ``CouponApplied`` of any
    coupon that ends at ``at``."""


@dataclass(frozen=True)
class TimelineState:
    """The timeline's fold after every event effective at or before ``at`` (None: before
    the first event), and before any coupon end after ``at``."""

    at: datetime | None = None
    states: Mapping[str, SubscriptionMrr] = field(default_factory=dict)
    """Each subscription's state, by subscription id."""
    currencies: tuple[str, ...] = ()
    """The currencies of the subscriber's subscriptions, in the order they first appeared."""


def mrr_timeline(envelopes: Iterable[Envelope], *, as_of: datetime | None = None) -> list[MrrPoint]:
    """One subscriber's MRR after each instant it may change, in effective order.

    ``envelopes``: the subscriber's history (``GET /subscribers/{id}/history``); events that
    are not of a subscription are skipped. They are ordered by ``(effective_at, position)``:
    two subscriptions of one subscriber may be recorded out of effective order (a backdated
    second subscription), while each subscription's own events are in effective order. One
    point per distinct ``effective_at`` (its events all applied), plus one at each coupon end
    that changes MRR between events. ``as_of``: only events effective at or before it, and
    coupon ends up to it; None = every event and every coupon end still pending.
    """
    points, _ = fold_timeline(TimelineState(), envelopes, as_of=as_of, keep_states=False)
    return points


def fold_timeline(start: TimelineState, envelopes: Iterable[Envelope], *, as_of: datetime | None = None,
                  keep_states: bool = True) -> tuple[list[MrrPoint], list[TimelineState]]:
    """The timeline's points after ``start.at``, from ``start`` and the subscriber's events
    effective after it (see :func:`mrr_timeline`), and the state after each instant of
    those events (``keep_states``; else none). Raises ``ValueError`` for an event effective
    at or before ``start.at``: its instant's point is already made."""
    events = [e for e in envelopes if e["type"] in SUBSCRIPTION_EVENT_TYPES]
    subscribers = {e.get("subscriber_id") for e in events}
    if len(subscribers) > 1:
        raise ValueError(f"a timeline is one subscriber's; got {sorted(map(str, subscribers))}")
    keyed = sorted(((parse_instant(e["effective_at"]), int(e["position"]), e) for e in events), key=lambda k: k[:2])
    if as_of is not None:
        keyed = [k for k in keyed if k[0] <= as_of]
    if keyed and start.at is not None and keyed[0][0] <= start.at:
        raise ValueError(f"an event effective at {keyed[0][0]} resumes a timeline made up to {start.at}")
    fold = _Fold(start)
    kept: list[TimelineState] = []
    for at, group in groupby(keyed, key=lambda k: k[0]):
        fold.emit_coupon_ends(at, inclusive=False)
        fold.apply(at, [envelope for _at, _position, envelope in group])
        if keep_states:
            kept.append(TimelineState(at, dict(fold.states), tuple(fold.currencies)))
    fold.emit_coupon_ends(as_of, inclusive=True)
    return fold.points, kept


class _Fold:
    """The working state of :func:`fold_timeline`."""

    def __init__(self, start: TimelineState) -> None:
        self.states = dict(start.states)
        self.currencies = list(start.currencies)
        self.last = start.at
        self.points: list[MrrPoint] = []

    def total(self, instant: datetime) -> dict[str, Fraction]:
        sums = dict.fromkeys(self.currencies, ZERO)
        for state in self.states.values():
            mrr = mrr_at(state, instant)
            if mrr:  # most states are not billed: adding a zero Fraction still costs a gcd
                sums[state.currency] += mrr
        return sums

    def coupon_ends(self, after: datetime | None, before: datetime | None, *,
                    inclusive: bool) -> dict[datetime, list[str]]:
        """Pending coupon ends in (after, before) (or (after, before]), with their causes."""
        ends: dict[datetime, list[str]] = {}
        for state in self.states.values():
            for instant in change_points(state):
                if after is not None and instant <= after:
                    continue
                if before is not None and (instant > before or (instant == before and not inclusive)):
                    continue
                assert state.coupon is not None
                ends.setdefault(instant, []).append(state.coupon.event_id)
        return ends

    def emit_coupon_ends(self, before: datetime | None, *, inclusive: bool) -> None:
        for instant, causes in sorted(self.coupon_ends(self.last, before, inclusive=inclusive).items()):
            self._point(MrrPoint(instant, self.total(instant), tuple(causes)))

    def apply(self, at: datetime, envelopes: list[Envelope]) -> None:
        """The events effective at ``at``, in ledger order: one point."""
        ending_now = self.coupon_ends(None, at, inclusive=True).get(at, [])
        ids: list[str] = []
        for envelope in envelopes:
            sid = str(envelope["aggregate_id"])
            self.states[sid] = fold_subscription(self.states.get(sid), envelope)
            if self.states[sid].currency not in self.currencies:
                self.currencies.append(self.states[sid].currency)
            ids.append(str(envelope["event_id"]))
        self._point(MrrPoint(at, self.total(at), tuple(ids + ending_now)))

    def _point(self, point: MrrPoint) -> None:
        self.points.append(point)
        self.last = point.at


def mrr_as_of(timeline: Sequence[MrrPoint], instant: datetime) -> dict[str, Fraction]:
    """The MRR per currency as of ``instant``: after every event effective at or before it."""
    index = bisect.bisect_right([p.at for p in timeline], instant)
    return dict(timeline[index - 1].mrr) if index else {}


def mrr_before(timeline: Sequence[MrrPoint], instant: datetime) -> dict[str, Fraction]:
    """The MRR per currency just before ``instant`` (events effective strictly earlier): the
    opening MRR of a period starting at ``instant``, and the closing MRR of one ending there."""
    index = bisect.bisect_left([p.at for p in timeline], instant)
    return dict(timeline[index - 1].mrr) if index else {}
