"""Projection rebuild rate and report latency on PostgreSQL, in two parts.

``rebuild``: the book is a demo log made by ``subledger demo``'s generator through the real
commands and the billing clock (12 months of signups, trials, coupons, plan and seat changes,
pauses, dunning, refunds, churn and reactivation), of at least ``--events`` events. The
rebuild of ``mrr`` and of ``subscriptions`` is timed next to a raw psycopg
server-side-cursor read of the same events table, measured in the same run.

``latency``: the book is made by :mod:`bench.book` (the same subscriber lives through the
domain aggregates and the ``Ledger``'s save, 250 subscribers a transaction: the demo
generator would take ~32 min for 100k subscribers), grown in steps of subscribers. At each
step the projector catches every read model up (timed next to a raw cursor read of the same
log), then ``/reports/mrr``, ``/reports/churn`` and ``/reports/revenue`` (the last 12
months) and ``/reports/revenue`` of the last whole month alone (a window late in a long
history) are timed through the HTTP app, each next to a raw psycopg read of the rows its
figures come from (the baseline, in the same run); growth is given against the first step.
Nothing is cached between runs.

``ANALYZE`` runs after each generation step, as autovacuum would within a minute: without
planner statistics on the freshly loaded events table, the per-subscriber history query of
the MRR model scans the whole notification index.
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from psycopg import sql

from subledger.bootstrap import build_api, build_ledger, build_projector
from subledger.commands.demo import generate
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.domain.periods import add_months
from subledger.projections.mrr import FOREVER, sortable
from subledger.projections.recognition import microseconds

from .book import FastBook
from .figures import record
from .pg import scratch_database

SCHEMA = "bench_projections"
MONTHS = 12
ITERSIZE = 10_000
REPORT_RUNS = 5
EVENTS_PER_SUBSCRIBER_GUESS = 19.0
"""Events per subscriber of a 12-month demo book (measured: about 19.7); used only until the
first step has measured it."""


Latency = dict[str, tuple[list[float], list[float]]]
"""report -> (its times in ms, the times of the raw read of its rows in ms)"""


@dataclass
class Step:
    subscribers: int
    events: int
    movements: int
    generate_seconds: float
    project_seconds: float
    raw_seconds: float
    latency_ms: Latency


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


REPORTS = {"mrr": "mrr", "churn": "churn", "revenue": "revenue", "revenue-1m": "revenue"}
"""The name a measurement is printed under -> the report it times (``revenue-1m``: the last
whole month alone)."""

RAW_READS = {
    # The rows each report's figures come from, as a naive report would read them, as of
    # now: every movement believed now before the window's end; every cash row in the
    # window, every revenue line paid by now and still served in it (or paid before its
    # end), and the part below a whole minor unit of each line that ended before it.
    "mrr": ["SELECT subscriber_id, at, kind, amount, mrr_after FROM view_mrr_movements"
            " WHERE currency = %(currency)s AND at < %(stop)s AND at <= %(as_of)s"
            " AND recorded_to = %(forever)s"],
    "revenue": ["SELECT kind, at, amount FROM view_revenue_cash"
                " WHERE currency = %(currency)s AND at >= %(start)s AND at < %(stop)s AND at <= %(as_of)s",
                "SELECT amount, start_us, end_us, settled_us FROM view_revenue_lines"
                " WHERE currency = %(currency)s AND end_us >= %(start_us)s"
                " AND (start_us < %(stop_us)s OR settled_us < %(stop_us)s) AND settled_us <= %(as_of_us)s",
                "SELECT fraction FROM view_revenue_lines WHERE currency = %(currency)s"
                " AND fraction IS NOT NULL AND end_us < %(start_us)s AND settled_us <= %(as_of_us)s"],
}
RAW_READS["churn"] = RAW_READS["mrr"]
RAW_READS["revenue-1m"] = RAW_READS["revenue"]


def _raw_read_ms(conn: psycopg.Connection[Any], name: str, start: date, last: date) -> list[float]:
    """Baseline: psycopg fetching the rows behind a report (see ``RAW_READS``)."""
    first = datetime(start.year, start.month, start.day, tzinfo=UTC)
    stop = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    now = datetime.now(UTC)
    params = {"currency": "USD", "start": sortable(first), "stop": sortable(stop), "forever": FOREVER,
              "start_us": microseconds(first), "stop_us": microseconds(stop),
              "as_of": sortable(now), "as_of_us": microseconds(now)}

    def read() -> None:
        for query in RAW_READS[name]:
            conn.execute(query, params).fetchall()

    read()
    return _timed_ms(read)


def _report_latency(settings: Settings, ledger: Ledger, end: datetime) -> tuple[Latency, int]:
    """GET /reports/mrr and /reports/revenue (12 monthly buckets), /reports/churn (the
    whole 13-month window, monthly) and /reports/revenue of the last whole month through the
    HTTP app (in process, over the reports' own connection), each a median of
    ``REPORT_RUNS`` after one warm-up call, next to the raw read of the rows behind it."""
    last = end.date()
    first_month = date(*_month_back(last, MONTHS - 1))
    start = add_months(end, -MONTHS).date()
    month_ago = date(*_month_back(last, 1))
    windows = {"mrr": (first_month, last), "churn": (date(start.year, start.month, 1), last),
               "revenue": (first_month, last),
               "revenue-1m": (month_ago, date(last.year, last.month, 1) - timedelta(days=1))}
    client = TestClient(build_api(settings, ledger=ledger))
    found: Latency = {}
    with psycopg.connect(settings.database.conninfo()) as conn:  # type: ignore[union-attr]
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(SCHEMA)))
        for name, report in REPORTS.items():
            window_from, window_to = windows[name]
            url = f"/reports/{report}?from={window_from.isoformat()}&to={window_to.isoformat()}&interval=month"

            def get(url: str = url) -> Any:
                response = client.get(url)
                if response.status_code != 200:
                    raise RuntimeError(f"GET {url}: {response.status_code} {response.text[:300]}")
                return response.json()

            body = get()
            rows = body.get("buckets") or body.get("periods")
            assert rows and len(rows) >= (1 if name == "revenue-1m" else MONTHS), (name, body)
            found[name] = (_timed_ms(get), _raw_read_ms(conn, name, window_from, window_to))
        row = conn.execute("SELECT count(*) FROM view_mrr_movements WHERE recorded_to = %s",
                           (FOREVER,)).fetchone()
    return found, int(row[0]) if row else 0


def _month_back(day: date, months: int) -> tuple[int, int, int]:
    index = day.year * 12 + day.month - 1 - months
    return index // 12, index % 12 + 1, 1


def _rebuild(settings: Settings, ledger: Ledger, view: str) -> tuple[int, float, str]:
    """``subledger rebuild VIEW``: drop one read model and build it from position 0 with the
    projector of every read model (the others are left alone)."""
    projector = build_projector(settings, ledger)
    try:
        began = time.perf_counter()
        summary = projector.rebuild_model(view)
        seconds = time.perf_counter() - began
        cache = getattr(projector.model(view), "cache", None)
        note = "" if cache is None else f"; cache {cache.hits:,} hits, {cache.misses:,} log reads"
        if getattr(cache, "restarts", None) is not None:
            note += f", {cache.restarts:,} folded again (backdated events)"
    finally:
        projector.close()
        projector.store.close()
    return summary.events_read, seconds, note


def _settings(url: str) -> Settings:
    return Settings.from_env({"SUBLEDGER_DATABASE_URL": f"{url}?schema={SCHEMA}"})


def run_rebuild(events: int = 500_000) -> None:
    """The rebuild rate of ``mrr`` and ``subscriptions`` on a demo book made through the
    commands, next to a raw server-side cursor read of the same events."""
    print(f"projections benchmark (rebuild), PostgreSQL, demo book of >= {events:,} events")
    began_all = time.perf_counter()
    with scratch_database() as url:
        settings = _settings(url)
        ledger = build_ledger(settings)
        try:
            end = datetime.now(UTC).replace(microsecond=0)
            subscribers, seed, generation_seconds = 0, 0, 0.0
            per_subscriber = EVENTS_PER_SUBSCRIBER_GUESS
            while ledger.event_log.max_position() < events:
                more = math.ceil((events - ledger.event_log.max_position()) / per_subscriber * 1.03)
                seed += 1
                _say(f"  generating {more:,} more subscribers (seed {seed}) ...")
                t = time.perf_counter()
                summary = generate(ledger, subscribers=more, months=MONTHS, seed=seed, end=end)
                generation_seconds += time.perf_counter() - t
                subscribers += summary.subscribers
                per_subscriber = ledger.event_log.max_position() / subscribers
                _say(f"    {subscribers:,} subscribers, {ledger.event_log.max_position():,} events")
            _analyze(url)
            total = ledger.event_log.max_position()
            _say("  raw server-side cursor read ...")
            rows, raw_seconds = raw_cursor_read(url)
            _say("  rebuilding subscriptions ...")
            subs_read, subs_seconds, _ = _rebuild(settings, ledger, "subscriptions")
            _say("  rebuilding mrr ...")
            mrr_read, mrr_seconds, mrr_note = _rebuild(settings, ledger, "mrr")
            _say("  raw server-side cursor read again ...")
            rows_after, raw_after = raw_cursor_read(url)
        finally:
            ledger.close()
    assert rows == total == mrr_read == subs_read == rows_after, (rows, total, mrr_read, subs_read)

    baseline = rows / raw_seconds
    print(f"  book: {total:,} events, {subscribers:,} subscribers, {MONTHS} months, made by the demo"
          f" generator through the real commands and the billing clock"
          f" ({total / generation_seconds:,.0f} events/s, {generation_seconds / 60:.1f} min);"
          " ANALYZE after generating")
    lines = [
        ("raw psycopg server-side cursor read (baseline)", baseline, rows, raw_seconds, ""),
        ("rebuild subscriptions", subs_read / subs_seconds, subs_read, subs_seconds, ""),
        ("rebuild mrr", mrr_read / mrr_seconds, mrr_read, mrr_seconds, mrr_note),
        ("raw server-side cursor read, again after", rows_after / raw_after, rows_after, raw_after, ""),
    ]
    width = max(len(name) for name, *_ in lines)
    for name, value, n, seconds, note in lines:
        print(f"  {name:<{width}}  {value:9,.0f} events/s  {value / baseline:6.4f}x baseline"
              f"   ({n:,} events, {seconds:.1f} s{note})")
    for name, value, *_ in lines[1:3]:
        record("projections", name, value, "events/s", "raw server-side cursor read", baseline)
    print(f"  ({(time.perf_counter() - began_all) / 60:.1f} min in all)")


def run_latency(sizes: tuple[int, ...] = (10_000, 100_000)) -> None:
    """Report latency at each book size (subscribers), through the HTTP app."""
    sizes = tuple(sorted(set(sizes)))
    print(f"projections benchmark (latency), PostgreSQL, books of {', '.join(f'{s:,}' for s in sizes)}"
          f" subscribers made by bench.book ({MONTHS} months)")
    began_all = time.perf_counter()
    steps: list[Step] = []
    with scratch_database() as url:
        settings = _settings(url)
        ledger = build_ledger(settings)
        projector = build_projector(settings, ledger)
        try:
            end = datetime.now(UTC).replace(microsecond=0)
            book = FastBook(ledger, months=MONTHS, end=end, seed=1)
            subscribers = 0
            for size in sizes:
                _say(f"  generating {size - subscribers:,} more subscribers ...")
                t = time.perf_counter()
                book.add(size - subscribers, first=subscribers)
                generate_seconds = time.perf_counter() - t
                subscribers = size
                _analyze(url)
                total = ledger.event_log.max_position()
                _say(f"    {subscribers:,} subscribers, {total:,} events; projecting every read model ...")
                t = time.perf_counter()
                projector.run_once()
                project_seconds = time.perf_counter() - t
                _analyze(url)
                _, raw_seconds = raw_cursor_read(url)
                _say("    reports ...")
                latency, movements = _report_latency(settings, ledger, end)
                steps.append(Step(subscribers, total, movements, generate_seconds, project_seconds,
                                  raw_seconds, latency))
        finally:
            projector.close()
            projector.store.close()
            ledger.close()

    first = steps[0]
    made = 0
    for step in steps:
        new_events = step.events - made
        made = step.events
        print(f"  {step.subscribers:>7,} subscribers, {step.events:>9,} events,"
              f" {step.movements:>7,} current movement rows: generated +{new_events:,} events in"
              f" {step.generate_seconds:.0f} s ({new_events / step.generate_seconds:,.0f} events/s);"
              f" projected (subscriptions, mrr, revenue) in {step.project_seconds:.0f} s"
              f" ({new_events / step.project_seconds:,.0f} events/s; raw cursor read of the whole"
              f" log {step.events / step.raw_seconds:,.0f} events/s)")
        for name in REPORTS:
            times, raw = step.latency_ms[name]
            median, raw_median = statistics.median(times), statistics.median(raw)
            growth = ""
            if step is not first:
                growth = (f"   x{step.subscribers / first.subscribers:.0f} subscribers ->"
                          f" x{median / statistics.median(first.latency_ms[name][0]):.1f}")
            print(f"      /reports/{name:<10} {median:8.1f} ms (median of {REPORT_RUNS},"
                  f" {min(times):.0f}-{max(times):.0f}); raw psycopg read of the rows behind it"
                  f" {raw_median:7.1f} ms: {median / raw_median:5.2f}x baseline{growth}")
            record("projections", f"/reports/{name} at {step.subscribers:,} subscribers", median, "ms",
                   "raw read of the rows behind it", raw_median)
            if step is not first:
                record("projections", f"/reports/{name} latency growth, {first.subscribers:,} ->"
                       f" {step.subscribers:,} subscribers", median, "ms",
                       f"at {first.subscribers:,} subscribers", statistics.median(first.latency_ms[name][0]))
    print(f"  ({(time.perf_counter() - began_all) / 60:.1f} min in all)")


def run(events: int = 500_000, sizes: tuple[int, ...] = (10_000, 100_000), part: str | None = None) -> None:
    if part in (None, "rebuild"):
        run_rebuild(events)
    if part in (None, "latency"):
        run_latency(sizes)
