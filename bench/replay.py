"""The analysts' replay on PostgreSQL: decoded replay rate next to a raw psycopg
server-side cursor over the same rows, Parquet export rate, and peak memory of a replay at
two sizes of the same log.

The book is made by :mod:`bench.book` (the demo generator's subscriber lives, saved many
subscribers to a transaction) until the log holds at least ``--replay-events`` events. Then,
in the same run, each read in a fresh process of its own (:func:`fresh`; as a CLI replay
runs, and none of them carrying the heap this process grew while it made the book):

- baseline: a psycopg server-side cursor (binary, 10,000 rows a fetch, in one transaction)
  over the events table in log order, the same columns the replay reads, touching each row;
- the same cursor with ``json.loads`` of each stored state: the least any decoder built on
  the standard library's JSON can cost (context for the replay's rate, not a target);
- the same cursor with each row made into its domain event by the store's mapper and nothing
  else: the ceiling of any reader of typed events (context, not a target);
- ``Replay`` over the whole log, every event decoded into its domain class by the library's
  mapper (upcasters applied) and read by the fold;
- the same replay folded by a fold that counts events and adds up charges: only the charges
  are decoded (an event is decoded when first read; its type comes from its stored topic);
- ``subledger replay export --format parquet`` of the whole log (events and derived tables);
- peak memory (peak RSS of its process) of the replay over the whole log and of the same
  replay over the first 100,000 events; growth = the first over the second.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from subledger.bootstrap import build_ledger
from subledger.config import Settings
from subledger.replay.export import export
from subledger.replay.folds import run_fold
from subledger.replay.reader import Replay
from subledger.replay.selection import Selection
from subledger.store.collector import relaxed
from subledger.store.scan import StoredRow

from .book import FastBook
from .figures import record
from .pg import REPO, scratch_database

SCHEMA = "bench_replay"
MONTHS = 12
SMALL = 100_000


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class EveryEventFold:
    """Reads every event whole (its effective time): each one is decoded."""

    def initial(self) -> list[int]:
        return [0, 0]

    def apply(self, state: list[int], event: object) -> list[int]:
        state[0] += 1
        state[1] += event.event.effective_at.day  # type: ignore[attr-defined]
        return state


class ChargesFold:
    """Counts the events and adds up the succeeded charges (what a small report does): only
    the charges are decoded, the type of the others read from their stored topic."""

    def initial(self) -> list[int]:
        return [0, 0]

    def apply(self, state: list[int], event: object) -> list[int]:
        state[0] += 1
        if event.type == "ChargeSucceeded":  # type: ignore[attr-defined]
            state[1] += event.event.amount  # type: ignore[attr-defined]
        return state


def raw_cursor(url: str, decode: Callable[[tuple[Any, ...]], object] | None = None) -> tuple[int, float]:
    """Rows read (and, if given, each row passed to ``decode``) per second, psycopg alone."""
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("SET TRANSACTION READ ONLY")
        with conn.cursor(name="bench_raw", binary=True, row_factory=tuple_row) as cursor:
            cursor.itersize = 10_000
            began = time.perf_counter()
            cursor.execute(sql.SQL("SELECT notification_id, originator_id, originator_version, topic, state"
                                   " FROM {}.subledger_events ORDER BY notification_id").format(sql.Identifier(SCHEMA)))
            rows = 0
            while batch := cursor.fetchmany(10_000):
                rows += len(batch)
                if decode is not None:
                    for row in batch:
                        decode(row)
            return rows, time.perf_counter() - began


def json_state(row: tuple[Any, ...]) -> object:
    return json.loads(row[4])


def mapper_cursor(url: str) -> tuple[int, float]:
    """The raw cursor with each row made into its domain event by the store's mapper, as a
    replay decodes it (under the same collector policy), and nothing else: the most any
    reader of typed events can do here."""
    ledger = build_ledger(_settings(url))
    try:
        to_event = ledger.event_log.mapper.to_domain_event
        with relaxed(), ledger.event_log.mapper.one_read():
            return raw_cursor(url, lambda row: to_event(StoredRow._make(row)))
    finally:
        ledger.close()


def _settings(url: str) -> Settings:
    return Settings.from_env({"SUBLEDGER_DATABASE_URL": f"{url}?schema={SCHEMA}"})


def high_water_mark() -> int:
    """This process's peak resident memory in KiB (``VmHWM``: unlike ``ru_maxrss``, it
    starts afresh at ``exec``, so a child does not inherit its parent's peak)."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def fresh(measure: str, url: str, until: int) -> tuple[int, float, int]:
    """(events, seconds, peak RSS in KiB) of one of :data:`MEASURES` run in a fresh process:
    every rate is measured alike, and none pays for the heap the benchmark's own process
    grew while it made the book (a replay in that process ran a fifth slower)."""
    code = ("import sys, json; from bench.replay import MEASURES, high_water_mark;"
            " n, s = MEASURES[sys.argv[1]](sys.argv[2], int(sys.argv[3]));"
            " print(json.dumps([n, s, high_water_mark()]))")
    out = subprocess.run([sys.executable, "-c", code, measure, url, str(until)], check=True,
                         capture_output=True, text=True, cwd=REPO)
    events, seconds, rss = json.loads(out.stdout.strip().splitlines()[-1])
    return int(events), float(seconds), int(rss)


