"""Idempotency-Key on every write: a retry returns the first answer and appends nothing;
the same key with another request is a 409; failures are not stored; a duplicate in flight
appends nothing more. (Keys scoped per API key: test_api_keys.py.)"""

from __future__ import annotations

import json
from typing import Any

import httpx
from support.http import (
    World,
    api_events,
    assert_problem,
    assert_refused,
    concurrent_requests,
    plan_json,
)


def _writes(w: World) -> list[tuple[str, str, dict[str, Any] | None, int]]:
    """(method, path, body or None, first status) of a write of each kind."""
    return [
        ("POST", "/plans", plan_json("team-m", name="Team", amount=9900, trial_days=0), 201),
        ("POST", "/plans/pro-m/prices", {"amount": 5900}, 201),
        ("POST", "/coupons", {"coupon_id": "HALF", "percent_off": "50", "duration": "once"}, 201),
        ("POST", "/subscribers", {"email": "grace@example.com", "name": "Grace Hopper",
                                  "external_ref": "crm-1906"}, 201),
        ("PATCH", f"/subscribers/{w.subscriber_id}", {"name": "Ada King"}, 200),
        ("PUT", f"/subscribers/{w.subscriber_id}/payment-method",
         {"gateway": "sandbox", "token": "tok_fail_first"}, 200),
        ("POST", f"/subscribers/{w.subscriber_id}/subscriptions", {"plan_id": "pro-m", "quantity": 2}, 201),
        ("POST", f"/subscriptions/{w.active}/change", {"quantity": 5, "when": "now"}, 200),
        ("POST", f"/subscriptions/{w.active}/coupon", {"coupon": "WELCOME20"}, 200),
        ("POST", f"/subscriptions/{w.active}/cancel", {"when": "period_end", "reason": "moving"}, 200),
        ("POST", f"/subscriptions/{w.active}/cancel/revoke", None, 200),
        ("POST", f"/subscriptions/{w.active}/pause", None, 200),
        ("POST", f"/subscriptions/{w.paused}/resume", {}, 200),
        ("POST", f"/subscriptions/{w.trialing}/cancel", {"when": "now"}, 200),
    ]


def _shuffled(body: dict[str, Any]) -> bytes:
    """The same JSON with its keys in reverse order and generous whitespace."""
    return json.dumps(dict(reversed(list(body.items()))), indent=4, separators=(" ,  ", " :  ")).encode()


def test_a_retry_with_the_same_key_and_body_returns_the_first_answer_and_appends_nothing(
    http: httpx.Client, world: World,
) -> None:
    for n, (method, path, body, status) in enumerate(_writes(world)):
        key = {"Idempotency-Key": f"retry-{n}"}
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        first = http.request(method, path, headers=key, **kwargs)
        assert first.status_code == status, (path, first.text)
        assert "idempotent-replayed" not in first.headers
        log = api_events(http)

        again = http.request(method, path, headers=key, **kwargs)
        retries = [again]
        if body:
            retries.append(http.request(method, path, content=_shuffled(body),
                                        headers={**key, "content-type": "application/json"}))
        for retry in retries:
            assert retry.status_code == status, (path, retry.text)
            assert retry.json() == first.json(), path
            assert retry.headers["idempotent-replayed"] == "true"
            assert retry.headers["content-type"].startswith("application/json")
        assert api_events(http) == log, f"a retry of {method} {path} appended nothing"


def test_the_same_key_with_another_request_is_a_409_problem(http: httpx.Client, world: World) -> None:
    key = {"Idempotency-Key": "one-key"}
    first = http.post("/subscribers", json={"email": "grace@example.com", "name": "Grace"}, headers=key)
    assert first.status_code == 201
    seen = assert_refused(http, [
        ("POST", "/subscribers", {"json": {"email": "grace@example.com", "name": "Grace H."}, "headers": key}),
        ("POST", "/subscribers", {"json": {"email": "grace@example.com", "name": "Grace",
                                           "external_ref": "x"}, "headers": key}),
        ("POST", f"/subscriptions/{world.active}/change", {"json": {"quantity": 2}, "headers": key}),
        ("POST", f"/subscriptions/{world.active}/pause", {"headers": key}),
    ], 409, "idempotency-key-reused")
    assert list(seen) == ["/problems/idempotency-key-reused"]
    # The first answer is still the one a true retry gets.
    retry = http.post("/subscribers", json={"email": "grace@example.com", "name": "Grace"}, headers=key)
    assert (retry.status_code, retry.json()) == (201, first.json())


