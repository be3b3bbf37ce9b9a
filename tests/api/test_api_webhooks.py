"""Webhook endpoints over HTTP: registration, status, the delivery log, replay, removal, and
bad input refused as problems with nothing stored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from support.http import api_subscriber, assert_problem, plan_json
from support.receiver import Receiver, eventually


def _register(http: httpx.Client, url: str, **fields: Any) -> dict[str, Any]:
    response = http.post("/webhooks", json={"url": url, **fields})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _deliveries(http: httpx.Client, endpoint_id: str, **params: Any) -> dict[str, Any]:
    response = http.get(f"/webhooks/{endpoint_id}/deliveries", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_registering_answers_the_secret_once_and_the_endpoint_starts_at_the_head(
        http: httpx.Client, receiver: Receiver) -> None:
    assert http.post("/plans", json=plan_json()).status_code == 201
    created = _register(http, receiver.url, event_types=["SubscriptionCanceled"],
                        description="CRM: re-market canceled subscribers")
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert created["position"] == 1 and created["lag"] == 0
    assert created["event_types"] == ["SubscriptionCanceled"]
    assert (created["attempts"], created["last_error"], created["enabled"]) == (0, None, True)
    assert created["personal_data"] is False  # only an endpoint registered to receives them
    shown = http.get(f"/webhooks/{created['endpoint_id']}").json()
    assert "secret" not in shown
    assert shown == {k: v for k, v in created.items() if k != "secret"}
    listed = http.get("/webhooks").json()
    assert listed == {"items": [shown], "next_cursor": None}
    other = _register(http, receiver.url, from_position=0)
    assert other["position"] == 0 and other["lag"] == 1 and other["secret"] != created["secret"]
    page = http.get("/webhooks", params={"limit": 1}).json()
    assert len(page["items"]) == 1 and page["next_cursor"] == "1"
    assert len(http.get("/webhooks", params={"cursor": "1"}).json()["items"]) == 1


@pytest.mark.parametrize(("body", "code"), [
    ({"url": "ftp://crm.example.com/hooks"}, "invalid-webhook-url"),
    ({"url": "crm.example.com/hooks"}, "invalid-webhook-url"),
    ({"url": "http://"}, "invalid-webhook-url"),
    ({"url": "http://crm.example.com:99999/hooks"}, "invalid-webhook-url"),
    ({"url": "http://crm.example.com/hooks", "event_types": ["SubscriptionCancelled"]}, "unknown-event-type"),
    ({"url": "http://crm.example.com/hooks", "from_position": -1}, "invalid-position"),
    ({"url": "http://crm.example.com/hooks", "event_types": "SubscriptionCanceled"}, "validation-error"),
    ({"url": "http://crm.example.com/hooks", "secret": "mine"}, "validation-error"),
    ({"url": "http://crm.example.com/hooks", "personal_data": "yes"}, "validation-error"),
    ({"event_types": []}, "validation-error"),
])
def test_a_bad_registration_is_a_422_problem_and_nothing_is_stored(
        http: httpx.Client, body: dict[str, Any], code: str) -> None:
    assert_problem(http.post("/webhooks", json=body), 422, code)
    assert http.get(f"/problems/{code}").status_code == 200
    assert http.get("/webhooks").json()["items"] == []


@pytest.mark.parametrize("endpoint_id", ["6f1c2a4e-8b1d-4c3e-9a57-2d0b7e4f1a93", "nope"])
def test_an_unknown_endpoint_is_a_404_problem(http: httpx.Client, endpoint_id: str) -> None:
    assert_problem(http.get(f"/webhooks/{endpoint_id}"), 404, "webhook-not-found")
    assert_problem(http.get(f"/webhooks/{endpoint_id}/deliveries"), 404, "webhook-not-found")
    assert_problem(http.post(f"/webhooks/{endpoint_id}/replay", json={"from_position": 1}), 404,
                   "webhook-not-found")
    assert_problem(http.delete(f"/webhooks/{endpoint_id}"), 404, "webhook-not-found")


def test_the_delivery_log_is_paged_and_replay_delivers_again_from_a_position(
        http: httpx.Client, dispatchers: Any, receiver: Receiver) -> None:
    dispatcher = dispatchers()
    endpoint = _register(http, receiver.url, event_types=["SubscriberRegistered"], from_position=0)
    for name in ("ada", "bob", "cy"):
        api_subscriber(http, email=f"{name}@example.com")
    eventually(lambda: dispatcher.run_once() == 0 and len(receiver.delivered()) == 3, what="3 deliveries")
    first = _deliveries(http, endpoint["endpoint_id"], limit=2)
    assert [d["sequence"] for d in first["items"]] == [1, 2] and first["next_cursor"] == "2"
    rest = _deliveries(http, endpoint["endpoint_id"], after=2)
    assert [d["sequence"] for d in rest["items"]] == [3]
    log = first["items"] + rest["items"]
    assert [d["event_id"] for d in log] == [e["event_id"] for e in receiver.delivered()]
    assert all(d["outcome"] == "delivered" and d["attempt"] == 1 for d in log)
    assert _deliveries(http, endpoint["endpoint_id"], after=3) == {"items": [], "next_cursor": None}

    second = receiver.delivered()[1]["position"]
    assert_problem(http.post(f"/webhooks/{endpoint['endpoint_id']}/replay", json={"from_position": -5}),
                   422, "invalid-position")
    replayed = http.post(f"/webhooks/{endpoint['endpoint_id']}/replay", json={"from_position": second})
    assert replayed.status_code == 200 and replayed.json()["position"] == second - 1
    eventually(lambda: dispatcher.run_once() == 0 and len(receiver.delivered()) == 5, what="the replay")
    assert receiver.delivered()[3:] == receiver.delivered()[1:3]
    assert len(_deliveries(http, endpoint["endpoint_id"])["items"]) == 5


def test_the_status_shows_the_failures_of_an_endpoint_that_is_down(
        http: httpx.Client, dispatchers: Any, receiver: Receiver) -> None:
    dispatcher = dispatchers(retry_base=30)
    endpoint = _register(http, receiver.url)
    receiver.down()
    api_subscriber(http)
    dispatcher.run_once()
    status = http.get(f"/webhooks/{endpoint['endpoint_id']}").json()
    assert status["attempts"] == 1 and status["last_error"].startswith("URLError")
    assert status["lag"] > 0 and status["next_attempt_at"] > endpoint["next_attempt_at"]
    [failed] = _deliveries(http, endpoint["endpoint_id"])["items"]
    assert (failed["outcome"], failed["status_code"], failed["attempt"]) == ("failed", None, 1)


def test_a_removed_endpoint_receives_nothing_more(
        http: httpx.Client, dispatchers: Any, receiver: Receiver) -> None:
    dispatcher = dispatchers()
    endpoint = _register(http, receiver.url)
    assert http.delete(f"/webhooks/{endpoint['endpoint_id']}").status_code == 204
    assert_problem(http.get(f"/webhooks/{endpoint['endpoint_id']}"), 404, "webhook-not-found")
    api_subscriber(http)
    assert dispatcher.run_once() == 0
    assert receiver.requests == [] and http.get("/webhooks").json()["items"] == []
