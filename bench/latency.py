"""Report latency on PostgreSQL at several sizes of book, each size its own book.

Each book is made by :mod:`bench.book` (the same subscriber lives through the domain
aggregates and the ``Ledger``'s save, 250 subscribers a transaction: the demo generator would
take ~32 min for 100k subscribers) in a scratch database of its own, and the projector catches
every read model up (timed next to a raw cursor read of the same log). Then, in
:data:`ROUNDS` rounds that go from one book to the next, ``/reports/mrr``,
``/reports/churn`` and ``/reports/revenue`` (the last 12 months), ``/reports/revenue`` of
the last whole month alone (a window late in a long history) and ``/reports/receivables``
(what is owed now) are timed through the HTTP app,
each next to a raw psycopg read of the rows its figures come from (the baseline, in the same
round). Alternating rounds let the machine's drift weigh on every size alike; growth is the
median at a size over the median at the smallest. Nothing is cached between runs.

``ANALYZE`` runs after generating and after projecting, as autovacuum would within a minute:
without planner statistics on the freshly loaded events table, the per-subscriber history
query of the MRR model scans the whole notification index.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from psycopg import sql

from subledger.bootstrap import build_api, build_ledger, build_projector
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.domain.periods import add_months
from subledger.projections.mrr import FOREVER, sortable
from subledger.projections.recognition import microseconds

from .book import FastBook
from .figures import record
from .pg import scratch_database
from .projections import MONTHS, SCHEMA, analyze, raw_cursor_read, say, settings_for

REPORT_RUNS = 5
ROUNDS = 3

Latency = dict[str, tuple[list[float], list[float]]]
"""report -> (its times in ms, the times of the raw read of its rows in ms)"""


@dataclass
class Book:
    """One size of book, made and projected, and what its reports measured so far."""

    subscribers: int
    settings: Settings
    ledger: Ledger
    end: datetime
    events: int
    generate_seconds: float
    project_seconds: float
    raw_seconds: float
    movements: int = 0
    latency_ms: Latency = field(default_factory=dict)


def _timed_ms(fn: Callable[[], Any], runs: int = REPORT_RUNS) -> list[float]:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return times


REPORTS = {"mrr": "mrr", "churn": "churn", "revenue": "revenue", "revenue-1m": "revenue",
           "receivables": "receivables"}
"""The name a measurement is printed under -> the report it times (``revenue-1m``: the last
whole month alone; ``receivables``: what is owed now, aged, which has no window)."""

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
RAW_READS["receivables"] = [
    # What is owed now as a naive report would find it: the invoices left open.
    "SELECT invoice_id, currency, issued_at, amount_due FROM view_invoices"
    " WHERE status IN ('open', 'past_due') AND amount_due > 0"]
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
               "revenue-1m": (month_ago, date(last.year, last.month, 1) - timedelta(days=1)),
               "receivables": (first_month, last)}  # no window: it stands as of now
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
            rows = body.get("buckets") or body.get("periods") or body.get("currencies")
            least = {"revenue-1m": 1, "receivables": 1}.get(name, MONTHS)
            assert rows and len(rows) >= least, (name, body)
            found[name] = (_timed_ms(get), _raw_read_ms(conn, name, window_from, window_to))
        row = conn.execute("SELECT count(*) FROM view_mrr_movements WHERE recorded_to = %s",
                           (FOREVER,)).fetchone()
    return found, int(row[0]) if row else 0


def _month_back(day: date, months: int) -> tuple[int, int, int]:
    index = day.year * 12 + day.month - 1 - months
    return index // 12, index % 12 + 1, 1


def _made(url: str, subscribers: int) -> Book:
    """A book of ``subscribers`` in the database at ``url``, every read model caught up."""
    settings = settings_for(url)
    ledger = build_ledger(settings)
    end = datetime.now(UTC).replace(microsecond=0)
    say(f"  generating {subscribers:,} subscribers ...")
    began = time.perf_counter()
    FastBook(ledger, months=MONTHS, end=end, seed=1).add(subscribers, first=0)
    generate_seconds = time.perf_counter() - began
    analyze(url)
    events = ledger.event_log.max_position()
    say(f"    {subscribers:,} subscribers, {events:,} events; projecting every read model ...")
    projector = build_projector(settings, ledger)
    try:
        began = time.perf_counter()
        projector.run_once()
        project_seconds = time.perf_counter() - began
    finally:
        projector.close()
        projector.store.close()
    analyze(url)
    _, raw_seconds = raw_cursor_read(url)
    return Book(subscribers, settings, ledger, end, events, generate_seconds, project_seconds, raw_seconds)


def _books(stack: ExitStack, sizes: tuple[int, ...]) -> Iterator[Book]:
    for size in sizes:
        book = _made(stack.enter_context(scratch_database()), size)
        stack.callback(book.ledger.close)
        yield book


def run_latency(sizes: tuple[int, ...] = (10_000, 100_000)) -> None:
    """Report latency at each book size (subscribers), through the HTTP app."""
    sizes = tuple(sorted(set(sizes)))
    print(f"projections benchmark (latency), PostgreSQL, books of {', '.join(f'{s:,}' for s in sizes)}"
          f" subscribers made by bench.book ({MONTHS} months), reports timed in {ROUNDS} rounds"
          " alternating between the books")
    began_all = time.perf_counter()
    with ExitStack() as stack:
        books = list(_books(stack, sizes))
        for round_ in range(ROUNDS):
            say(f"  reports, round {round_ + 1} of {ROUNDS} ...")
            for book in books:
                latency, book.movements = _report_latency(book.settings, book.ledger, book.end)
                for name, (times, raw) in latency.items():
                    kept = book.latency_ms.setdefault(name, ([], []))
                    kept[0].extend(times)
                    kept[1].extend(raw)
    _print(books)
    print(f"  ({(time.perf_counter() - began_all) / 60:.1f} min in all)")


def _print(books: list[Book]) -> None:
    first = books[0]
    for book in books:
        print(f"  {book.subscribers:>7,} subscribers, {book.events:>9,} events,"
              f" {book.movements:>7,} current movement rows: generated in {book.generate_seconds:.0f} s"
              f" ({book.events / book.generate_seconds:,.0f} events/s); projected (subscriptions, mrr,"
              f" revenue) in {book.project_seconds:.0f} s ({book.events / book.project_seconds:,.0f}"
              f" events/s; raw cursor read of the whole log {book.events / book.raw_seconds:,.0f} events/s)")
        for name in REPORTS:
            times, raw = book.latency_ms[name]
            median, raw_median = statistics.median(times), statistics.median(raw)
            growth = ""
            if book is not first:
                growth = (f"   x{book.subscribers / first.subscribers:.0f} subscribers ->"
                          f" x{median / statistics.median(first.latency_ms[name][0]):.2f}")
            print(f"      /reports/{name:<10} {median:8.1f} ms (median of {len(times)},"
                  f" {min(times):.0f}-{max(times):.0f}); raw psycopg read of the rows behind it"
                  f" {raw_median:7.1f} ms: {median / raw_median:5.2f}x baseline{growth}")
            record("projections", f"/reports/{name} at {book.subscribers:,} subscribers", median, "ms",
                   "raw read of the rows behind it", raw_median)
            if book is not first:
                record("projections", f"/reports/{name} latency growth, {first.subscribers:,} ->"
                       f" {book.subscribers:,} subscribers", median, "ms",
                       f"at {first.subscribers:,} subscribers", statistics.median(first.latency_ms[name][0]))
