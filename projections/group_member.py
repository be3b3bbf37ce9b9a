"""A projector that scales out: one member of a Kafka consumer group over ``<prefix>.events``.

The events topic is keyed by subscriber, so a partition holds every event of its subscribers
in ledger order. A member applies what its partitions bring to the read models that need no
more than one subscriber's events (:data:`PARTITIONED`), with the models' own ``apply``, and
stores its partitions' offsets in the views' database (``view_group_offsets``) in the same
transaction as the rows: a crash anywhere applies a message exactly once. Kafka's own
committed offsets are never used; on (re)assignment a member seeks to the offsets it stored.
A message at or below the last position applied on its partition (a relay re-sending after
a crash) is dropped.

Catalog events (plans, prices, coupons) are keyed by their own id, so they land on one member
only: the partitioned models ignore them, and every model that reads them, or that numbers
or sums across subscribers (``mrr``, ``revenue``, ``invoices``), stays on the log-following
projector (docs/scaling.md).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from subledger.contract.messages import EVENTS, topic_name

from .follow import Follower
from .runner import ReadModel
from .store import ViewCursor, ViewStore

logger = logging.getLogger(__name__)

OFFSETS = "view_group_offsets"
PARTITIONED = ("subscriptions",)
"""The read models a member may build: each row depends on one subscriber's events only."""
POLL_MS = 500
MAX_RECORDS = 2000

ConsumerFactory = Callable[[Callable[[Sequence[Any]], None]], Any]
"""``make(on_assigned)``: a kafka-python consumer subscribed to the events topic, calling
``on_assigned(partitions)`` on each assignment (see :func:`kafka_consumer`)."""


class GroupMember:
    """One member of the projector group (see the module's doc)."""

    def __init__(self, store: ViewStore, models: Sequence[ReadModel], *, group: str,
                 prefix: str, consumer: ConsumerFactory, max_records: int = MAX_RECORDS) -> None:
        wrong = [m.name for m in models if m.name not in PARTITIONED]
        if wrong:
            raise ValueError(f"not partitioned by subscriber, stays on the log: {', '.join(wrong)}")
        self.store = store
        self.models = list(models)
        self.group = group
        self.topic = topic_name(prefix, EVENTS)
        self.max_records = max_records
        with store.creating_tables() as tx:
            tx.execute(f"CREATE TABLE IF NOT EXISTS {OFFSETS} (grp TEXT NOT NULL, topic TEXT"
                       " NOT NULL, part INTEGER NOT NULL, next_offset BIGINT NOT NULL,"
                       " position BIGINT NOT NULL, PRIMARY KEY (grp, topic, part))")
            for model in self.models:
                model.create(tx)
        self.consumer = consumer(self.seek_stored)

    def stored(self, tx: ViewCursor | None = None) -> dict[int, tuple[int, int]]:
        """partition -> (next offset, last position applied), as this group stored them
        (inside ``tx``, locked, when given)."""
        if tx is None:
            with self.store.transaction() as own:
                return self.stored(own)
        lock = " FOR UPDATE" if self.store.postgres else ""
        rows = tx.execute(f"SELECT part, next_offset, position FROM {OFFSETS}"
                          f" WHERE grp = ? AND topic = ?{lock}", (self.group, self.topic)).fetchall()
        return {int(p): (int(o), int(pos)) for p, o, pos in rows}

    def run_once(self) -> int:
        """Apply one poll's messages; returns how many were applied (0: nothing came).
        The stored offsets are read again, locked, in the transaction that writes: a member
        that lost a partition meanwhile cannot apply what its successor already did."""
        polled = self.consumer.poll(timeout_ms=POLL_MS, max_records=self.max_records)
        if not polled:
            return 0
        with self.store.transaction() as tx:
            fresh, moved = _fresh(polled, self.stored(tx))
            for model in self.models:
                model.apply(tx, fresh)
            self._store_offsets(tx, moved)
        return max(len(fresh), 1)

    def catch_up(self) -> int:
        """Poll until the member has its partitions and a poll brings nothing new; returns
        the messages applied (``subledger project --from-kafka --once``)."""
        applied = 0
        while (got := self.run_once()) or not self.consumer.assignment():
            applied += got
        return applied

    def _store_offsets(self, tx: ViewCursor, moved: dict[int, tuple[int, int]]) -> None:
        tx.upsert(OFFSETS, ("grp", "topic", "part", "next_offset", "position"),
                  [(self.group, self.topic, p, o, pos) for p, (o, pos) in sorted(moved.items())],
                  keys=3)

    def seek_stored(self, partitions: Sequence[Any]) -> None:
        """Start each newly assigned partition where this group's stored offset says."""
        stored = self.stored()
        for tp in partitions:
            self.consumer.seek(tp, stored.get(tp.partition, (0, 0))[0])

    def follower(self, *, idle: float = 0.0) -> Follower:
        """The member as :func:`follow` runs it (a poll already waits for news)."""
        return Follower(f"projector member {self.group}", self.run_once, idle=idle, log=logger)

    def close(self) -> None:
        self.consumer.close(autocommit=False)


def _fresh(polled: dict[Any, list[Any]], stored: dict[int, tuple[int, int]],
           ) -> tuple[list[dict[str, Any]], dict[int, tuple[int, int]]]:
    """The envelopes of ``polled`` not applied yet (in position order), and each partition's
    (next offset, last position) once they are."""
    fresh: list[dict[str, Any]] = []
    moved: dict[int, tuple[int, int]] = {}
    for partition, records in polled.items():
        offset, last = stored.get(partition.partition, (0, 0))
        for record in records:
            if record.offset < offset:
                continue  # applied by this group already (by another member, before a rebalance)
            offset = record.offset + 1
            envelope = json.loads(record.value)
            if envelope["position"] > last:  # else a re-send by a relay that crashed
                fresh.append(envelope)
                last = envelope["position"]
        moved[partition.partition] = (offset, last)
    fresh.sort(key=lambda e: e["position"])
    return fresh, moved


def kafka_consumer(bootstrap: Sequence[str], topic: str, group: str, *,
                   session_timeout_ms: int = 10_000) -> ConsumerFactory:
    """A factory of kafka-python consumers of ``topic`` in ``group``: no auto-commit (the
    offsets live in the views), and heartbeats a third of the session timeout."""
    def make(on_assigned: Callable[[Sequence[Any]], None]) -> Any:
        from kafka import ConsumerRebalanceListener, KafkaConsumer

        class Listener(ConsumerRebalanceListener):  # type: ignore[misc]
            def on_partitions_revoked(self, revoked: Any) -> None:
                """Nothing to flush: each poll's rows and offsets committed together."""

            def on_partitions_assigned(self, assigned: Any) -> None:
                on_assigned(list(assigned))

        consumer = KafkaConsumer(
            bootstrap_servers=list(bootstrap), group_id=group, enable_auto_commit=False,
            auto_offset_reset="earliest", session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=max(session_timeout_ms // 3, 100), client_id=f"subledger-{group}")
        consumer.subscribe([topic], listener=Listener())
        return consumer
    return make