def test_a_failed_request_is_not_stored_so_a_corrected_retry_with_the_same_key_succeeds(
    http: httpx.Client, world: World,
) -> None:
    key = {"Idempotency-Key": "fix-and-retry"}
    change = f"/subscriptions/{world.active}/change"
    assert_refused(http, [("POST", change, {"json": {"quantity": 0}, "headers": key})], 422)
    assert_refused(http, [("POST", change, {"json": {"plan_id": "no-such-plan"}, "headers": key})], 422)
    assert_refused(http, [("POST", change, {"json": {"quantity": "2"}, "headers": key})], 422)
    assert_refused(http, [("POST", f"/subscriptions/{world.active}/resume", {"headers": key})], 409)
    log = api_events(http)

    fixed = http.post(change, json={"quantity": 2}, headers=key)
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["quantity"] == 2
    # The change, its proration invoice and the charge of it (the card pays).
    appended = ["SubscriptionChanged", "InvoiceIssued", "ChargeSucceeded"]
    assert [e["type"] for e in api_events(http)[len(log):]] == appended
    replay = http.post(change, json={"quantity": 2}, headers=key)
    assert (replay.status_code, replay.json()) == (200, fixed.json())
    assert replay.headers["idempotent-replayed"] == "true"
    assert [e["type"] for e in api_events(http)[len(log):]] == appended


def test_a_replay_is_the_first_answer_even_after_the_record_changed(
    http: httpx.Client, world: World,
) -> None:
    key = {"Idempotency-Key": "first-answer"}
    change = f"/subscriptions/{world.active}/change"
    first = http.post(change, json={"quantity": 2}, headers=key)
    assert first.status_code == 200
    assert http.post(change, json={"quantity": 7}).status_code == 200
    replay = http.post(change, json={"quantity": 2}, headers=key)
    assert (replay.status_code, replay.json()) == (200, first.json())
    assert replay.json()["quantity"] == 2
    assert http.get(f"/subscriptions/{world.active}").json()["quantity"] == 7


def test_concurrent_requests_with_one_key_and_body_append_once(
    http: httpx.Client, api_url: str,
) -> None:
    log = api_events(http)
    body = {"email": "grace@example.com", "name": "Grace Hopper"}
    answers = concurrent_requests(api_url, [
        ("POST", "/subscribers", {"json": body, "headers": {"Idempotency-Key": "together"}})
    ] * 8)
    created = [a for a in answers if a.status_code == 201]
    assert created, [(a.status_code, a.text) for a in answers]
    assert all(a.json() == created[0].json() for a in created), "every 201 is the first answer"
    for answer in answers:
        if answer.status_code != 201:
            assert_problem(answer, 409, "idempotency-key-in-flight")
    appended = api_events(http)[len(log):]
    assert [e["type"] for e in appended] == ["SubscriberRegistered"]
    assert appended[0]["aggregate_id"] == created[0].json()["subscriber_id"]
    retry = http.post("/subscribers", json=body, headers={"Idempotency-Key": "together"})
    assert (retry.status_code, retry.json()) == (201, created[0].json())


def test_concurrent_changes_with_one_key_append_once(
    http: httpx.Client, api_url: str, world: World,
) -> None:
    log = api_events(http)
    answers = concurrent_requests(api_url, [
        ("POST", f"/subscriptions/{world.active}/change",
         {"json": {"quantity": 4}, "headers": {"Idempotency-Key": "change-together"}})
    ] * 8)
    succeeded = [a for a in answers if a.status_code == 200]
    assert succeeded, [(a.status_code, a.text) for a in answers]
    assert all(a.json() == succeeded[0].json() for a in succeeded)
    for answer in answers:
        if answer.status_code != 200:
            assert_problem(answer, 409, "idempotency-key-in-flight")
    assert [e["type"] for e in api_events(http)[len(log):]] == [
        "SubscriptionChanged", "InvoiceIssued", "ChargeSucceeded"
    ]


def test_an_idempotency_key_longer_than_255_characters_is_refused(http: httpx.Client) -> None:
    body = {"email": "grace@example.com", "name": "Grace"}
    seen = assert_refused(http, [
        ("POST", "/subscribers", {"json": body, "headers": {"Idempotency-Key": "k" * 256}}),
        ("POST", "/subscribers", {"json": body, "headers": {"Idempotency-Key": "k" * 10_000}}),
    ], 400)
    assert list(seen) == ["/problems/idempotency-key-malformed"]
    longest = http.post("/subscribers", json=body, headers={"Idempotency-Key": "k" * 255})
    assert longest.status_code == 201, longest.text
    replay = http.post("/subscribers", json=body, headers={"Idempotency-Key": "k" * 255})
    assert replay.json() == longest.json()
