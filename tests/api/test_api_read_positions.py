"""Which reads wait for a ``Subledger-Min-Position``, and on what: a position beyond the log's
head is refused at once; a read waits for the read models it reads and no other.

The server runs with no projector; each test runs the models it wants applied by hand, as a
slow, stalled or rebuilding projector would leave them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from support.http import api_events, api_subscription, assert_problem
from support.live import LiveServer

from subledger.bootstrap import build_api, read_models
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.projections.runner import ProjectionRunner
from subledger.projections.store import ViewStore

POSITION, MIN_POSITION = "Subledger-Position", "Subledger-Min-Position"
WAIT = 3.0
"""The server's SUBLEDGER_READ_WAIT here: longer than any delay of a test's projector."""
MOVEMENTS = {"from": "2026-01-01", "to": "2026-12-31"}


@pytest.fixture
def http(settings: Settings, ledger: Ledger) -> Iterator[httpx.Client]:
    with LiveServer(build_api(replace(settings, read_wait=WAIT), ledger=ledger)) as server, \
            httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def runner_of(settings: Settings, ledger: Ledger) -> Iterator[Callable[..., ProjectionRunner]]:
    """A projection runner over only the named read models (the others stay where they are)."""
    made: list[ProjectionRunner] = []

    def make(*names: str) -> ProjectionRunner:
        runner = ProjectionRunner(ledger.event_log, ViewStore(settings),
                                  [m for m in read_models(ledger) if m.name in names])
        made.append(runner)
        return runner

    yield make
    for runner in made:
        runner.close()
        runner.store.close()


def _refund(http: httpx.Client, before: Callable[[], Any]) -> int:
    """A paid subscription and a refund of it, ``before`` run between the two; the
    refund's position."""
    api_subscription(http, "pro-m", plan={"amount": 4900, "trial_days": 0})
    [charge] = api_events(http, "ChargeSucceeded")
    before()
    refund = http.post(f"/charges/{charge['data']['charge_id']}/refunds", json={"amount": 500})
    assert refund.status_code == 201, refund.text
    return int(refund.headers[POSITION])


def _later(action: Callable[[], Any], read: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    """``read``'s answer while ``action`` runs half a second after it started, and its time."""
    timer = threading.Timer(0.5, action)
    started = time.monotonic()
    timer.start()
    try:
        answer = read()
    finally:
        timer.join()
    return answer, time.monotonic() - started


def test_a_position_beyond_the_logs_head_is_a_400_at_once_that_changes_nothing(
    http: httpx.Client, projector: Any,
) -> None:
    written = _refund(http, projector.run_once)
    before = (api_events(http), projector.checkpoints())
    started = time.monotonic()

    answer = http.get("/invoices", headers={MIN_POSITION: str(written + 1)})

    problem = assert_problem(answer, 400, "position-unknown")
    assert f"beyond the log's head, {written}" in problem["detail"], problem
    assert POSITION not in answer.headers
    assert time.monotonic() - started < 1
    assert (api_events(http), projector.checkpoints()) == before


def test_a_read_waits_only_for_the_read_models_it_reads(
    http: httpx.Client, runner_of: Callable[..., ProjectionRunner],
) -> None:
    everything, but_invoices = runner_of("subscriptions", "mrr", "revenue", "invoices"), \
        runner_of("subscriptions", "mrr", "revenue")
    written = _refund(http, everything.run_once)
    but_invoices.run_once()  # invoices stays behind the refund, as a model rebuilding would
    started = time.monotonic()

    movements = http.get("/reports/mrr/movements", params=MOVEMENTS,
                         headers={MIN_POSITION: str(written)})
    answered_at_once = time.monotonic() - started
    invoices = http.get("/invoices", headers={MIN_POSITION: str(written)})

    assert movements.status_code == 200, movements.text
    assert answered_at_once < 1
    assert int(movements.headers[POSITION]) == everything.checkpoints()["mrr"] >= written
    problem = assert_problem(invoices, 503, "read-model-behind")
    assert "the read models invoices have applied" in problem["detail"], problem


def test_a_report_answers_the_position_its_own_models_applied(
    http: httpx.Client, runner_of: Callable[..., ProjectionRunner],
) -> None:
    revenue = runner_of("revenue")
    written = _refund(http, lambda: None)
    revenue.run_once()  # mrr, subscriptions and invoices never ran

    lines = http.get("/reports/revenue/lines", params=MOVEMENTS, headers={MIN_POSITION: str(written)})

    assert lines.status_code == 200, lines.text
    assert int(lines.headers[POSITION]) == revenue.checkpoints()["revenue"] >= written


def test_every_model_a_route_names_is_one_the_server_waits_on(settings: Settings, ledger: Ledger) -> None:
    """A misspelt name would never be waited on: its route would answer at once, silently."""
    app = build_api(settings, ledger=ledger)
    named = {name for context in iter_route_contexts(app.routes)
             if isinstance(route := context.original_route, APIRoute)
             for dependency in route.dependant.dependencies
             for name in getattr(dependency.call, "read_models", ())}

    assert named == set(app.state.read_models)
