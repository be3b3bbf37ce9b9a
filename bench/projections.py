"""Projection rebuild rate and report latency on PostgreSQL.

The book is a demo log made by ``subledger demo``'s generator through the real commands and
the billing clock (12 months of signups, trials, coupons, plan and seat changes, pauses,
dunning, refunds, churn and reactivation), grown in steps of subscribers; nothing is cached
between runs. At each step the MRR read model is rebuilt from position 0 and the reports are
timed on it; on the largest book (at least ``--events`` events) the rebuild of ``mrr`` and
of ``subscriptions`` is timed next to a raw psycopg server-side-cursor read of the same
events table, measured in the same run.

``ANALYZE`` runs after each generation step, as autovacuum would within a minute: without
planner statistics on the freshly loaded events table, the per-subscriber history query of
the MRR model scans the whole notification index (a rebuild is then several times slower and
its time depends on when autovacuum wakes up).
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import psycopg
from psycopg import sql

from subledger.bootstrap import build_ledger, build_projector
from subledger.commands.demo import generate
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.domain.periods import add_months
from subledger.projections import reports
from subledger.projections.mrr import FOREVER
from subledger.projections.store import ViewStore

from .pg import scratch_database

SCHEMA = "bench_projections"
MONTHS = 12
ITERSIZE = 10_000
REPORT_RUNS = 5
EVENTS_PER_SUBSCRIBER_GUESS = 19.0
"""Events per subscriber of a 12-month demo book (measured: about 19.7); used only until the
first step has measured it."""


@dataclass
class Step:
    subscribers: int
    events: int
    movements: int
    rebuild_seconds: float
    mrr_ms: list[float]
    churn_ms: list[float]


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _analyze(url: str) -> None:
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


def _timed_ms(fn: Callable[[], Any], runs: int = REPORT_RUNS) -> list[float]:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return times


def _report_latency(settings: Settings, end: datetime) -> tuple[list[float], list[float], int]:
    """GET /reports/mrr (12 monthly buckets) and /reports/churn (the whole window, monthly),
    in process, through the functions the routes call, on the reports' own connection."""
    last = end.date()
    mrr_window = reports.Window(date(*_month_back(last, MONTHS - 1)), last, "month")
    start = add_months(end, -MONTHS).date()
    churn_window = reports.Window(date(start.year, start.month, 1), last, "month")
    views = ViewStore(settings)
    try:
        mrr = _timed_ms(lambda: reports.mrr_report(views, mrr_window, None, None))
        churn = _timed_ms(lambda: reports.churn_report(views, churn_window, None, None))
        body = reports.mrr_report(views, mrr_window, None, None)
        assert len(body["buckets"]) == MONTHS, body["buckets"]
        with views.transaction() as tx:
            row = tx.execute("SELECT count(*) FROM view_mrr_movements WHERE recorded_to = ?",
                             (FOREVER,)).fetchone()
    finally:
        views.close()
    return mrr, churn, int(row[0]) if row else 0


def _month_back(day: date, months: int) -> tuple[int, int, int]:
    index = day.year * 12 + day.month - 1 - months
    return index // 12, index % 12 + 1, 1


def _rebuild(settings: Settings, ledger: Ledger, view: str) -> tuple[int, float]:
    """``subledger rebuild VIEW``: drop one read model and build it from position 0 with the
    projector of every read model (the others are left alone)."""
    projector = build_projector(settings, ledger)
    try:
        began = time.perf_counter()
        summary = projector.rebuild_model(view)
        seconds = time.perf_counter() - began
    finally:
        projector.close()
        projector.store.close()
    return summary.events_read, seconds


