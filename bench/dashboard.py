"""The dashboard's first paint on a book of 100k subscribers (``python -m bench dashboard``).

The book is made by :mod:`bench.book` (12 months, as the projections benchmark's latency
part), its read models caught up, on PostgreSQL; the API is served by uvicorn on a loopback
port and the page opened in Debian's headless chromium through Playwright, a fresh browser
context (no cache) per run. Timed from navigation start, by the browser itself: the first
contentful paint (the page's frame, controls and empty charts), the charts drawn (the MRR,
churn, revenue and receivables reports answered and drawn:
``performance.mark("dashboard:reports")``),
and the cohort matrix (folded from the log on each request, asked after the charts:
``dashboard:cohorts``); with each report request's own time. The baseline, in the same run
and the same browser: the first contentful paint of the API's own docs page (``/docs``).
"""

from __future__ import annotations

import shutil
import statistics
import threading
import time
from datetime import UTC, datetime
from typing import Any

import uvicorn

from subledger.bootstrap import build_api, build_ledger, build_projector

from .book import FastBook
from .figures import record
from .pg import scratch_database
from .projections import MONTHS, analyze, say, settings_for

RUNS = 5
WAIT = 900_000
"""Milliseconds a visit waits for each step."""
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMINGS = """() => {
    const paint = performance.getEntriesByName("first-contentful-paint")[0];
    const mark = name => (performance.getEntriesByName(name)[0] || {}).startTime ?? null;
    const reports = {};
    for (const r of performance.getEntriesByType("resource")) {
        const path = new URL(r.name).pathname;
        if (path.startsWith("/reports/")) reports[path] = r.duration;
    }
    return {fcp: paint ? paint.startTime : null, charts: mark("dashboard:reports"),
            cohorts: mark("dashboard:cohorts"), reports};
}"""


class _Server:
    def __init__(self, app: Any, port: int) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                                    log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _visit(browser: Any, url: str, ready: list[str]) -> dict[str, Any]:
    """Open ``url`` in a fresh context and wait for each of ``ready`` in turn, each for at
    most ``WAIT`` (a step not reached within it is timed as None, not a crash)."""
    from playwright.sync_api import TimeoutError as Timeout

    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(url)
    for selector in ready:
        try:
            page.wait_for_selector(selector, state="attached", timeout=WAIT)
        except Timeout:
            break
    timings: dict[str, Any] = page.evaluate(TIMINGS)
    context.close()
    return timings


def _measure(url: str) -> tuple[list[dict[str, Any]], list[float]]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=FLAGS)
        try:
            _visit(browser, url + "/", ["body[data-loaded=reports]"])  # warm the server's caches
            runs = [_visit(browser, url + "/", ["body[data-loaded=reports]", "body[data-cohorts=loaded]"])
                    for _ in range(RUNS)]
            docs = [_visit(browser, url + "/docs", ["#swagger-ui"])["fcp"] for _ in range(RUNS)]
        finally:
            browser.close()
    return runs, docs


def run(subscribers: int = 100_000, port: int = 8765) -> None:
    print(f"dashboard benchmark, PostgreSQL, a book of {subscribers:,} subscribers made by"
          f" bench.book ({MONTHS} months); headless chromium, median of {RUNS} fresh visits")
    began = time.perf_counter()
    with scratch_database() as url:
        settings = settings_for(url)
        ledger = build_ledger(settings)
        projector = build_projector(settings, ledger)
        try:
            say(f"  generating {subscribers:,} subscribers ...")
            FastBook(ledger, months=MONTHS, end=datetime.now(UTC).replace(microsecond=0), seed=1).add(
                subscribers, first=0)
            analyze(url)
            say(f"    {ledger.event_log.max_position():,} events; projecting ...")
            projector.run_once()
            analyze(url)
            with _Server(build_api(settings, ledger=ledger, projector=projector), port):
                runs, docs = _measure(f"http://127.0.0.1:{port}")
            events = ledger.event_log.max_position()
        finally:
            projector.close()
            projector.store.close()
            ledger.close()
    docs_fcp = statistics.median(d for d in docs if d is not None)

    def line(name: str, measured: list[float | None]) -> str:
        values = [v for v in measured if v is not None]
        if not values:
            return f"  {name:<34} not reached within {WAIT / 1000:.0f} s"
        median = statistics.median(values)
        record("dashboard", name.strip(), median, "ms", "/docs first contentful paint", docs_fcp)
        return (f"  {name:<34} {median:8.0f} ms (median; {min(values):.0f}-{max(values):.0f})"
                f"  {median / docs_fcp:6.2f}x baseline")

    print(f"  book: {events:,} events")
    print(line("/docs first contentful paint", docs) + " (the baseline)")
    print(line("dashboard first contentful paint", [r["fcp"] for r in runs]))
    print(line("dashboard charts drawn", [r["charts"] for r in runs]))
    print(line("dashboard cohort matrix drawn", [r["cohorts"] for r in runs]))
    for path in sorted(runs[0]["reports"]):
        print(line(f"  {path} (request)", [r["reports"].get(path) for r in runs]))
    print(f"  ({(time.perf_counter() - began) / 60:.1f} min in all)")