def replay_once(url: str, until: int, fold: object = None) -> tuple[int, float]:
    """(events, seconds) of the replay and fold (every event decoded, unless another is
    given) over positions up to ``until``."""
    ledger = build_ledger(_settings(url))
    try:
        began = time.perf_counter()
        result = run_fold(Replay(ledger.event_log, Selection(until=until)), fold or EveryEventFold())
        return result.value[0], time.perf_counter() - began
    finally:
        ledger.close()


MEASURES: dict[str, Callable[[str, int], tuple[int, float]]] = {
    "raw": lambda url, until: raw_cursor(url),
    "json": lambda url, until: raw_cursor(url, json_state),
    "mapper": lambda url, until: mapper_cursor(url),
    "replay": lambda url, until: replay_once(url, until),
    "charges": lambda url, until: replay_once(url, until, ChargesFold()),
}
"""What :func:`fresh` can run: (events, seconds) over the log up to ``until``."""


def _book(url: str, events: int) -> int:
    ledger = build_ledger(_settings(url))
    try:
        book = FastBook(ledger, months=MONTHS, end=datetime.now(UTC), seed=1)
        subscribers = 0
        while ledger.event_log.max_position() < events:
            more = max(1000, int((events - ledger.event_log.max_position()) / 19.5 * 1.02))
            _say(f"  generating {more:,} more subscribers ...")
            book.add(more, first=subscribers)
            subscribers += more
            _say(f"    {subscribers:,} subscribers, {ledger.event_log.max_position():,} events")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ANALYZE")
        return ledger.event_log.max_position()
    finally:
        ledger.close()


def run(events: int = 1_000_000) -> None:
    print(f"replay benchmark, PostgreSQL, a book of >= {events:,} events made by bench.book")
    began_all = time.perf_counter()
    with scratch_database() as url:
        total = _book(url, events)
        _say("  raw server-side cursor ...")
        rows, raw_seconds, _ = fresh("raw", url, total)
        _say("  raw cursor + json.loads ...")
        _, json_seconds, _ = fresh("json", url, total)
        _say("  raw cursor + the mapper's decode ...")
        _, mapper_seconds, _ = fresh("mapper", url, total)
        _say("  replay, every event decoded, folded ...")
        replayed, replay_seconds, large_rss = fresh("replay", url, total)
        _say("  replay, a fold of the charges ...")
        charged, charges_seconds, _ = fresh("charges", url, total)
        _say("  raw server-side cursor again ...")
        rows_after, raw_after, _ = fresh("raw", url, total)
        _say("  Parquet export ...")
        ledger = build_ledger(_settings(url))
        try:
            with tempfile.TemporaryDirectory(prefix="subledger-bench-export-") as directory:
                t = time.perf_counter()
                summary = export(Replay(ledger.event_log), Path(directory) / "out", "parquet")
                export_seconds = time.perf_counter() - t
        finally:
            ledger.close()
        _say("  peak memory of a replay of the first events ...")
        small, small_seconds, small_rss = fresh("replay", url, min(SMALL, total))
    small_rate, large_rate = small / small_seconds, replayed / replay_seconds
    assert rows == replayed == charged == total == rows_after, (rows, replayed, charged, total)
    baseline = rows / min(raw_seconds, raw_after)  # the faster of the two reads: the stricter ratio
    lines = [("raw psycopg server-side cursor (baseline)", baseline, rows, min(raw_seconds, raw_after)),
             ("raw cursor + json.loads of each state", rows / json_seconds, rows, json_seconds),
             ("raw cursor + the mapper's decode into domain events", rows / mapper_seconds, rows, mapper_seconds),
             ("replay: every event decoded into its domain class, folded", replayed / replay_seconds, replayed,
              replay_seconds),
             ("replay: a fold of the charges (only they are decoded)", charged / charges_seconds, charged,
              charges_seconds),
             ("export --format parquet (events + derived tables)", total / export_seconds, total, export_seconds)]
    width = max(len(name) for name, *_ in lines)
    for name, rate, n, seconds in lines:
        print(f"  {name:<{width}}  {rate:9,.0f} events/s  {rate / baseline:6.3f}x baseline   ({n:,} events,"
              f" {seconds:.1f} s)")
    for name, rate, _n, _seconds in lines[1:]:
        record("replay", name, rate, "events/s", "raw psycopg server-side cursor", baseline)
    record("replay", f"peak RSS replaying {total:,} events", large_rss / 1024, "MiB",
           f"peak RSS replaying {min(SMALL, total):,} events", small_rss / 1024)
    print(f"  export rows: {', '.join(f'{t} {n:,}' for t, n in summary.rows.items())}")
    print(f"  peak memory (peak RSS of a fresh process): {small:,} events {small_rss / 1024:,.0f} MiB"
          f" ({small_rate:,.0f}/s), {total:,} events {large_rss / 1024:,.0f} MiB ({large_rate:,.0f}/s):"
          f" growth {large_rss / small_rss:.2f}x for {total / small:.1f}x the events")
    print(f"  ({(time.perf_counter() - began_all) / 60:.1f} min in all;"
          f" this process's own peak RSS {high_water_mark() / 1024:,.0f} MiB)")
