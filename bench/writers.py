"""The log's single-writer limit on PostgreSQL: events appended per second by 1, 4 and 16
writer processes at once, next to raw psycopg writers of the same rows, in the same run.

Every append of the ledger takes the library's ``LOCK TABLE ... IN EXCLUSIVE MODE`` on the
events table inside its transaction, so that log readers see positions become visible in
order (docs/decisions.md, "The table lock stays on"). Writers therefore queue for one lock
whatever their number. Measured, each for ``--seconds`` of wall time, every writer its own
process (so Python's GIL is not what is measured) with its own connection:

- application: each writer registers subscribers through ``Ledger`` (one new aggregate, one
  event, one transaction each: no optimistic-concurrency conflict between writers);
- raw, locked: each writer INSERTs a row of the same size and COMMITs, taking the same
  table lock first (the least such a writer can cost);
- raw, unlocked: the same without the lock (what the lock costs).

On a machine with few cores the writers also share the CPU with the database server; the
figures say what this machine does, and the ratio of 16 writers to 1 says how far more
writers help.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg

from .pg import scratch_database

WRITERS = (1, 4, 16)
PAYLOAD = b"x" * 300
"""About the size of a stored registration."""


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


Writer = tuple[Callable[[], None], Callable[[], None]]
"""(append one event, close): a writer opened before the clock starts."""


def application_writer(url: str, slot: int) -> Writer:
    from subledger.bootstrap import build_ledger
    from subledger.config import Settings

    ledger = build_ledger(Settings.from_env({"SUBLEDGER_DATABASE_URL": url + "?schema=public"}))
    return (lambda: ledger.subscribers.register(email=f"w{slot}@example.com", name="Writer"),
            ledger.close)


def raw_writer(url: str, slot: int, *, locked: bool) -> Writer:
    conn = psycopg.connect(url)

    def append() -> None:
        if locked:
            conn.execute("LOCK TABLE bench_log IN EXCLUSIVE MODE")
        conn.execute("INSERT INTO bench_log (k, state) VALUES (%s, %s)", (uuid.uuid4(), PAYLOAD))
        conn.commit()

    return append, conn.close


def raw_locked(url: str, slot: int) -> Writer:
    return raw_writer(url, slot, locked=True)


def raw_unlocked(url: str, slot: int) -> Writer:
    return raw_writer(url, slot, locked=False)


def _together(open_writer: Callable[[str, int], Writer], writers: int, seconds: float, url: str) -> float:
    """Events per second of ``writers`` processes appending for ``seconds`` each, released
    together once every one is open, over the wall time from that release to the last end."""
    context = multiprocessing.get_context("spawn")
    counts = context.Array("l", writers)
    ready = context.Barrier(writers + 1)
    processes = [context.Process(target=_write, args=(ready, seconds, open_writer, url, counts, slot))
                 for slot in range(writers)]
    for process in processes:
        process.start()
    ready.wait()
    began = time.perf_counter()
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"a writer exited with {process.exitcode}")
    return sum(counts) / (time.perf_counter() - began)


def _write(ready: Any, seconds: float, open_writer: Callable[[str, int], Writer], url: str,
           counts: Any, slot: int) -> None:
    append, close = open_writer(url, slot)
    try:
        ready.wait()
        until, done = time.perf_counter() + seconds, 0
        while time.perf_counter() < until:
            append()
            done += 1
        counts[slot] = done
    finally:
        close()


def run(seconds: float = 10.0) -> None:
    with scratch_database() as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE bench_log (id bigserial PRIMARY KEY, k uuid, state bytea)")
        from subledger.bootstrap import build_ledger
        from subledger.config import Settings

        build_ledger(Settings.from_env({"SUBLEDGER_DATABASE_URL": url + "?schema=public"})).close()
        rows: list[tuple[str, int, float]] = []
        for writers in WRITERS:
            for name, open_writer in (("raw, unlocked", raw_unlocked), ("raw, table lock", raw_locked),
                                      ("application: register", application_writer)):
                _say(f"  {name}, {writers} writer(s) ...")
                rows.append((name, writers, _together(open_writer, writers, seconds, url)))
    _print(rows, seconds)


def _print(rows: list[tuple[str, int, float]], seconds: float) -> None:
    base = {name: value for name, writers, value in rows if writers == 1}
    locked_one = base["raw, table lock"]
    print(f"writers benchmark, PostgreSQL, {seconds:.0f} s per measurement, each writer a process")
    for name, writers, value in rows:
        print(f"  {name:<24} {writers:>2} writer(s) {value:>9,.0f} events/s"
              f"   {value / base[name]:.2f}x its 1 writer   {value / locked_one:.2f}x raw locked, 1 writer")
