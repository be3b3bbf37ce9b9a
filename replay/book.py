"""The book: what the built-in figures are folded from, gathered in one pass over the log.

The metric definitions are the domain's folds over envelopes (``domain/mrr.py``,
``movements.py``, ``revenue.py``). They need a subscriber's history in effective order, and
the log is in recorded order (a backdated second subscription comes later in the log than
events it precedes), so the book keeps, per subscriber, the envelopes of the events that
bear on MRR, and, per subscription, those that bear on cash and revenue; the figures are
folded from them once the pass is over. Other events (renewals, failed charges, schedules)
are not kept: they change no figure. Memory grows with those envelopes, not with the log.

Equality with the read models' reports over random histories is tested
(``tests/replay/test_builtin_figures.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from subledger.domain.lifecycle import STATUS_CARRIED_BY, STATUS_SET_BY
from subledger.domain.movements import Movement, movements
from subledger.domain.mrr import MrrPoint, mrr_timeline
from subledger.projections.revenue import REVENUE_EVENTS

from .reader import LoggedEvent

Envelope = dict[str, Any]

MRR_EVENTS = frozenset({"SubscriptionStarted", "SubscriptionChanged", "CouponApplied",
                        *STATUS_SET_BY, *STATUS_CARRIED_BY})
"""The events a subscription's MRR depends on: its terms, its coupon and its status."""
CASH_EVENTS = REVENUE_EVENTS
"""The events cash and recognized revenue are made of (the revenue model's)."""

Reprice = Callable[[Envelope], Envelope]
"""An envelope as another price catalog would have recorded it (what-if); the identity
for the real book."""


def _same(envelope: Envelope) -> Envelope:
    return envelope


@dataclass
class Book:
    """A fold (``initial``/``apply``/``finish``) gathering the book's envelopes."""

    mrr: bool = True
    cash: bool = True
    reprice: Reprice = _same
    subscribers: dict[str, list[Envelope]] = field(default_factory=lambda: defaultdict(list))
    """subscriber id -> the envelopes bearing on MRR of their subscriptions, in log order."""
    subscriptions: dict[str, list[Envelope]] = field(default_factory=lambda: defaultdict(list))
    """subscription id -> its envelopes bearing on cash and revenue, in log order."""
    position: int = 0

    def initial(self) -> Book:
        return Book(mrr=self.mrr, cash=self.cash, reprice=self.reprice)

    def apply(self, state: Book, logged: LoggedEvent) -> Book:
        kind = type(logged.event).__name__
        if state.mrr and kind in MRR_EVENTS:
            envelope = state.reprice(logged.envelope())
            state.subscribers[envelope["subscriber_id"]].append(envelope)
        elif state.cash and kind in CASH_EVENTS:
            envelope = state.reprice(logged.envelope())
            state.subscriptions[envelope["aggregate_id"]].append(envelope)
        state.position = logged.position
        return state

    def timelines(self, as_of: datetime | None = None) -> dict[str, list[MrrPoint]]:
        """Each subscriber's MRR timeline (``domain.mrr.mrr_timeline``), of the events
        effective by ``as_of`` (every one if None)."""
        return {subscriber: mrr_timeline(events, as_of=as_of) for subscriber, events in self.subscribers.items()}

    def cash_events(self) -> list[Envelope]:
        return [e for events in self.subscriptions.values() for e in events]

    def currencies(self, timelines: Mapping[str, list[MrrPoint]]) -> list[str]:
        """The currencies of the book: of every movement and every cash event (as the
        reports find them)."""
        found = {m.currency for t in timelines.values() for m in movements(t)}
        found |= {e["data"]["currency"] for e in self.cash_events()}
        return sorted(found)


def book_movements(timelines: Mapping[str, list[MrrPoint]]) -> list[tuple[str, Movement]]:
    """(subscriber id, movement) of every subscriber, ordered by instant then subscriber."""
    found = [(subscriber, m) for subscriber, t in timelines.items() for m in movements(t)]
    found.sort(key=lambda pair: (pair[1].at, pair[0], pair[1].currency))
    return found
