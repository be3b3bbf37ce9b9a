"""Archiving plans and coupons over HTTP: the archive routes, `archived_at` in every body,
`?archived=` on the lists, and 409 problems of their own for what an archive refuses."""

from __future__ import annotations

from typing import Any

import httpx
from support.http import (
    api_coupon,
    api_events,
    api_plan,
    api_subscriber,
    api_subscription,
    assert_problem,
    assert_refused,
)


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_an_archived_plan_shows_when_it_went_off_sale_in_its_answer_get_and_list(
    http: httpx.Client,
) -> None:
    assert api_plan(http, "basic-m")["archived_at"] is None

    archived = _ok(http.post("/plans/basic-m/archive",
                             json={"effective_at": "2026-03-01T00:00:00Z"}))

    assert archived["archived_at"] == "2026-03-01T00:00:00Z"
    assert _ok(http.get("/plans/basic-m")) == archived
    assert _ok(http.get("/plans"))["items"] == [archived]
    [event] = api_events(http, "PlanArchived")
    assert (event["subscriber_id"], event["data"]) == (None, {"plan_id": "basic-m"})
    assert event["aggregate_id"] == api_events(http, "PlanCreated")[0]["aggregate_id"]


def test_an_archived_coupon_shows_when_it_stopped_being_applied(http: httpx.Client) -> None:
    assert api_coupon(http, "WELCOME20")["archived_at"] is None

    archived = _ok(http.post("/coupons/WELCOME20/archive"))

    assert archived["archived_at"] is not None
    assert _ok(http.get("/coupons/WELCOME20")) == archived
    assert [e["data"] for e in api_events(http, "CouponArchived")] == [{"coupon_id": "WELCOME20"}]


def test_lists_show_only_what_is_on_sale_with_archived_false(http: httpx.Client) -> None:
    for plan_id in ("a-m", "b-m", "c-m"):
        api_plan(http, plan_id)
    for coupon_id in ("A", "B"):
        api_coupon(http, coupon_id)
    _ok(http.post("/plans/b-m/archive"))
    _ok(http.post("/coupons/A/archive"))

    def ids(path: str, key: str, **params: Any) -> list[str]:
        return [item[key] for item in _ok(http.get(path, params=params))["items"]]

    assert ids("/plans", "plan_id", archived="false") == ["a-m", "c-m"]
    assert ids("/plans", "plan_id", archived="true") == ["b-m"]
    assert ids("/plans", "plan_id") == ["a-m", "b-m", "c-m"]
    assert ids("/coupons", "coupon_id", archived="false") == ["B"]
    first = _ok(http.get("/plans", params={"archived": "false", "limit": 1}))
    rest = _ok(http.get("/plans", params={"archived": "false", "limit": 1,
                                          "cursor": first["next_cursor"]}))
    assert [p["plan_id"] for p in first["items"] + rest["items"]] == ["a-m", "c-m"]
    assert_problem(http.get("/plans", params={"archived": "maybe"}), 422, "validation-error")


def test_subscriptions_keep_an_archived_plan_and_coupon(http: httpx.Client) -> None:
    api_coupon(http, "WELCOME20")
    sub = api_subscription(http, "pro-m", plan={"trial_days": 0, "amount": 4900},
                           coupon="WELCOME20")
    _ok(http.post("/plans/pro-m/archive"))
    _ok(http.post("/coupons/WELCOME20/archive"))

    more_seats = _ok(http.post(f"/subscriptions/{sub['subscription_id']}/change",
                               json={"quantity": 2}))

    assert (more_seats["plan_id"], more_seats["quantity"]) == ("pro-m", 2)
    assert more_seats["coupon"]["coupon_id"] == "WELCOME20"


def test_what_an_archive_refuses_is_a_409_of_its_own_and_appends_nothing(
    http: httpx.Client,
) -> None:
    api_plan(http, "basic-m")
    api_plan(http, "old-m", trial_days=0)
    api_coupon(http, "OLD10")
    subscriber = api_subscriber(http, "bo@example.com", token="tok_visa")["subscriber_id"]
    sub = api_subscription(http, "basic-m", subscriber_id=subscriber)["subscription_id"]
    _ok(http.post("/plans/old-m/archive"))
    _ok(http.post("/coupons/OLD10/archive"))

    assert_refused(http, [
        ("POST", f"/subscribers/{subscriber}/subscriptions", {"json": {"plan_id": "old-m"}}),
        ("POST", f"/subscriptions/{sub}/change", {"json": {"plan_id": "old-m"}}),
        ("POST", f"/subscriptions/{sub}/change", {"json": {"plan_id": "old-m",
                                                          "when": "period_end"}}),
        ("POST", "/plans/old-m/prices", {"json": {"amount": 2500}}),
        ("POST", "/plans/old-m/archive", {}),
    ], 409, "plan-archived")
    assert_refused(http, [
        ("POST", f"/subscribers/{subscriber}/subscriptions",
         {"json": {"plan_id": "basic-m", "coupon": "OLD10"}}),
        ("POST", f"/subscriptions/{sub}/coupon", {"json": {"coupon": "OLD10"}}),
        ("POST", "/coupons/OLD10/archive", {"json": {}}),
    ], 409, "coupon-archived")


def test_archiving_an_unknown_plan_or_coupon_is_a_404(http: httpx.Client) -> None:
    assert_refused(http, [("POST", "/plans/nope/archive", {})], 404, "plan-not-found")
    assert_refused(http, [("POST", "/coupons/nope/archive", {})], 404, "coupon-not-found")
    assert_refused(http, [("POST", "/plans/no%20slug/archive", {})], 404)


def test_a_retried_archive_with_its_key_answers_the_first_answer(http: httpx.Client) -> None:
    api_plan(http, "basic-m")
    key = {"Idempotency-Key": "archive-basic-m"}

    first = http.post("/plans/basic-m/archive", headers=key)
    again = http.post("/plans/basic-m/archive", headers=key)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(api_events(http, "PlanArchived")) == 1
    assert_problem(http.post("/plans/basic-m/archive"), 409, "plan-archived")
