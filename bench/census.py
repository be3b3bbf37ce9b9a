"""What a command costs PostgreSQL, read from the server's own statistics: transactions
committed and rows written per table, as deltas around a measured run.

The counts come from ``pg_stat_database`` (``xact_commit``: every transaction, reads
included) and ``pg_stat_user_tables`` (rows inserted, updated, deleted), so they stay true
when the code changes. A backend hands its counts to the statistics only now and then, and
at the latest when it exits; :func:`quiesce` therefore waits until no session is left on the
scratch database, and a measured run closes its ledger (and so its connections) before its
second snapshot. The ledger's saves (calls of its recorder's ``insert_events``, each one transaction) and its
pool's checkouts (each pinged with an empty query: one transaction more) are counted on
the client's side, to tell the server's transactions apart.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import psycopg

from .pg import admin_url

EVENTS_TABLE = "subledger_events"


@dataclass(frozen=True)
class Snapshot:
    commits: int
    rows: Counter[tuple[str, str]]
    """(table, "insert" | "update" | "delete") -> rows so far."""
    fetched: int
    """Event rows read through an index so far."""
    last_event: int
    """The events table's highest notification id."""


@dataclass(frozen=True)
class Census:
    """Per command, averaged over ``commands`` of them."""

    commands: int
    transactions: float
    """Transactions committed, the pool's pings not included."""
    saves: float
    """Of which the ledger's saves (its recorder's ``insert_events``)."""
    checkouts: float
    """Connections taken from the pool, each pinged first (one more transaction each)."""
    fetched: float
    """Event rows read."""
    rows: dict[tuple[str, str], float] = field(default_factory=dict)

    @property
    def loads(self) -> float:
        """Transactions that only read."""
        return self.transactions - self.saves

    @property
    def rows_written(self) -> float:
        return sum(self.rows.values())

    def describe(self) -> str:
        parts = ", ".join(f"{table.removeprefix('subledger_')} {kind} {count:.2f}"
                          for (table, kind), count in sorted(self.rows.items()))
        return (f"{self.transactions:.2f} transactions ({self.saves:.2f} saves), {self.checkouts:.2f}"
                f" pings, {self.fetched:.2f} event rows read; {self.rows_written:.2f} rows"
                f" written: {parts}")


class Counting:
    """Counts a ledger's saves and pool checkouts while it runs (the client's side of the
    census: which of the server's transactions wrote, and which were pings)."""

    def __init__(self, ledger: Any) -> None:
        self.recorder = ledger.store.recorder
        self.pool = self.recorder.datastore.pool
        self.saves = 0
        self.checkouts = 0

    def __enter__(self) -> Counting:
        insert = self.recorder.insert_events

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.saves += 1
            return insert(*args, **kwargs)

        self.recorder.insert_events = counted
        self.pool.pop_stats()
        return self

    def __exit__(self, *exc: object) -> None:
        self.checkouts = int(self.pool.pop_stats().get("requests_num", 0))
        del self.recorder.insert_events


def _database(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def quiesce(url: str, timeout: float = 30.0) -> None:
    """Wait until no session is connected to the scratch database (each one's counts are
    then in the statistics). Asked from the admin database, so the asking is not counted."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        while True:
            row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                               (_database(url),)).fetchone()
            if row is not None and row[0] == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"sessions still open on {_database(url)}")
            time.sleep(0.05)


def snapshot(url: str, schema: str = "public") -> Snapshot:
    """The scratch database's counts now (its sessions closed first). The snapshot's own
    session commits one transaction, counted in the next snapshot; :func:`measure`
    subtracts it."""
    quiesce(url)
    with psycopg.connect(url, autocommit=True) as conn:
        rows: Counter[tuple[str, str]] = Counter()
        fetched = 0
        for table, ins, upd, dele, fetch in conn.execute(
                "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del, coalesce(idx_tup_fetch, 0)"
                " FROM pg_stat_user_tables WHERE schemaname = %s", (schema,)):
            rows[(table, "insert")] = ins
            rows[(table, "update")] = upd
            rows[(table, "delete")] = dele
            fetched += fetch if table == EVENTS_TABLE else 0
        last = conn.execute(f'SELECT coalesce(max(notification_id), 0) FROM "{schema}".'
                            f'"{EVENTS_TABLE}"').fetchone()
    quiesce(url)
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        commits = conn.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = %s",
                               (_database(url),)).fetchone()
    assert commits is not None and last is not None
    return Snapshot(int(commits[0]), rows, fetched, int(last[0]))


SNAPSHOT_COMMITS = 2
"""Transactions a snapshot's own session commits (its two queries, autocommitted)."""


def census(before: Snapshot, after: Snapshot, counted: Counting, commands: int,
           overhead: int = 0) -> Census:
    """The counts between two snapshots per command; ``overhead``: transactions that were
    not the commands' (opening and closing the ledger, measured alike with no command)."""
    committed = after.commits - before.commits - SNAPSHOT_COMMITS - overhead
    rows = {key: (after.rows[key] - before.rows[key]) / commands for key in after.rows
            if after.rows[key] != before.rows[key]}
    return Census(commands, (committed - counted.checkouts) / commands, counted.saves / commands,
                  counted.checkouts / commands, (after.fetched - before.fetched) / commands, rows)
