"""`subledger serve` on PostgreSQL through a TCP proxy that plays the database going away,
without touching the real server (the whole suite shares it): stopped (connections refused,
open ones reset) or vanished (connections kept, nothing answered). Meanwhile every request
answers promptly, 503 with `Retry-After` for what needs the store, and nothing is appended;
once the database is back, the same server serves again by itself."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from support.concurrency import run_together
from support.http import api_events, api_subscription, assert_problem
from support.serve import served
from support.tcp_proxy import TcpProxy

BOUND = 5.0
"""Seconds any request may take while the store is out of reach: the store timeout is 2 s,
the rest is room for a loaded machine. A correctness bound (clients and load balancers need
an answer), not a benchmark."""

RECOVERY = 60.0
"""Seconds the server has to serve again once the database is back."""


@pytest.fixture
def proxy(pg_schema_url: str) -> Iterator[TcpProxy]:
    parts = urlsplit(pg_schema_url)
    assert parts.hostname is not None
    with TcpProxy(parts.hostname, parts.port or 5432) as proxy:
        yield proxy


def through(proxy: TcpProxy, url: str) -> str:
    """The database URL with the proxy's port instead of the server's."""
    parts = urlsplit(url)
    netloc = f"{parts.netloc.rsplit('@', 1)[0]}@127.0.0.1:{proxy.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def answered_promptly(request: Callable[[], httpx.Response]) -> httpx.Response:
    started = time.monotonic()
    response = request()
    took = time.monotonic() - started
    assert took < BOUND, f"{response.request.method} {response.request.url} took {took:.1f} s"
    return response


def the_requests(http: httpx.Client, subscriber_id: str) -> dict[str, Callable[[], httpx.Response]]:
    """A command, a read of the log, a report of the read models."""
    return {
        "command": lambda: http.post("/subscribers", json={"email": "bo@example.com", "name": "Bo"}),
        "read": lambda: http.get(f"/subscribers/{subscriber_id}"),
        "report": lambda: http.get("/reports/mrr", params={"from": "2026-01-01", "to": "2026-03-31"}),
    }


@pytest.mark.parametrize("outage", ["refuse", "blackhole"], ids=["stopped", "vanished"])
def test_a_server_whose_database_is_out_of_reach_answers_every_request_promptly_and_recovers_by_itself(
    outage: str, pg_schema_url: str, proxy: TcpProxy, tmp_path: Path,
) -> None:
    environ = {"SUBLEDGER_DATABASE_URL": through(proxy, pg_schema_url)}
    with served(environ, tmp_path / "serve.log") as url, httpx.Client(base_url=url, timeout=60) as http:
        subscriber_id = api_subscription(http)["subscriber_id"]
        requests = the_requests(http, subscriber_id)
        log = api_events(http)

        getattr(proxy, outage)()
        ready = answered_promptly(lambda: http.get("/readyz"))
        assert ready.status_code == 503, ready.text
        assert set(ready.json()) == {"status", "store", "lag", "workers"}
        assert (ready.json()["status"], ready.json()["store"]) == ("unavailable", "unavailable")
        for name, request in requests.items():
            response = answered_promptly(request)
            assert_problem(response, 503, "store-unavailable")
            assert int(response.headers["Retry-After"]) > 0, name
        # Requests that queue for the read models' one connection are not served one store
        # timeout after another.
        together = run_together(4, lambda _: answered_promptly(requests["report"]))
        assert [response.status_code for response in together] == [503] * 4
        bad_input = answered_promptly(lambda: http.post("/subscribers", json={"email": 42}))
        assert_problem(bad_input, 422, "validation-error")
        assert answered_promptly(lambda: http.get("/healthz")).status_code == 200

        proxy.restore()
        deadline = time.monotonic() + RECOVERY
        while (ready := http.get("/readyz")).status_code != 200:
            assert time.monotonic() < deadline, ready.text
            time.sleep(0.2)
        assert api_events(http) == log, "nothing was appended during the outage"
        statuses = {name: request().status_code for name, request in requests.items()}
        assert statuses == {"command": 201, "read": 200, "report": 200}
