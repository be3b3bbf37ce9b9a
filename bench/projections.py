"""Projection rebuild rate and report latency on PostgreSQL, in two parts.

``rebuild``: the book is a demo log made by ``subledger demo``'s generator through the real
commands and the billing clock (12 months of signups, trials, coupons, plan and seat changes,
pauses, dunning, refunds, churn and reactivation), of at least ``--events`` events. The
rebuild of ``mrr`` and of ``subscriptions`` is timed next to a raw psycopg
server-side-cursor read of the same events table, measured in the same run, and so is the
read of each model's events into envelopes with nothing applied: the ratio no rebuild whose
events become envelopes in Python can pass.

``latency``: report latency at several sizes of book (:mod:`bench.latency`).

``ANALYZE`` runs after each generation step, as autovacuum would within a minute: without
planner statistics on the freshly loaded events table, the per-subscriber history query of
the MRR model scans the whole notification index.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from psycopg import sql

from subledger.bootstrap import build_ledger, build_projector
from subledger.commands.demo import generate
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.projections.runner import REBUILD_PAGE_SIZE
from subledger.store.collector import relaxed

from .figures import record
from .pg import scratch_database

SCHEMA = "bench_projections"
MONTHS = 12
ITERSIZE = 10_000
EVENTS_PER_SUBSCRIBER_GUESS = 19.0
"""Events per subscriber of a 12-month demo book (measured: about 19.7); used only until the
first step has measured it."""


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def analyze(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def raw_cursor_read(url: str) -> tuple[int, float]:
    """Baseline: the events table in log order through a psycopg server-side cursor."""
    with psycopg.connect(url) as conn:
        with conn.cursor(name="bench_events") as cur:
            cur.itersize = ITERSIZE
            began = time.perf_counter()
            cur.execute(sql.SQL("SELECT notification_id, topic, state FROM {}.subledger_events"
                                " ORDER BY notification_id").format(sql.Identifier(SCHEMA)))
            rows = 0
            for _ in cur:
                rows += 1
            seconds = time.perf_counter() - began
        conn.rollback()
    return rows, seconds


def _book(ledger: Ledger, events: int) -> tuple[int, float]:
    """Demo subscribers added seed after seed until the log holds ``events``; returns the
    subscribers made and the seconds it took."""
    end = datetime.now(UTC).replace(microsecond=0)
    subscribers, seed, generation_seconds = 0, 0, 0.0
    per_subscriber = EVENTS_PER_SUBSCRIBER_GUESS
    while ledger.event_log.max_position() < events:
        more = math.ceil((events - ledger.event_log.max_position()) / per_subscriber * 1.03)
        seed += 1
        say(f"  generating {more:,} more subscribers (seed {seed}) ...")
        t = time.perf_counter()
        summary = generate(ledger, subscribers=more, months=MONTHS, seed=seed, end=end)
        generation_seconds += time.perf_counter() - t
        subscribers += summary.subscribers
        per_subscriber = ledger.event_log.max_position() / subscribers
        say(f"    {subscribers:,} subscribers, {ledger.event_log.max_position():,} events")
    return subscribers, generation_seconds


def _print_pace(view: str, pace: Pace) -> None:
    """A rebuild's rate over the log's second half against its first, and by tenths."""
    if pace.halves is None:
        print(f"  rebuild {view}: one page, no halves to compare")
        return
    first, second = pace.halves
    print(f"  rebuild {view}: the second half of the log at {second:,.0f} events/s,"
          f" {second / first:.2f}x the first half's {first:,.0f} (1.00x: linear in the events)")
    parts = "by tenth of the log" if len(pace.tenths) == 10 else f"in {len(pace.tenths)} parts of the log"
    print(f"    {parts}: {', '.join(f'{rate:,.0f}' for rate in pace.tenths)} events/s")
    record("projections", f"rebuild {view}: the log's second half", second, "events/s",
           "its first half", first)


def _rebuild(settings: Settings, ledger: Ledger, view: str) -> tuple[int, float, str, Pace]:
    """``subledger rebuild VIEW``: drop one read model and build it from position 0 with the
    projector of every read model (the others are left alone); returns the position it
    reached (the log's events it covers: a model reads only its event types), the seconds and
    a note. Also the rate over the second half of the log and over the first: about equal for
    a rebuild linear in the events."""
    projector = build_projector(settings, ledger)
    marks: list[tuple[int, float]] = []
    try:
        began = time.perf_counter()
        summary = projector.rebuild_model(
            view, progress=lambda done, _total: marks.append((done, time.perf_counter())))
        seconds = time.perf_counter() - began
        cache = getattr(projector.model(view), "cache", None)
        note = "" if cache is None else f"; cache {cache.hits:,} hits, {cache.misses:,} log reads"
        if getattr(cache, "restarts", None) is not None:
            note += f", {cache.restarts:,} folded again (backdated events)"
    finally:
        projector.close()
        projector.store.close()
    if summary.events_read != summary.position:
        note += f"; {summary.events_read:,} events of its types read"
    return summary.position, seconds, note, _pace(marks, began)


@dataclass(frozen=True)
class Pace:
    """A rebuild's rate over parts of the log, events/s: about equal throughout for a rebuild
    whose cost per event does not grow with the history."""

    halves: tuple[float, float] | None
    """Over the log's first half and its second (None: the rebuild was one page)."""
    tenths: list[float]
    """Over each tenth of the log (fewer when the pages are fewer than ten)."""


def _pace(marks: list[tuple[int, float]], began: float) -> Pace:
    """From (position reached, time) after each page."""
    done, at = marks[-1]
    if len(marks) == 1:
        return Pace(None, [done / (at - began)])
    middle_done, middle_at = min(marks[:-1], key=lambda mark: abs(mark[0] - done / 2))
    tenths: list[float] = []
    last_done, last_at = 0, began
    for mark_done, mark_at in marks:
        if mark_done >= done * (len(tenths) + 1) / 10 and mark_at > last_at:
            tenths.append((mark_done - last_done) / (mark_at - last_at))
            last_done, last_at = mark_done, mark_at
    return Pace((middle_done / (middle_at - began), (done - middle_done) / (at - middle_at)), tenths)


def _envelopes_alone(settings: Settings, ledger: Ledger) -> dict[str, tuple[int, float]]:
    """The rebuilt models' events read in rebuild pages and made into envelopes, with nothing
    applied or written: (events read, seconds), keyed by the models that read those events
    (``mrr, revenue``: both read every event). Over the log's events, it is the most a
    rebuild of those models reaches while the events become envelopes in Python."""
    projector = build_projector(settings, ledger)
    try:
        readers: dict[tuple[str, ...], list[str]] = {}
        for view in REBUILT:
            readers.setdefault(tuple(projector.model(view).types), []).append(view)
    finally:
        projector.close()
        projector.store.close()
    timed: dict[str, tuple[int, float]] = {}
    for kinds, views in readers.items():
        after, events = 0, 0
        began = time.perf_counter()
        with relaxed():  # the collector as a rebuild's catch-up has it
            while (page := ledger.event_log.read(after, REBUILD_PAGE_SIZE, kinds)).items:
                events += len(page.items)
                after = page.items[-1]["position"]
        timed[", ".join(views)] = (events, time.perf_counter() - began)
    return timed


def settings_for(url: str) -> Settings:
    return Settings.from_env({"SUBLEDGER_DATABASE_URL": f"{url}?schema={SCHEMA}"})


REBUILT = ("subscriptions", "mrr", "revenue", "invoices")
"""The read models whose rebuild is timed (every one; the targets are set for the first two)."""


def run_rebuild(events: int = 500_000) -> None:
    """The rebuild rate of each read model on a demo book made through the commands, next to
    a raw server-side cursor read of the same events."""
    print(f"projections benchmark (rebuild), PostgreSQL, demo book of >= {events:,} events")
    began_all = time.perf_counter()
    with scratch_database() as url:
        settings = settings_for(url)
        ledger = build_ledger(settings)
        try:
            subscribers, generation_seconds = _book(ledger, events)
            analyze(url)
            total = ledger.event_log.max_position()
            say("  raw server-side cursor read ...")
            rows, raw_seconds = raw_cursor_read(url)
            say("  the rebuilt models' events read into envelopes alone ...")
            alone = _envelopes_alone(settings, ledger)
            rebuilt = {}
            for view in REBUILT:
                say(f"  rebuilding {view} ...")
                rebuilt[view] = _rebuild(settings, ledger, view)
            say("  raw server-side cursor read again ...")
            rows_after, raw_after = raw_cursor_read(url)
        finally:
            ledger.close()
    reached = {view: read for view, (read, *_rest) in rebuilt.items()}
    assert rows == total == rows_after and set(reached.values()) == {total}, (rows, total, reached)

    baseline = rows / raw_seconds
    print(f"  book: {total:,} events, {subscribers:,} subscribers, {MONTHS} months, made by the demo"
          f" generator through the real commands and the billing clock"
          f" ({total / generation_seconds:,.0f} events/s, {generation_seconds / 60:.1f} min);"
          " ANALYZE after generating")
    lines = [
        ("raw psycopg server-side cursor read (baseline)", baseline, rows, raw_seconds, ""),
        *((f"read into envelopes alone: the events of {views}", total / seconds, total, seconds,
           f"; {read:,} events read, nothing applied")
          for views, (read, seconds) in alone.items()),
        *((f"rebuild {view}", read / seconds, read, seconds, note)
          for view, (read, seconds, note, _pace) in rebuilt.items()),
        ("raw server-side cursor read, again after", rows_after / raw_after, rows_after, raw_after, ""),
    ]
    width = max(len(name) for name, *_ in lines)
    for name, value, n, seconds, note in lines:
        print(f"  {name:<{width}}  {value:9,.0f} events/s  {value / baseline:6.4f}x baseline"
              f"   ({n:,} events, {seconds:.1f} s{note})")
    for name, value, *_ in lines[1:-1]:
        record("projections", name, value, "events/s", "raw server-side cursor read", baseline)
    for view, (*_measured, pace) in rebuilt.items():
        _print_pace(view, pace)
    print(f"  ({(time.perf_counter() - began_all) / 60:.1f} min in all)")
