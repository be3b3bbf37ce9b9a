"""A server with SUBLEDGER_API_KEYS set: who may read and write, what needs no key, and
idempotency keys scoped per API key."""

from __future__ import annotations

import httpx
import pytest
from support.http import api_events, assert_problem, plan_json
from support.pages import assert_served_offline

from subledger.config import Settings

API_KEYS = "k1:writer,k2:writer,r1:reader"
WRITER = {"Authorization": "Bearer k1"}
OTHER_WRITER = {"Authorization": "Bearer k2"}
READER = {"Authorization": "Bearer r1"}


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The store under test, with API keys: `api_url` and `http` serve this module secured."""
    return Settings.from_env({"SUBLEDGER_DATABASE_URL": database_url, "SUBLEDGER_API_KEYS": API_KEYS})


READS = ["/plans", "/coupons", "/subscribers", "/events", "/plans/basic-m"]


def _seed(http: httpx.Client) -> None:
    assert http.post("/plans", json=plan_json("basic-m"), headers=WRITER).status_code == 201


def test_a_request_without_a_key_is_a_401_problem(http: httpx.Client) -> None:
    _seed(http)
    for path in READS:
        problem = assert_problem(http.get(path), 401, "unauthorized")
        assert problem["status"] == 401
    response = http.post("/subscribers", json={"email": "ada@example.com", "name": "Ada"})
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].lower().startswith("bearer")
    assert_problem(http.get("/plans", headers={"Authorization": "Basic azE6"}), 401, "unauthorized")
    assert_problem(http.get("/plans", headers={"Authorization": "Bearer"}), 401, "unauthorized")


def test_an_unknown_key_is_a_401_problem(http: httpx.Client) -> None:
    _seed(http)
    for headers in ({"Authorization": "Bearer nope"}, {"X-API-Key": "nope"},
                    {"Authorization": "Bearer k1x"}, {"Authorization": "Bearer K1"}):
        assert_problem(http.get("/plans", headers=headers), 401, "unauthorized")
        assert_problem(http.post("/plans", json=plan_json("pro-m"), headers=headers), 401,
                       "unauthorized")
    assert [e["type"] for e in api_events_as(http, WRITER)] == ["PlanCreated"]


def test_a_reader_may_read_but_not_write(http: httpx.Client) -> None:
    _seed(http)
    for path in READS:
        assert http.get(path, headers=READER).status_code == 200, path
    before = api_events_as(http, READER)
    writes = [
        ("POST", "/plans", plan_json("pro-m")),
        ("POST", "/subscribers", {"email": "ada@example.com", "name": "Ada"}),
        ("POST", "/plans/basic-m/prices", {"amount": 2100}),
        ("POST", "/coupons", {"coupon_id": "C", "percent_off": "5", "duration": "once"}),
        ("POST", "/plans/basic-m/archive", {}),
    ]
    for method, path, body in writes:
        assert_problem(http.request(method, path, json=body, headers=READER), 403, "forbidden")
        assert_problem(http.request(method, path, json=body, headers={"X-API-Key": "r1"}), 403,
                       "forbidden")
    assert api_events_as(http, READER) == before
    for code in ("unauthorized", "forbidden"):
        documented = http.get(f"/problems/{code}")
        assert documented.status_code == 200 and documented.json()["status"] in (401, 403)


def test_a_writer_may_write_with_a_bearer_token_or_an_x_api_key_header(http: httpx.Client) -> None:
    created = http.post("/plans", json=plan_json("basic-m"), headers=WRITER)
    assert created.status_code == 201, created.text
    subscriber = http.post("/subscribers", json={"email": "ada@example.com", "name": "Ada"},
                           headers={"X-API-Key": "k2"})
    assert subscriber.status_code == 201, subscriber.text
    assert http.get("/plans/basic-m", headers={"X-API-Key": "k1"}).json() == created.json()
    archived = http.post("/plans/basic-m/archive", headers=WRITER)
    assert archived.status_code == 200, archived.text
    assert [e["type"] for e in api_events_as(http, READER)] == [
        "PlanCreated", "SubscriberRegistered", "PlanArchived"]


def test_health_and_readiness_need_no_key(http: httpx.Client) -> None:
    health = http.get("/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    ready = http.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert set(body) == {"status", "store", "lag", "workers"}
    assert (body["status"], body["store"]) == ("ready", "ok")
    assert isinstance(body["lag"], dict)
    assert all(isinstance(name, str) and isinstance(lag, int) and lag >= 0
               for name, lag in body["lag"].items())


def test_the_docs_their_assets_and_the_openapi_document_need_no_key(http: httpx.Client) -> None:
    assert_served_offline(http, "/docs")
    assert http.get("/openapi.json").status_code == 200


def test_idempotency_keys_are_scoped_to_the_api_key(http: httpx.Client) -> None:
    body = {"email": "ada@example.com", "name": "Ada"}
    key = {"Idempotency-Key": "shared-key"}
    first = http.post("/subscribers", json=body, headers={**WRITER, **key})
    second = http.post("/subscribers", json=body, headers={**OTHER_WRITER, **key})
    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    assert "idempotent-replayed" not in second.headers
    assert first.json()["subscriber_id"] != second.json()["subscriber_id"]
    log = api_events_as(http, READER)
    assert [e["type"] for e in log] == ["SubscriberRegistered"] * 2

    for headers, answer in ((WRITER, first), (OTHER_WRITER, second), ({"X-API-Key": "k1"}, first)):
        replay = http.post("/subscribers", json=body, headers={**headers, **key})
        assert (replay.status_code, replay.json()) == (201, answer.json())
        assert replay.headers["idempotent-replayed"] == "true"
    other_body = {"email": "grace@example.com", "name": "Grace"}
    assert_problem(http.post("/subscribers", json=other_body, headers={**OTHER_WRITER, **key}),
                   409, "idempotency-key-reused")
    third = http.post("/subscribers", json=other_body,
                      headers={"Authorization": "Bearer k1", "Idempotency-Key": "k1-only"})
    assert third.status_code == 201
    assert api_events_as(http, READER)[:2] == log


def api_events_as(http: httpx.Client, headers: dict[str, str]) -> list[dict[str, object]]:
    """The whole log, read with these credentials."""
    with httpx.Client(base_url=str(http.base_url), headers=headers, timeout=30) as client:
        return api_events(client)
