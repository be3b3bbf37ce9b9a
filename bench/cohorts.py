"""The cohort matrix's latency (``python -m bench cohorts --cohorts-at N``), folded from the
log and read from the ``mrr`` model's cohort totals, on the same book in the same run.

The book is made by :mod:`bench.book` (12 months) on PostgreSQL and its read models caught
up. The baseline is what ``GET /reports/cohorts`` did before it read the model and what
``subledger replay cohorts`` still does: the whole log folded into a ``replay.book.Book`` and
the matrix computed from it. Against it: the route itself over real HTTP (uvicorn on a
loopback port), the window of the book's 12 months, now and as known when half the log was
recorded.
"""

from __future__ import annotations

import statistics
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta

from subledger.bootstrap import build_api, build_ledger, build_projector
from subledger.projections.bitemporal import FOREVER
from subledger.projections.mrr import COHORTS
from subledger.projections.report_window import Window
from subledger.replay.book import Book
from subledger.replay.cohorts import cohort_report
from subledger.replay.folds import run_fold
from subledger.replay.reader import Replay

from .book import FastBook
from .dashboard import _Server
from .figures import record
from .pg import scratch_database
from .projections import MONTHS, analyze, say, settings_for

RUNS = 5


def _median_ms(call: object, runs: int) -> tuple[float, float, float]:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        call()  # type: ignore[operator]
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), min(times), max(times)


def run(subscribers: int = 10_000, port: int = 8766) -> None:
    print(f"cohorts benchmark, PostgreSQL, a book of {subscribers:,} subscribers made by"
          f" bench.book ({MONTHS} months); median of {RUNS} requests (the fold: of 2)")
    end = datetime.now(UTC).replace(microsecond=0)
    first = (end - timedelta(days=31 * MONTHS)).date().replace(day=1)
    window = Window(first, end.date(), "month")
    query = f"from={first.isoformat()}&to={end.date().isoformat()}"
    with scratch_database() as url:
        settings = settings_for(url)
        ledger = build_ledger(settings)
        projector = build_projector(settings, ledger)
        try:
            say(f"  generating {subscribers:,} subscribers ...")
            FastBook(ledger, months=MONTHS, end=end, seed=1).add(subscribers, first=0)
            analyze(url)
            say(f"    {ledger.event_log.max_position():,} events; projecting ...")
            projector.run_once()
            analyze(url)
            events = ledger.event_log.max_position()
            halfway = ledger.event_log.read(events // 2, 1).items[0]["recorded_at"]
            with projector.store.transaction() as tx:
                rows = tx.execute(f"SELECT count(*) FROM {COHORTS.table} WHERE recorded_to = ?",
                                  (FOREVER,)).fetchone()[0]

            def fold() -> None:
                cohort_report(run_fold(Replay(ledger.event_log), Book()).value, window, None, None)

            folded = _median_ms(fold, 2)
            with _Server(build_api(settings, ledger=ledger, projector=projector), port):
                base = f"http://127.0.0.1:{port}/reports/cohorts?{query}"
                known = urllib.parse.quote(str(halfway))
                urllib.request.urlopen(base).read()  # warm the connection pool
                now = _median_ms(lambda: urllib.request.urlopen(base).read(), RUNS)
                then = _median_ms(lambda: urllib.request.urlopen(f"{base}&as_known_at={known}").read(), RUNS)
        finally:
            projector.close()
            projector.store.close()
            ledger.close()
    print(f"  book: {events:,} events, {rows:,} cohort rows believed now; window {first} to {end.date()}")
    for name, (median, low, high) in (("replay fold + matrix (baseline)", folded),
                                      ("GET /reports/cohorts", now), ("GET /reports/cohorts as known at", then)):
        record("cohorts", name, median, "ms", "replay fold + matrix", folded[0])
        print(f"  {name:<34} {median:9.1f} ms (median; {low:.1f}-{high:.1f})  {median / folded[0]:8.4f}x baseline")
