"""Commands per second on PostgreSQL, each next to two baselines measured in the same run:
raw psycopg single-row INSERT+commit (the floor of one durable write), and raw psycopg
writing the rows the command wrote in as many transactions (:mod:`.raw_writes`), from
what the server's statistics say the command did (:mod:`.census`).

The commands: register a subscriber, change a subscription now (with its proration charge),
a renewal by the billing run (:mod:`.command_runs`); and changes over HTTP.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import httpx
import psycopg

from .command_runs import KINDS, Measured, measure, open_ledger, paying_book
from .figures import record
from .pg import scratch_database
from .raw_writes import raw_rate

PAYLOAD = b"x" * 300  # about the size of a stored subscription event
SINGLE = "raw psycopg INSERT+commit"
SAME = "raw psycopg, same rows and transactions"
WARM_UP = 50
"""Changes sent to a server, 4 clients at once, before it is timed."""
SERVERS = ((False, 1), (False, 2), (True, 2))
"""The servers timed over HTTP: (with the workers, API processes)."""


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def raw_insert_commit(url: str, n: int) -> float:
    """Baseline: one INSERT and one COMMIT per row, psycopg 3, same server."""
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw")
        conn.execute("CREATE TABLE bench_raw (id bigserial PRIMARY KEY, k uuid, v integer, state bytea)")
        conn.commit()
        import uuid

        def go() -> None:
            for i in range(n):
                conn.execute("INSERT INTO bench_raw (k, v, state) VALUES (%s, %s, %s)",
                             (uuid.uuid4(), i, PAYLOAD))
                conn.commit()

        return rate(n, timed(go))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_rates(url: str, n: int, clients: int, *, workers: bool, processes: int) -> tuple[float, float]:
    """Changes/s over HTTP to `subledger serve --processes P` in processes of its own: one
    client, then ``clients`` concurrent clients. Without ``workers`` the server is the API
    alone (``--no-workers``), as when the projector runs in its own process; with them, the
    projector shares the machine's cores."""
    schema = f"bench_http_{processes}{'_workers' if workers else ''}"
    ledger = open_ledger(url, schema)
    try:
        subs = [str(s) for s in paying_book(ledger, 2 * n + min(WARM_UP, n), 3)]
    finally:
        ledger.close()
    port = _free_port()
    # The clock off: only the changes are measured.
    env = dict(os.environ, SUBLEDGER_DATABASE_URL=url + f"?schema={schema}",
               SUBLEDGER_BILLING_INTERVAL="0")
    server = subprocess.Popen(
        [sys.executable, "-m", "subledger.cli", "serve", "--port", str(port),
         "--processes", str(processes), *(() if workers else ("--no-workers",))],
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
            post_changes(port, ids, quantity)

        # Every process's pool and prepared statements warm before anything is timed.
        warm = subs[2 * n:]
        _parallel([warm[i::clients] for i in range(clients)], drive, 5)
        single = rate(n, timed(lambda: drive(subs[:n], 3)))
        chunks = [subs[n + i:2 * n:clients] for i in range(clients)]
        concurrent = rate(n, timed(lambda: _parallel(chunks, drive, 4)))
        return single, concurrent
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


def _parallel(chunks: list[list[str]], drive: Callable[[list[str], int], None], quantity: int) -> None:
    """``drive`` each chunk at once, one thread (one client) each."""
    threads = [threading.Thread(target=drive, args=(chunk, quantity)) for chunk in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def post_changes(port: int, ids: list[str], quantity: int) -> None:
    """``POST /subscriptions/{id}/change`` for each id, one kept-alive connection. The load
    generator shares the machine's two cores with the server and PostgreSQL, so it is the
    standard library's ``http.client``, which costs a client a fraction of what httpx does
    (one client went from 104-120/s to 131-148/s against the same server)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"quantity": quantity}).encode()
    headers = {"Content-Type": "application/json"}
    try:
        for sid in ids:
            conn.request("POST", f"/subscriptions/{sid}/change", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"change of {sid} answered {response.status}")
    finally:
        conn.close()


def run(n: int = 1000) -> None:
    print(f"commands benchmark, PostgreSQL, n={n} per measurement")
    with scratch_database() as url:
        measured: list[tuple[Measured, float, float]] = []
        for i, kind in enumerate(KINDS):
            # Both baselines next to the command they are for: the machine's speed drifts.
            single = raw_insert_commit(url, n)
            found = measure(url, f"bench_{i}", kind, n)
            measured.append((found, single, raw_rate(url, found.census, found.last_event, f"bench_{i}")))
        change = next(m for m in measured if m[0].kind == "change subscription now")
        single = raw_insert_commit(url, n)
        http = {setup: http_rates(url, n, clients=4, workers=setup[0], processes=setup[1])
                for setup in SERVERS}
    for found, one, same in measured:
        _print(found, one, same)
        record("commands", f"application: {found.kind}", found.rate, "/s", SINGLE, one)
        record("commands", f"application: {found.kind}", found.rate, "/s", SAME, same)
    for (workers, processes), rates in http.items():
        server = (f"{'serve with its workers' if workers else 'the API alone'},"
                  f" {processes} process{'es' if processes > 1 else ''}")
        for clients, value in zip((1, 4), rates, strict=True):
            name = (f"HTTP ({server}): change subscription now,"
                    f" {clients} client{'s' if clients > 1 else ''}")
            print(f"  {name}: {value:,.0f}/s  {value / change[0].rate:.3f}x the application's"
                  f" change ({change[0].rate:,.0f}/s)  {value / single:.3f}x single-row ({SINGLE}:"
                  f" {single:,.0f}/s)")
            record("commands", name, value, "/s", "the application's change", change[0].rate)
        print(f"    {server}: 4 clients {rates[1] / rates[0]:.2f}x one client")
        record("commands", f"HTTP ({server}): 4 clients against 1", rates[1], "/s",
               "1 client, same server", rates[0])


def _print(found: Measured, single: float, same: float) -> None:
    c = found.census
    print(f"  application: {found.kind}: {found.rate:,.0f}/s  {found.rate / single:.3f}x single-row"
          f" ({SINGLE}: {single:,.0f}/s)  {found.rate / same:.3f}x same rows ({SAME}: {same:,.0f}/s)")
    print(f"    per command: {c.describe()}")
