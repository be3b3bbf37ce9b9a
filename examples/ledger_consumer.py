"""A consumer of subledger's event stream: a kafka-python consumer group that drops duplicates.

The relay delivers at least once: after a crash it sends a batch again. Within a partition
positions only grow, except for such a re-send, so a consumer that remembers the last
position it handled per partition can drop every message at or below it. This example keeps
those positions in a SQLite file and moves them in the same transaction as its own effect
(here: a row per handled event), so a crash of the consumer itself loses nothing and
double-counts nothing either. Offsets are committed to Kafka after, as a hint of where to
resume; the positions are the truth.

    python examples/ledger_consumer.py --bootstrap localhost:9092 --group crm-sync \\
        --state crm-sync.db [--topic subledger.events] [--idle-exit SECONDS] \\
        [--session-timeout-ms 10000]

Prints one line per event handled: ``position type subscriber_id``. Movements
(``subledger.mrr-movements``) use the pair ``(position, sequence)`` the same way.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from kafka import KafkaConsumer, OffsetAndMetadata


class Positions:
    """The last ``(position, sequence)`` handled per partition, and the consumer's effects,
    in one SQLite file."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("CREATE TABLE IF NOT EXISTS positions (topic TEXT, partition INTEGER,"
                        " position INTEGER, sequence INTEGER, PRIMARY KEY (topic, partition))")
        self.db.execute("CREATE TABLE IF NOT EXISTS handled (position INTEGER, sequence INTEGER,"
                        " topic TEXT, body TEXT)")

    def last(self, topic: str, partition: int) -> tuple[int, int]:
        row = self.db.execute("SELECT position, sequence FROM positions WHERE topic = ?"
                              " AND partition = ?", (topic, partition)).fetchone()
        return (0, -1) if row is None else (row[0], row[1])

    def handle(self, topic: str, partition: int, value: dict[str, Any],
               effect: Callable[[sqlite3.Connection, dict[str, Any]], None]) -> bool:
        """Apply ``effect`` once per message: False for a duplicate."""
        mark = (int(value["position"]), int(value.get("sequence", 0)))
        self.db.execute("BEGIN IMMEDIATE")
        try:
            if mark <= self.last(topic, partition):
                self.db.execute("ROLLBACK")
                return False
            effect(self.db, value)
            self.db.execute("INSERT INTO positions VALUES (?, ?, ?, ?) ON CONFLICT (topic, partition)"
                            " DO UPDATE SET position = excluded.position, sequence = excluded.sequence",
                            (topic, partition, *mark))
            self.db.execute("COMMIT")
            return True
        except BaseException:
            self.db.execute("ROLLBACK")
            raise


def record(db: sqlite3.Connection, value: dict[str, Any]) -> None:
    """The example's effect: remember the event (a real consumer updates its CRM here)."""
    db.execute("INSERT INTO handled VALUES (?, ?, ?, ?)",
               (value["position"], value.get("sequence", 0), value.get("type"), json.dumps(value)))


def consume(bootstrap: str, topic: str, group: str, state: str, *, idle_exit: float | None,
            session_timeout_ms: int = 10000, out: Any = sys.stdout) -> int:
    positions = Positions(state)
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
        auto_offset_reset="earliest", session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=max(session_timeout_ms // 3, 100),
    )
    handled = 0
    idle_since = time.monotonic()
    try:
        while True:
            batches = consumer.poll(timeout_ms=500)
            if not batches:
                if idle_exit is not None and time.monotonic() - idle_since > idle_exit:
                    return handled
                continue
            idle_since = time.monotonic()
            offsets = {}
            for partition, records in batches.items():
                for message in records:
                    value = json.loads(message.value)
                    if positions.handle(topic, partition.partition, value, record):
                        handled += 1
                        print(value["position"], value.get("type", value.get("kind")),
                              value.get("subscriber_id"), file=out, flush=True)
                offsets[partition] = OffsetAndMetadata(records[-1].offset + 1, "", -1)
            consumer.commit(offsets)
    finally:
        consumer.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap", required=True, help="host:port of a broker")
    parser.add_argument("--topic", default="subledger.events")
    parser.add_argument("--group", required=True, help="the consumer group id")
    parser.add_argument("--state", required=True, help="SQLite file of positions and effects")
    parser.add_argument("--idle-exit", type=float, default=None,
                        help="exit after this many seconds without a message")
    parser.add_argument("--session-timeout-ms", type=int, default=10000)
    args = parser.parse_args(argv)
    consume(args.bootstrap, args.topic, args.group, args.state, idle_exit=args.idle_exit,
            session_timeout_ms=args.session_timeout_ms)
    return 0


if __name__ == "__main__":
    sys.exit(main())

