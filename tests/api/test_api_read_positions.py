"""Which reads wait for a ``Subledger-Min-Position``, and on what: a position beyond the log's
head is refused at once; a read waits for the read models it reads and no other; the audit
routes wait for the Merkle tree, and the pages that show read models wait for them too.

The server runs with no projector; each test runs the models it wants applied by hand, as a
slow, stalled or rebuilding projector would leave them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from support import reads
from support.http import api_events, api_subscription, assert_problem
from support.live import LiveServer
from support.portal import PortalWorld
from support.reads import MIN_POSITION, POSITION, WAIT

from subledger.bootstrap import build_api, build_merkle_follower, read_models
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.projections.runner import ProjectionRunner
from subledger.projections.store import ViewStore

MOVEMENTS = {"from": "2026-01-01", "to": "2026-12-31"}

http = reads.http  # support/reads.py's live API, under the name the tests take


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


def _later(action: Callable[[], Any], read: Callable[[], httpx.Response]) -> httpx.Response:
    """``read``'s answer while ``action`` runs half a second after it started. No timing is
    asserted: a read that answers 200 with a position at or after the one it asked for can
    only have answered once ``action`` brought its models there, and one that did not wait
    for them, or waited in vain, would answer otherwise (stale, or 503)."""
    timer = threading.Timer(0.5, action)
    timer.start()
    try:
        return read()
    finally:
        timer.join()


def test_a_position_beyond_the_logs_head_is_a_400_at_once_that_changes_nothing(
    http: httpx.Client, projector: Any,
) -> None:
    written = _refund(http, projector.run_once)
    before = (api_events(http), projector.checkpoints())

    # Waiting could not help: the models stay behind a position the log never reached, so a
    # read that waited would answer 503 read-model-behind, not 400.
    answer = http.get("/invoices", headers={MIN_POSITION: str(written + 1)})

    problem = assert_problem(answer, 400, "position-unknown")
    assert f"beyond the log's head, {written}" in problem["detail"], problem
    assert POSITION not in answer.headers
    assert (api_events(http), projector.checkpoints()) == before


def test_a_read_waits_only_for_the_read_models_it_reads(
    http: httpx.Client, runner_of: Callable[..., ProjectionRunner],
) -> None:
    everything, but_invoices = runner_of("subscriptions", "mrr", "revenue", "invoices"), \
        runner_of("subscriptions", "mrr", "revenue")
    written = _refund(http, everything.run_once)
    but_invoices.run_once()  # invoices stays behind the refund, as a model rebuilding would

    # Waiting for invoices too, movements would answer 503 like the invoices below.
    movements = http.get("/reports/mrr/movements", params=MOVEMENTS,
                         headers={MIN_POSITION: str(written)})
    invoices = http.get("/invoices", headers={MIN_POSITION: str(written)})

    assert movements.status_code == 200, movements.text
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


def test_an_audit_proof_waits_for_the_merkle_tree_to_hold_the_position(
    http: httpx.Client, settings: Settings, ledger: Ledger,
) -> None:
    written = _refund(http, lambda: None)
    follower = build_merkle_follower(settings, ledger)
    try:
        answer = _later(follower.run_once, lambda: http.get(
            "/audit/proof/inclusion", params={"position": written}, headers={MIN_POSITION: str(written)}))
    finally:
        follower.close()

    assert answer.status_code == 200, answer.text
    assert answer.json()["position"] == written
    assert int(answer.headers[POSITION]) >= written


def test_the_portal_waits_for_the_invoices_to_hold_the_position(portal_world: PortalWorld) -> None:
    with portal_world.portal_client(portal_world.ada) as browser:
        portal_world.open_session(portal_world.bob)  # a write the projector has not applied
        with portal_world.api() as api:
            written = int(api.get("/events").json()["items"][-1]["position"])
        answer = _later(portal_world.catch_up, lambda: browser.get(
            "/portal", headers={MIN_POSITION: str(written)}))

    assert answer.status_code == 200, answer.text
    assert int(answer.headers[POSITION]) >= written


def test_the_dashboard_waits_for_the_models_it_shows(
    http: httpx.Client, runner_of: Callable[..., ProjectionRunner],
) -> None:
    shown = runner_of("mrr", "revenue", "subscriptions")  # an open server: anyone is signed in
    written = _refund(http, lambda: None)

    answer = _later(shown.run_once, lambda: http.get("/", headers={MIN_POSITION: str(written)}))

    assert answer.status_code == 200, answer.text
    assert int(answer.headers[POSITION]) >= written


def test_an_unknown_visitor_cannot_make_a_page_wait(portal_world: PortalWorld) -> None:
    portal_world.open_session(portal_world.bob)
    with portal_world.api() as api:
        written = int(api.get("/events").json()["items"][-1]["position"])
    with portal_world.browser_client() as stranger:
        # Made to wait, the page would answer 503 read-model-behind: nothing catches up.
        answer = stranger.get("/portal", headers={MIN_POSITION: str(written)})

    assert answer.status_code == 401


def test_every_model_a_route_names_is_one_the_server_waits_on(settings: Settings, ledger: Ledger) -> None:
    """A misspelt name would never be waited on: its route would answer at once, silently."""
    app = build_api(settings, ledger=ledger)
    named = {name for context in iter_route_contexts(app.routes)
             if isinstance(route := context.original_route, APIRoute)
             for dependency in route.dependant.dependencies
             for name in getattr(dependency.call, "read_models", ())}

    assert named == set(app.state.read_models)


def test_with_projector_members_the_list_of_subscriptions_neither_waits_nor_claims_a_position(
    settings: Settings, ledger: Ledger,
) -> None:
    """Their checkpoints count Kafka offsets: nothing says which position they have applied."""
    grouped = replace(settings, read_wait=WAIT, projector_group="members")
    with LiveServer(build_api(grouped, ledger=ledger)) as server, \
            httpx.Client(base_url=server.url, timeout=30) as http:
        written = _refund(http, lambda: None)  # no model has run: a wait would end in 503

        answer = http.get("/subscriptions", headers={MIN_POSITION: str(written)})

    assert answer.status_code == 200, answer.text
    assert POSITION not in answer.headers
