"""The one error map, for errors from the store: a store that cannot serve now is a 503
problem with `Retry-After` (whichever store raised it), a bug that reaches the store stays a
500. (Unreachable databases, for real: tests/e2e/test_e2e_store_outage.py.)"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from eventsourcing.persistence import OperationalError
from fastapi import FastAPI
from support.http import assert_problem
from support.live import LiveServer

from subledger.bootstrap import build_api
from subledger.commands.ledger import Ledger
from subledger.config import Settings

RAISED = {
    "event-store-down": OperationalError("couldn't get a connection after 2.00 sec"),
    "views-down": psycopg.OperationalError("the database did not answer"),
    "views-connection-closed": psycopg.InterfaceError("the connection is closed"),
    "views-busy": sqlite3.OperationalError("database is locked"),
    "bad-sql": psycopg.errors.SyntaxError('syntax error at or near "SELCT"'),
}


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The map does not depend on the store the API runs on."""
    return sqlite_url


@pytest.fixture
def raising(settings: Settings, ledger: Ledger) -> Iterator[httpx.Client]:
    """The API with one more route, ``GET /raise/{name}``, raising ``RAISED[name]``."""
    app: FastAPI = build_api(settings, ledger=ledger)

    @app.get("/raise/{name}")
    def raise_it(name: str) -> None:
        raise RAISED[name]

    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


@pytest.mark.parametrize("name", ["event-store-down", "views-down", "views-connection-closed", "views-busy"])
def test_a_store_that_cannot_serve_now_is_a_503_problem_saying_when_to_retry(raising: httpx.Client, name: str) -> None:
    response = raising.get(f"/raise/{name}")
    assert_problem(response, 503, "store-unavailable")
    assert int(response.headers["Retry-After"]) > 0


def test_a_bug_that_reaches_the_store_stays_a_500_without_retry_after(raising: httpx.Client) -> None:
    response = raising.get("/raise/bad-sql")
    assert_problem(response, 500, "internal-error")
    assert "Retry-After" not in response.headers
