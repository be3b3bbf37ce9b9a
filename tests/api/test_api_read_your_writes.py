"""Reading one's own writes: a write answers ``Subledger-Position``; a read of the read models
sent with ``Subledger-Min-Position`` answers once they have applied it, or 503
``read-model-behind`` after ``SUBLEDGER_READ_WAIT``; every such read answers the position its
read models had applied.

The server runs without a projector; each test runs it by hand (``projector.run_once()``),
late or never, as a slow or stalled projector would."""

from __future__ import annotations

import csv
import io
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from support import reads
from support.http import api_events, api_subscription, assert_problem
from support.reads import MIN_POSITION, POSITION, WAIT

http = reads.http  # support/reads.py's live API, under the name the tests take


@dataclass(frozen=True)
class Refunded:
    """A paid subscription whose charge was just refunded (500 of it), before the projector
    ran again."""

    http: httpx.Client
    subscriber_id: str
    invoice_id: str
    position: int


@pytest.fixture
def refunded(http: httpx.Client, projector: Any) -> Refunded:
    subscription = api_subscription(http, "pro-m", plan={"amount": 4900, "trial_days": 0})
    [charge] = api_events(http, "ChargeSucceeded")
    projector.run_once()
    refund = http.post(f"/charges/{charge['data']['charge_id']}/refunds", json={"amount": 500})
    assert refund.status_code == 201, refund.text
    return Refunded(http, subscription["subscriber_id"], charge["data"]["invoice_id"],
                    int(refund.headers[POSITION]))


def _refunded(answer: httpx.Response, invoice_id: str) -> int:
    assert answer.status_code == 200, answer.text
    [row] = [r for r in csv.DictReader(io.StringIO(answer.text)) if r["invoice_id"] == invoice_id]
    return int(row["refunded"])


def test_a_write_answers_a_position_at_or_after_its_last_event(refunded: Refunded) -> None:
    [refund] = api_events(refunded.http, "RefundIssued")

    assert refunded.position >= refund["position"]


def test_a_read_with_the_writes_position_sees_it_though_the_projector_is_slow(
    refunded: Refunded, projector: Any,
) -> None:
    later = threading.Timer(0.5, projector.run_once)
    later.start()
    try:
        started = time.monotonic()
        answer = refunded.http.get(f"/subscribers/{refunded.subscriber_id}/invoices",
                                   params={"format": "csv"},
                                   headers={MIN_POSITION: str(refunded.position)})
    finally:
        later.join()

    assert _refunded(answer, refunded.invoice_id) == 500
    assert int(answer.headers[POSITION]) >= refunded.position
    assert time.monotonic() - started > 0.4  # it waited for the projector


def test_a_read_without_the_header_answers_at_once_what_is_applied(refunded: Refunded) -> None:
    answer = refunded.http.get(f"/subscribers/{refunded.subscriber_id}/invoices",
                               params={"format": "csv"})

    assert _refunded(answer, refunded.invoice_id) == 0  # the projector has not run since
    assert int(answer.headers[POSITION]) < refunded.position


def test_a_position_not_reached_in_time_is_a_503_that_changes_nothing(
    refunded: Refunded, projector: Any,
) -> None:
    before = (api_events(refunded.http), projector.checkpoints())
    started = time.monotonic()

    answer = refunded.http.get("/reports/revenue", headers={MIN_POSITION: str(refunded.position)},
                               params={"from": "2026-01-01", "to": "2026-12-31", "interval": "month"})

    problem = assert_problem(answer, 503, "read-model-behind")
    assert answer.headers["Retry-After"].isdigit()
    assert POSITION not in answer.headers
    assert f"short of position {refunded.position}" in problem["detail"], problem
    assert time.monotonic() - started > WAIT - 0.5  # it waited the whole bound first
    assert (api_events(refunded.http), projector.checkpoints()) == before


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "99999999999999999999"])
def test_a_malformed_position_is_a_422(http: httpx.Client, value: str) -> None:
    answer = http.get("/invoices", headers={MIN_POSITION: value})

    assert_problem(answer, 422, "validation-error")


def test_reads_of_the_log_answer_at_once_whatever_the_read_models_applied(refunded: Refunded) -> None:
    for path in ("/events", f"/subscribers/{refunded.subscriber_id}/history"):
        answer = refunded.http.get(path, headers={MIN_POSITION: str(refunded.position)})

        assert answer.status_code == 200, answer.text
        assert answer.json()["items"][-1]["position"] <= refunded.position


def test_writes_outside_the_ledgers_one_answer_also_carry_the_position(http: httpx.Client) -> None:
    subscriber = api_subscription(http)["subscriber_id"]
    head = api_events(http)[-1]["position"]

    opened = http.post(f"/subscribers/{subscriber}/portal-session", json={})
    hook = http.post("/webhooks", json={"url": "https://crm.example.com/hooks"})
    removed = http.delete(f"/webhooks/{hook.json()['endpoint_id']}")
    refused = http.post("/plans", json={})

    for answer in (opened, hook, removed):
        assert answer.is_success, answer.text
        assert int(answer.headers[POSITION]) >= head, answer.request.url
    assert int(opened.headers[POSITION]) > head  # opening a session appends an event
    assert refused.status_code == 422 and POSITION not in refused.headers


def test_the_document_declares_the_position_on_every_write_and_read_of_the_read_models(
    http: httpx.Client,
) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    operations = [(m, p, op) for p, ops in paths.items() for m, op in ops.items()]
    waiting = [p for m, p, op in operations
               if any(q["name"] == MIN_POSITION for q in op.get("parameters", []))]

    for method, path, operation in operations:
        successes = [r for s, r in operation["responses"].items() if s.startswith("2")]
        answers_position = [POSITION in r.get("headers", {}) for r in successes]
        assert all(answers_position) == (method != "get" or path in waiting), (method, path)
    assert {"/invoices", "/subscribers/{subscriber_id}/invoices", "/subscriptions",
            "/reports/revenue", "/reports/mrr", "/reports/cohorts"} <= set(waiting)
    assert not {"/events", "/subscribers/{subscriber_id}/history"} & set(waiting)