def run(events: int = 500_000, sizes: tuple[int, ...] = (10_000, 30_000)) -> None:
    sizes = tuple(sorted(set(sizes)))
    print(f"projections benchmark, PostgreSQL, demo book of >= {events:,} events,"
          f" report latency at {', '.join(f'{s:,}' for s in sizes)} subscribers")
    began_all = time.perf_counter()
    with scratch_database() as url:
        settings = Settings.from_env({"SUBLEDGER_DATABASE_URL": f"{url}?schema={SCHEMA}"})
        ledger = build_ledger(settings)
        try:
            end = datetime.now(UTC).replace(microsecond=0)
            subscribers = 0
            generated_events = 0
            generation_seconds = 0.0
            per_subscriber = EVENTS_PER_SUBSCRIBER_GUESS
            steps: list[Step] = []
            seed = 0
            for index, size in enumerate(sizes):
                last = index == len(sizes) - 1
                # The largest book also carries --events.
                target = max(size, math.ceil(events / per_subscriber * 1.03)) if last else size
                while subscribers < target or (last and ledger.event_log.max_position() < events):
                    more = target - subscribers
                    if last:
                        short = events - ledger.event_log.max_position()
                        more = max(more, math.ceil(short / per_subscriber * 1.03))
                    seed += 1
                    _say(f"  generating {more:,} more subscribers (seed {seed}) ...")
                    before = ledger.event_log.max_position()
                    t = time.perf_counter()
                    summary = generate(ledger, subscribers=more, months=MONTHS, seed=seed, end=end)
                    generation_seconds += time.perf_counter() - t
                    subscribers += summary.subscribers
                    generated_events += ledger.event_log.max_position() - before
                    per_subscriber = ledger.event_log.max_position() / subscribers
                    _say(f"    {subscribers:,} subscribers, {ledger.event_log.max_position():,} events")
                _analyze(url)
                if last:
                    break
                _say(f"  {subscribers:,} subscribers: rebuilding mrr ...")
                read, seconds = _rebuild(settings, ledger, "mrr")
                mrr_ms, churn_ms, movements = _report_latency(settings, end)
                steps.append(Step(subscribers, read, movements, seconds, mrr_ms, churn_ms))
            total = ledger.event_log.max_position()
            _say(f"  {subscribers:,} subscribers, {total:,} events: raw server-side cursor read ...")
            rows, raw_seconds = raw_cursor_read(url)
            _say("  rebuilding subscriptions ...")
            subs_read, subs_seconds = _rebuild(settings, ledger, "subscriptions")
            _say("  rebuilding mrr ...")
            mrr_read, mrr_seconds = _rebuild(settings, ledger, "mrr")
            _say("  raw server-side cursor read again, reports ...")
            rows_after, raw_after = raw_cursor_read(url)
            mrr_ms, churn_ms, movements = _report_latency(settings, end)
            steps.append(Step(subscribers, mrr_read, movements, mrr_seconds, mrr_ms, churn_ms))
        finally:
            ledger.close()
    assert rows == total == mrr_read == subs_read == rows_after, (rows, total, mrr_read, subs_read)

    baseline = rows / raw_seconds
    gen_rate = generated_events / generation_seconds
    print(f"  book: {total:,} events, {subscribers:,} subscribers, {MONTHS} months, made by the demo"
          f" generator through the real commands and the billing clock"
          f" ({gen_rate:,.0f} events/s, {generation_seconds / 60:.1f} min); ANALYZE after generating")
    lines = [
        ("raw psycopg server-side cursor read (baseline)", baseline, rows, raw_seconds),
        ("rebuild subscriptions", subs_read / subs_seconds, subs_read, subs_seconds),
        ("rebuild mrr", mrr_read / mrr_seconds, mrr_read, mrr_seconds),
        ("raw server-side cursor read, again after", rows_after / raw_after, rows_after, raw_after),
    ]
    width = max(len(name) for name, *_ in lines)
    for name, value, n, seconds in lines:
        print(f"  {name:<{width}}  {value:9,.0f} events/s  {value / baseline:6.4f}x baseline"
              f"   ({n:,} events, {seconds:.1f} s)")
    print(f"  report latency (in process, median of {REPORT_RUNS}; /reports/mrr: {MONTHS} monthly"
          f" buckets; /reports/churn: the whole {MONTHS + 1}-month window), with the mrr rebuild of"
          " each book:")
    first = steps[0]
    for step in steps:
        mrr, churn = statistics.median(step.mrr_ms), statistics.median(step.churn_ms)
        growth = ""
        if step is not first:
            growth = (f"   x{step.subscribers / first.subscribers:.1f} subscribers ->"
                      f" x{mrr / statistics.median(first.mrr_ms):.1f} mrr,"
                      f" x{churn / statistics.median(first.churn_ms):.1f} churn")
        print(f"    {step.subscribers:>7,} subscribers, {step.events:>9,} events,"
              f" {step.movements:>7,} movement rows: /reports/mrr {mrr:8.1f} ms"
              f" ({min(step.mrr_ms):.0f}-{max(step.mrr_ms):.0f}),"
              f" /reports/churn {churn:8.1f} ms ({min(step.churn_ms):.0f}-{max(step.churn_ms):.0f});"
              f" rebuild mrr {step.events / step.rebuild_seconds:,.0f} events/s{growth}")
    if max(sizes) < 100_000:
        estimate = 100_000 * per_subscriber
        minutes = estimate / gen_rate / 60 + estimate / (mrr_read / mrr_seconds) / 60
        print(f"  100,000 subscribers not measured: a {MONTHS}-month book of ~{estimate:,.0f} events"
              f" would take ~{minutes:.0f} min here (generation + mrr build at the rates above)")
    print(f"  ({(time.perf_counter() - began_all) / 60:.1f} min in all)")
