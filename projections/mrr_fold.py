"""The ``mrr`` model's fold of each subscriber, kept between beliefs so that each event is
folded once.

A belief (the subscriber's events the ledger learned at one instant) used to derive the
subscriber's timeline and movements from their whole history again: quadratic in events per
subscriber. :class:`SubscriberFold` keeps where the fold stands instead: the timeline's state
after every instant but the last (``domain.mrr.TimelineState``), the movement scan there
(``domain.movements.MovementScan``) and the events of the last instant. A belief whose events
are all effective after the last instant folds only those events (from the state after the
last instant, also kept); one with an event at the last instant folds that instant's events
again (:func:`advance`). Either yields the movements from where it started: the rows of the
subscriber believed until then are the same up to that instant, so only later ones can
change.

An event effective at or before that state's instant (a backdated one) starts the
subscriber's fold again from their first event, read from the log: rare, and exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from subledger.domain.movements import Movement, MovementScan, scan_movements
from subledger.domain.mrr import SUBSCRIPTION_EVENT_TYPES, TimelineState, fold_timeline
from subledger.domain.time import parse_instant

from .subscriber_cache import History, SubscriberCache

FOLD_CACHE_LIMIT = 200_000
"""Weight of the folds a model keeps (one per subscriber plus one per event of its last
instant: about 3 KB each), beyond which the least recently used are folded again from the
log when their next event comes."""


@dataclass(frozen=True)
class SubscriberFold:
    base: TimelineState = field(default_factory=TimelineState)
    """The timeline's state after every instant before the last."""
    scan: MovementScan = field(default_factory=MovementScan)
    """The movement scan after the points up to ``base.at``."""
    last: tuple[dict[str, Any], ...] = ()
    """The subscription events effective at the last instant, in log order."""
    head: TimelineState = field(default_factory=TimelineState)
    """The timeline's state after the last instant too (``base`` with ``last`` folded)."""
    head_scan: MovementScan = field(default_factory=MovementScan)
    """The movement scan after the points up to ``head.at``."""
    positions: tuple[tuple[str, int], ...] = ()
    """(event id, position) of each ``CouponApplied``: a coupon's end names it."""

    def takes(self, events: list[dict[str, Any]]) -> bool:
        """Whether every event is effective after ``base`` (else the fold starts again)."""
        return _after(self.base.at, events)


def _after(instant: datetime | None, events: list[dict[str, Any]]) -> bool:
    return instant is None or all(parse_instant(e["effective_at"]) > instant for e in events)


@dataclass(frozen=True)
class Advanced:
    fold: SubscriberFold
    """The fold after the belief."""
    movements: list[Movement]
    """The subscriber's movements after ``since`` (all of them when None)."""
    positions: dict[str, int]
    """Event id -> position of every event a movement in ``movements`` names."""
    since: datetime | None


def advance(fold: SubscriberFold, events: list[dict[str, Any]]) -> Advanced:
    """``fold`` after ``events`` (the subscriber's subscription events the belief adds, in
    log order, each effective after ``fold.base``: :meth:`SubscriberFold.takes`). Events all
    effective after the last instant continue from ``head``; one at the last instant folds
    that instant's events again, from ``base``."""
    new = [e for e in events if e["type"] in SUBSCRIPTION_EVENT_TYPES]
    if fold.last and _after(fold.head.at, new):
        start, scan, tail = fold.head, fold.head_scan, new
    else:
        start, scan, tail = fold.base, fold.scan, [*fold.last, *new]
    points, states = fold_timeline(start, tail)
    base = states[-2] if len(states) > 1 else start
    head = states[-1] if states else start
    cut_base = sum(1 for p in points if base.at is not None and p.at <= base.at)
    cut_head = sum(1 for p in points if head.at is not None and p.at <= head.at)
    found: list[Movement] = []
    scans = []
    for piece in (points[:cut_base], points[cut_base:cut_head], points[cut_head:]):
        moved, scan = scan_movements(scan, piece)
        found += moved
        scans.append(scan)
    last = tuple(e for e in tail if head.at is not None and parse_instant(e["effective_at"]) == head.at)
    coupons = dict(fold.positions)
    coupons.update((str(e["event_id"]), int(e["position"])) for e in new if e["type"] == "CouponApplied")
    positions = {**coupons, **{str(e["event_id"]): int(e["position"]) for e in tail}}
    folded = SubscriberFold(base, scans[0], last, head, scans[1], tuple(coupons.items()))
    return Advanced(folded, found, positions, start.at)


class SubscriberFolds(SubscriberCache[SubscriberFold]):
    """Each subscriber's :class:`SubscriberFold`, trusted as ``SubscriberCache`` says; a
    subscriber it does not hold is folded from their history in the log."""

    def __init__(self, read: History, *, limit: int = FOLD_CACHE_LIMIT) -> None:
        super().__init__(limit=limit)
        self.read = read
        self.restarts = 0
        """Beliefs with an event effective at or before the fold's state (backdated)."""

    def believe(self, subscriber_id: str, events: list[dict[str, Any]], up_to: int) -> Advanced:
        """The subscriber's fold after the belief of ``events`` (the last at position
        ``up_to``), kept for the next one."""
        fold = self.get(subscriber_id)
        if fold is not None and fold.takes(events):
            self.hits += 1
        elif fold is None and self.unseen(subscriber_id):
            fold = SubscriberFold()
        else:
            if fold is None:
                self.misses += 1
            else:
                self.restarts += 1
            fold = SubscriberFold()
            events = [e for e in self.read(subscriber_id, up_to) if e["position"] <= up_to]
        advanced = advance(fold, events)
        self.put(subscriber_id, advanced.fold, 1 + len(advanced.fold.last))
        return advanced
