"""Commands per second on PostgreSQL: through the Python application and through HTTP,
each next to raw psycopg single-row INSERT+commit measured in the same run.

A "command" here is one subscription change (load the aggregate, decide, append one event
in one transaction), the commonest write of a running ledger; registrations (one new
aggregate each) are measured too.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import psycopg

from subledger.bootstrap import build_ledger
from subledger.config import Settings

from .figures import record
from .pg import scratch_database

PAYLOAD = b"x" * 300  # about the size of a stored subscription event


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def raw_insert_commit(url: str, n: int) -> float:
    """Baseline: one INSERT and one COMMIT per row, psycopg 3, same server."""
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE bench_raw (id bigserial PRIMARY KEY, k uuid, v integer, state bytea)")
        conn.commit()
        import uuid

        def go() -> None:
            for i in range(n):
                conn.execute("INSERT INTO bench_raw (k, v, state) VALUES (%s, %s, %s)",
                             (uuid.uuid4(), i, PAYLOAD))
                conn.commit()

        return rate(n, timed(go))


def _setup_book(ledger, n: int) -> list:  # type: ignore[no-untyped-def]
    start = datetime.now(UTC) - timedelta(days=3)
    ledger.catalog.create_plan(plan_id="bench-m", name="Bench", tier="basic", currency="USD",
                       amount=1000, interval="month", effective_at=start)
    subs = []
    for _ in range(n):
        subscriber = ledger.subscribers.register(email="b@example.com", name="Bench", effective_at=start)
        subs.append(ledger.subscriptions.start(subscriber.id, plan_id="bench-m", effective_at=start).id)
    return subs


def application_rates(url: str, n: int) -> tuple[float, float]:
    ledger = build_ledger(Settings.from_env({"SUBLEDGER_DATABASE_URL": url + "?schema=public"}))
    try:
        subs = _setup_book(ledger, n)
        registrations = rate(n, timed(lambda: [
            ledger.subscribers.register(email="r@example.com", name="R") for _ in range(n)]))
        changes = rate(n, timed(lambda: [
            ledger.subscriptions.change(s, quantity=2, when="now") for s in subs]))
        return registrations, changes
    finally:
        ledger.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_rates(url: str, n: int, clients: int) -> tuple[float, float]:
    """Changes/s over HTTP to `subledger serve` in its own process: one client, then
    ``clients`` concurrent clients."""
    ledger = build_ledger(Settings.from_env({"SUBLEDGER_DATABASE_URL": url + "?schema=bench_http"}))
    subs = [str(s) for s in _setup_book(ledger, 2 * n)]
    ledger.close()
    port = _free_port()
    # The clock off: its retries of the book's failed charges would race the changes measured.
    env = dict(os.environ, SUBLEDGER_DATABASE_URL=url + "?schema=bench_http",
               SUBLEDGER_BILLING_INTERVAL="0")
    server = subprocess.Popen(
        [sys.executable, "-m", "subledger.cli", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.1)

        def drive(ids: list[str], quantity: int) -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                for sid in ids:
                    r = client.post(f"/subscriptions/{sid}/change", json={"quantity": quantity})
                    r.raise_for_status()

        single = rate(n, timed(lambda: drive(subs[:n], 3)))
        chunks = [subs[n + i::clients] for i in range(clients)]

        def parallel() -> None:
            threads = [threading.Thread(target=drive, args=(chunk, 4)) for chunk in chunks]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

        concurrent = rate(n, timed(parallel))
        return single, concurrent
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


def run(n: int = 1000) -> None:
    print(f"commands benchmark, PostgreSQL, n={n} per measurement")
    with scratch_database() as url:
        baseline = raw_insert_commit(url, n)
        registrations, changes = application_rates(url, n)
        single, concurrent = http_rates(url, n, clients=4)
    rows = [
        ("raw psycopg INSERT+commit (baseline)", baseline),
        ("application: register subscriber", registrations),
        ("application: change subscription (load+decide+save)", changes),
        ("HTTP: change subscription, 1 client", single),
        ("HTTP: change subscription, 4 clients", concurrent),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value:8.0f}/s  {value / baseline:5.2f}x baseline")
    for name, value in rows[1:]:
        record("commands", name, value, "/s", rows[0][0], baseline)
