"""GET /subscriptions: filtered by status, plan, subscriber, the subscriber's e-mail and
currency, paged like every list, each item as GET /subscriptions/{id} answers it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from support.http import (
    api_subscriber,
    api_subscription,
    api_world,
    assert_problem,
)


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _ids(http: httpx.Client, **params: Any) -> list[str]:
    return [s["subscription_id"] for s in _ok(http.get("/subscriptions", params=params))["items"]]


def test_each_filter_lists_what_meets_it_in_start_order(http: httpx.Client, projector: Any) -> None:
    world = api_world(http)
    grace = api_subscriber(http, "Grace.Hopper@Example.com", token="tok_visa")["subscriber_id"]
    euro = api_subscription(http, "eur-m", subscriber_id=grace)["subscription_id"]
    projector.run_once()
    ada = [world.trialing, world.active, world.paused, world.canceled]

    assert _ids(http) == [*ada, euro]
    assert _ids(http, status="trialing") == [world.trialing]
    assert _ids(http, status="active") == [world.active, euro]
    assert _ids(http, status="past_due") == []
    assert _ids(http, plan_id="pro-m") == [world.active, world.paused, world.canceled]
    assert _ids(http, plan_id="pro-m", status="paused") == [world.paused]
    assert _ids(http, subscriber_id=world.subscriber_id) == ada
    assert _ids(http, subscriber_id=world.subscriber_id.upper()) == ada
    assert _ids(http, currency="EUR") == [euro]
    assert _ids(http, email="grace.hopper@example.COM") == [euro]
    assert _ids(http, email="ada@example.com", subscriber_id=grace) == []
    assert _ids(http, email="nobody@example.com") == []


def test_each_item_is_the_subscription_as_its_own_get_answers_it(
    http: httpx.Client, projector: Any,
) -> None:
    sub = api_subscription(http, "basic-m", quantity=2)
    projector.run_once()

    [item] = _ok(http.get("/subscriptions"))["items"]

    assert item == _ok(http.get(f"/subscriptions/{sub['subscription_id']}"))


def test_a_list_pages_until_next_cursor_is_null(http: httpx.Client, projector: Any) -> None:
    subscriber = api_subscriber(http, token="tok_visa")["subscriber_id"]
    ids = [api_subscription(http, "basic-m", subscriber_id=subscriber)["subscription_id"]
           for _ in range(5)]
    projector.run_once()

    pages: list[list[str]] = []
    params: dict[str, Any] = {"limit": 2, "status": "trialing"}
    while True:
        page = _ok(http.get("/subscriptions", params=params))
        pages.append([s["subscription_id"] for s in page["items"]])
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
        assert len(pages) < 10, "the cursor moves forward"

    assert pages == [ids[0:2], ids[2:4], ids[4:5]]


def test_a_subscription_that_changed_since_the_projection_is_not_listed_under_its_old_state(
    http: httpx.Client, projector: Any,
) -> None:
    sub = api_subscription(http, "pro-m", plan={"trial_days": 0, "amount": 4900})
    projector.run_once()
    assert _ok(http.post(f"/subscriptions/{sub['subscription_id']}/pause"))["status"] == "paused"

    assert _ids(http, status="active") == []
    projector.run_once()
    assert _ids(http, status="paused") == [sub["subscription_id"]]


@pytest.mark.parametrize("params", [
    {"status": "sleeping"},
    {"plan_id": "-basic"},
    {"plan_id": "a" * 65},
    {"subscriber_id": "not-a-uuid"},
    {"email": "not an address"},
    {"email": "ada@example.com\n"},
    {"currency": "usd"},
    {"currency": "XTS"},
    {"limit": 0},
    {"cursor": "-1"},
])
def test_a_bad_filter_is_a_422_problem(http: httpx.Client, params: dict[str, Any]) -> None:
    assert_problem(http.get("/subscriptions", params=params), 422)
