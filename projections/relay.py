"""The Kafka relay: a projection whose output is topics instead of tables.

A cursor loop per stream: read after the last acknowledged position,
publish, wait for the broker to acknowledge every message (``acks=all``, idempotent
producer), and only then advance the checkpoint. A crash before the checkpoint moves re-sends
the batch; nothing is ever skipped. Messages are sent in position order through one producer,
so per key (one partition) they arrive in ledger order; a re-send after a crash starts again
from the checkpoint, and consumers drop what they already handled by ``position``.

Two streams, each with its checkpoint in the views' checkpoint table:

- ``relay``: the log itself, to ``<prefix>.events`` (personal fields null),
  ``<prefix>.subscriptions`` (the state of a subscription after each of its events, folded
  from its stored events by the domain's own aggregate, with a cache so a page does not
  reload every subscription) and ``<prefix>.subscribers`` (a subscriber's personal details
  after each of their events, a tombstone once forgotten; read through the store's mapper,
  so details whose key was shredded meanwhile go out null);
- ``relay.mrr-movements``: the movements of the ``mrr`` read model, in the order of the
  positions at which they were learned or retracted; it never passes the ``mrr`` model's own
  checkpoint, so it streams only what the projection has committed.

The broker being down never blocks commands (the relay runs apart from them and only
reads the log); it is logged, retried with backoff, and shown in ``/readyz`` through the
``subledger_workers`` table. On PostgreSQL one relay per topic prefix is active at a time
(a session advisory lock); others wait on standby.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any
from uuid import UUID

from subledger.contract.bodies import details_body, subscription_body
from subledger.contract.messages import (
    Message,
    event_message,
    movement_message,
    subscriber_message,
    subscription_message,
)
from subledger.domain.money import round_minor
from subledger.domain.subscriber import Subscriber
from subledger.domain.subscription import Subscription
from subledger.store.log import EventLog

from .follow import Follower
from .kafka_publisher import BrokerUnavailable, Publisher, TopicSpec
from .mrr import MrrModel
from .store import CHECKPOINTS, WORKERS, ViewCursor, ViewStore

logger = logging.getLogger(__name__)

LOG_STREAM = "relay"
MOVEMENTS_STREAM = "relay.mrr-movements"
STREAMS = (LOG_STREAM, MOVEMENTS_STREAM)
RELAY_VERSION = 1
PAGE_SIZE = 1000
MOVEMENT_WINDOW = 2000
"""Positions per movements batch (a backdated event can re-derive many movements)."""
CACHE_SIZE = 20_000
"""Subscriptions whose latest state the relay keeps in memory between pages."""
IDLE_WAIT = 0.5
"""Seconds a caught-up relay waits before it looks at the log again."""


class Relay:
    """Streams the log and the ``mrr`` model's movements to Kafka (see the module's doc)."""

    def __init__(
        self, log: EventLog, store: ViewStore, publisher: Publisher, *, prefix: str,
        topics: Sequence[TopicSpec], page_size: int = PAGE_SIZE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.log = log
        self.store = store
        self.publisher = publisher
        self.prefix = prefix
        self.topics = list(topics)
        self.page_size = page_size
        self.clock = clock
        self._topics_ready = False
        self._states: OrderedDict[UUID, Subscription] = OrderedDict()
        self._leader = not store.postgres
        self._session = store.session
        self._standing_by = False
        self._status: tuple[str, str | None] | None = None
        with store.transaction() as tx:
            for stream in STREAMS:
                if tx.execute(f"SELECT 1 FROM {CHECKPOINTS} WHERE name = ?", (stream,)).fetchone() is None:
                    store.set_checkpoint(tx, stream, 0, RELAY_VERSION)

    # -- the loop -------------------------------------------------------------------------

    def run_once(self) -> int:
        """Relay everything there is to relay; returns the messages sent. Raises
        :class:`BrokerUnavailable` when the broker does not acknowledge."""
        if not self._lead():
            return 0
        if not self._topics_ready:
            self.publisher.ensure_topics(self.topics)
            self._topics_ready = True
        sent = 0
        while True:
            batch = self._log_batch() + self._movements_batch()
            if batch == 0:
                break
            sent += batch
        self._report("ok", None)
        return sent

    def follower(self, *, idle: float = IDLE_WAIT) -> Follower:
        """The relay as :func:`follow` runs it: a broker that is down is recorded for
        ``/readyz`` and retried with backoff; the log keeps growing meanwhile and is caught up
        after (a good round records ``ok`` again)."""
        return Follower("relay", self.run_once, idle=idle, failed=self._failed)

    def _failed(self, error: Exception, retry_in: float) -> None:
        if isinstance(error, BrokerUnavailable):
            self._report("broker_unavailable", str(error))
            logger.warning("Kafka unavailable (%s); retrying in %.1fs", error, retry_in)
        else:
            self._report("error", f"{type(error).__name__}: {error}")
            logger.exception("relay failed; retrying in %.1fs", retry_in)

    def close(self) -> None:
        self.publisher.close()

    # -- the two streams --------------------------------------------------------------------

    def _log_batch(self) -> int:
        after = self._checkpoint(LOG_STREAM)
        page, events = self.log.read_with_events(after, self.page_size)
        if page.last_position is None:
            return 0
        messages: list[Message] = []
        for envelope, event in zip(page.items, events, strict=True):
            messages.append(event_message(self.prefix, envelope))
            if isinstance(event, Subscription.Event):
                body = subscription_body(self._state_after(event))
                messages.append(subscription_message(self.prefix, envelope, body))
            elif isinstance(event, Subscriber.Event):
                subscriber = self.log.aggregate(event.originator_id, event.originator_version)
                messages.append(subscriber_message(self.prefix, envelope, details_body(subscriber)))
        if not self._lead():
            return 0  # the session (and the lock with it) died while the batch was read
        self.publisher.publish(messages)
        self._advance(LOG_STREAM, after, page.last_position)
        return len(messages)

    def _state_after(self, event: Subscription.Event) -> Subscription:
        """The subscription right after ``event``: the cached state moved on by one event
        when the cache holds the one before, else folded again from the store."""
        aggregate_id, version = event.originator_id, event.originator_version
        state = self._states.pop(aggregate_id, None)
        if state is None or state.version != version - 1:
            state = self.log.aggregate(aggregate_id, version - 1) if version > 1 else None
        state = event.mutate(state)
        self._states[aggregate_id] = state
        if len(self._states) > CACHE_SIZE:
            self._states.popitem(last=False)
        return state

    def _movements_batch(self) -> int:
        after = self._checkpoint(MOVEMENTS_STREAM)
        projected = self._checkpoint(MrrModel.name)
        if projected <= after:
            return 0
        until = min(projected, after + MOVEMENT_WINDOW)
        rows = movement_rows(self.store, after, until)
        if not self._lead():
            return 0
        self.publisher.publish([movement_message(self.prefix, row) for row in rows])
        self._advance(MOVEMENTS_STREAM, after, until)
        return max(len(rows), 1)  # a window without movements still moved the cursor

    # -- checkpoints, leadership, status ----------------------------------------------------

    def _checkpoint(self, name: str) -> int:
        found = self.store.checkpoint(name)
        return 0 if found is None else found[0]

    def _lead(self) -> bool:
        """On PostgreSQL, hold the relay's advisory lock (for this topic prefix) on the
        store's session; a relay without it stands by. The lock goes with its session: when
        the store had to reconnect, it is taken again before anything is sent."""
        if not self.store.postgres:
            return True
        with self.store.transaction() as tx:  # reconnects first if the session died
            if self._leader and self._session == self.store.session:
                return True
            self._session = self.store.session
            got = tx.execute("SELECT pg_try_advisory_lock(hashtext(?))",
                             (f"subledger-relay:{self.prefix}",)).fetchone()
        self._leader = bool(got and got[0])
        if not self._leader and not self._standing_by:
            logger.info("another relay streams prefix %s; standing by", self.prefix)
        self._standing_by = not self._leader
        return self._leader

    def _advance(self, stream: str, after: int, until: int) -> None:
        """Move ``stream``'s checkpoint past a batch the broker acknowledged. A relay that
        was reported down is reported ``ok`` in the same transaction: ``/readyz`` never shows
        a relay caught up on a broker it still calls unavailable."""
        ok = ("ok", None)
        if self._status == ok:
            self.store.advance(stream, after, until, RELAY_VERSION)
            return
        if self.store.advance(stream, after, until, RELAY_VERSION,
                              write=lambda tx: record_status(tx, LOG_STREAM, *ok, self.clock())):
            self._status = ok

    def _report(self, status: str, detail: str | None) -> None:
        if (status, detail) == self._status:
            return
        with self.store.transaction() as tx:
            record_status(tx, LOG_STREAM, status, detail, self.clock())
        self._status = (status, detail)

    def lag(self) -> dict[str, int]:
        return relay_lag(self.store, self.log.max_position())


def record_status(tx: ViewCursor, name: str, status: str, detail: str | None,
                  now: datetime) -> None:
    tx.upsert(WORKERS, ("name", "status", "detail", "updated_at"),
              [(name, status, detail, now.isoformat())])


def relay_lag(store: ViewStore, head: int) -> dict[str, int]:
    """Events each relay stream has still to send (the movements stream counts from the
    log's head too: it follows the ``mrr`` model, which follows the log)."""
    out = {}
    for stream in STREAMS:
        found = store.checkpoint(stream)
        if found is not None:
            out[stream] = max(0, head - found[0])
    return out


def movement_rows(store: ViewStore, after: int, until: int) -> list[dict[str, Any]]:
    """The movements learned or retracted at positions in ``(after, until]``, in the order
    they are streamed: by position, then subscriber, currency, instant, kind; each with its
    ``sequence`` among those of its position."""
    columns = ("subscriber_id, currency, at, kind, amount, mrr_before, mrr_after, event_ids")
    with store.transaction() as tx:
        learned = tx.execute(
            f"SELECT known_position, 0, recorded_from, {columns} FROM view_mrr_movements"
            " WHERE known_position > ? AND known_position <= ?", (after, until)).fetchall()
        retracted = tx.execute(
            f"SELECT retracted_position, 1, recorded_to, {columns} FROM view_mrr_movements"
            " WHERE retracted_position > ? AND retracted_position <= ?", (after, until)).fetchall()
    rows = sorted(learned + retracted, key=lambda r: (r[0], *r[3:7], r[1], *r[7:]))
    out: list[dict[str, Any]] = []
    sequence = 0
    for i, row in enumerate(rows):
        sequence = sequence + 1 if i and rows[i - 1][0] == row[0] else 0
        position, retracted_flag, recorded_at, subscriber_id, currency, at, kind, amount, before, after_, ids = row
        out.append({
            "position": int(position), "sequence": sequence, "subscriber_id": subscriber_id,
            "effective_at": at, "kind": kind, "amount": _money(amount), "currency": currency,
            "mrr_before": _money(before), "mrr_after": _money(after_),
            "event_ids": json.loads(ids), "retracted": bool(retracted_flag),
            "recorded_at": recorded_at,
        })
    return out


def _money(fraction_text: str) -> str:
    return str(round_minor(Fraction(fraction_text)))
