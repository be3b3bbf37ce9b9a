"""The log's proofs on PostgreSQL: the Merkle follower's rate, ``audit verify``'s rate, and
inclusion and consistency proof latency, on a book of at least ``--audit-events`` events.

The book is made by :mod:`bench.book`. Then, in the same run:

- baseline: a psycopg server-side cursor over the events table in log order, each row
  encoded as its version-1 leaf and hashed with SHA-256 (the least a tree over these rows
  can cost in Python);
- the Merkle follower catching up from an empty tree (leaves, subtrees, heads, checkpoint);
- ``audit verify``: the tree recomputed from the stored rows and compared with everything
  stored;
- proof latency: inclusion proofs of 500 random positions against the latest head, and
  consistency proofs between 500 random pairs of sizes, each a fresh transaction, as the
  API answers them (median and 99th percentile).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import UTC, datetime

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from subledger.audit.heads import HeadSigner
from subledger.audit.leaf import StoredRow, leaf_bytes
from subledger.audit.merkle import leaf_hash
from subledger.bootstrap import build_ledger, build_merkle_follower
from subledger.config import Settings
from subledger.contract.envelope import event_id
from subledger.projections.audit_tree import AuditTree
from subledger.projections.audit_verify import verify
from subledger.projections.store import ViewStore

from .book import FastBook
from .pg import scratch_database

SCHEMA = "bench_audit"
SAMPLES = 500
SEED = bytes(range(32))


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _settings(url: str) -> Settings:
    import base64

    return Settings.from_env({"SUBLEDGER_DATABASE_URL": f"{url}?schema={SCHEMA}",
                              "SUBLEDGER_AUDIT_KEY": base64.b64encode(SEED).decode()})


def baseline(url: str) -> tuple[int, float]:
    with psycopg.connect(url) as conn, conn.transaction():
        with conn.cursor(name="bench_audit_raw", binary=True, row_factory=tuple_row) as cursor:
            began = time.perf_counter()
            cursor.execute(sql.SQL("SELECT notification_id, originator_id, originator_version, topic, state"
                                   " FROM {}.subledger_events ORDER BY notification_id").format(sql.Identifier(SCHEMA)))
            rows = 0
            while batch := cursor.fetchmany(10_000):
                for position, aggregate, version, topic, state in batch:
                    leaf_hash(leaf_bytes(StoredRow(position, event_id(aggregate, version), aggregate,
                                                   version, topic, bytes(state))))
                rows += len(batch)
            return rows, time.perf_counter() - began


def _book(settings: Settings, events: int) -> int:
    ledger = build_ledger(settings)
    try:
        book = FastBook(ledger, months=12, end=datetime.now(UTC), seed=1)
        subscribers = 0
        while ledger.event_log.max_position() < events:
            more = max(1000, int((events - ledger.event_log.max_position()) / 19.5 * 1.02))
            _say(f"  generating {more:,} more subscribers ...")
            book.add(more, first=subscribers)
            subscribers += more
        return ledger.event_log.max_position()
    finally:
        ledger.close()


def _latency(call: object, samples: list[tuple[int, int]]) -> tuple[float, float]:
    times = []
    for a, b in samples:
        began = time.perf_counter()
        call(a, b)  # type: ignore[operator]
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99)]


def run(events: int = 1_000_000) -> None:
    print(f"audit benchmark, PostgreSQL, a book of >= {events:,} events made by bench.book")
    with scratch_database() as url:
        settings = _settings(url)
        total = _book(settings, events)
        _say("  baseline: raw cursor, leaf encoding, SHA-256 ...")
        rows, raw_seconds = baseline(url)
        ledger = build_ledger(settings)
        follower = build_merkle_follower(settings, ledger)
        views = ViewStore(settings)
        try:
            _say("  Merkle follower from an empty tree ...")
            began = time.perf_counter()
            while follower.run_once():
                pass
            follow_seconds = time.perf_counter() - began
            _say("  audit verify ...")
            began = time.perf_counter()
            outcome = verify(ledger.event_log, views, HeadSigner(SEED).public_key)
            verify_seconds = time.perf_counter() - began
            assert outcome.ok and outcome.events_checked == total, outcome
            tree = AuditTree(views)
            size = tree.head()[0].tree_size
            rng = random.Random(1)
            inclusion = _latency(lambda p, n: tree.inclusion(p, n),
                                 [(rng.randint(1, size), size) for _ in range(SAMPLES)])
            pairs = [sorted((rng.randint(1, size), rng.randint(1, size))) for _ in range(SAMPLES)]
            consistency = _latency(lambda a, b: tree.consistency(a, b), [(a, b) for a, b in pairs])
        finally:
            follower.close()
            views.close()
            ledger.close()
    base = rows / raw_seconds
    for name, seconds in (("raw cursor + leaf encoding + SHA-256 (baseline)", raw_seconds),
                          ("Merkle follower, from an empty tree", follow_seconds),
                          ("audit verify (recompute and compare everything)", verify_seconds)):
        rate = total / seconds
        print(f"  {name:<50} {rate:9,.0f} events/s  {rate / base:6.3f}x baseline  ({seconds:.1f} s)")
    print(f"  inclusion proof at tree size {size:,}: median {inclusion[0]:.2f} ms, p99 {inclusion[1]:.2f} ms")
    print(f"  consistency proof at tree size {size:,}: median {consistency[0]:.2f} ms, p99 {consistency[1]:.2f} ms")
