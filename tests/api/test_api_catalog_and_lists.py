"""Lists page with limit and cursor; price versions grandfather existing subscriptions."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from support.http import api_coupon, api_events, api_plan, api_subscriber, api_subscription


def _plans(http: httpx.Client, n: int) -> list[str]:
    return [api_plan(http, f"plan-{i}", amount=1000 + i)["plan_id"] for i in range(n)]


def _coupons(http: httpx.Client, n: int) -> list[str]:
    return [api_coupon(http, f"COUPON-{i}", percent_off=str(5 + i))["coupon_id"] for i in range(n)]


def _subscribers(http: httpx.Client, n: int) -> list[str]:
    return [api_subscriber(http, f"user{i}@example.com")["subscriber_id"] for i in range(n)]


LISTS: dict[str, tuple[Callable[[httpx.Client, int], list[str]], str]] = {
    "plans": (_plans, "plan_id"),
    "coupons": (_coupons, "coupon_id"),
    "subscribers": (_subscribers, "subscriber_id"),
}


@pytest.mark.parametrize("resource", list(LISTS))
def test_a_list_pages_in_creation_order_until_next_cursor_is_null(
    http: httpx.Client, resource: str,
) -> None:
    make, id_key = LISTS[resource]
    ids = make(http, 5)

    whole = http.get(f"/{resource}").json()
    assert set(whole) == {"items", "next_cursor"}
    assert [item[id_key] for item in whole["items"]] == ids
    assert whole["next_cursor"] is None

    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor is not None else {})
        response = http.get(f"/{resource}", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append([item[id_key] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert isinstance(cursor, str)
        assert len(pages) < 10, "the cursor moves forward"
    assert pages == [ids[0:2], ids[2:4], ids[4:5]]
    assert http.get(f"/{resource}", params={"limit": 1000}).json() == whole


def test_lists_show_each_record_as_its_own_get_does(http: httpx.Client) -> None:
    sub = api_subscription(http, "basic-m")
    api_coupon(http, "WELCOME20")
    plan = http.get("/plans/basic-m").json()
    assert http.get("/plans").json()["items"] == [plan]
    assert http.get("/coupons").json()["items"] == [http.get("/coupons/WELCOME20").json()]
    subscriber = http.get(f"/subscribers/{sub['subscriber_id']}").json()
    assert subscriber["subscription_ids"] == [sub["subscription_id"]]
    assert http.get("/subscribers").json()["items"] == [subscriber]


def test_a_new_price_version_keeps_existing_subscriptions_on_theirs(http: httpx.Client) -> None:
    api_plan(http, "pro-m", amount=4900, trial_days=0)
    existing = api_subscription(http, "pro-m")
    assert (existing["plan_version"], existing["amount"]) == (1, 4900)

    repriced = http.post("/plans/pro-m/prices", json={"amount": 5900})
    assert repriced.status_code == 201, repriced.text
    plan = repriced.json()
    assert (plan["plan_id"], plan["version"], plan["amount"]) == ("pro-m", 2, 5900)
    assert [(v["version"], v["amount"]) for v in plan["versions"]] == [(1, 4900), (2, 5900)]
    assert http.get("/plans/pro-m").json() == plan
    added = api_events(http, "PlanPriceVersionAdded")
    assert [(e["data"]["version"], e["data"]["amount"]) for e in added] == [(2, 5900)]
    assert added[0]["subscriber_id"] is None

    kept = http.get(f"/subscriptions/{existing['subscription_id']}").json()
    assert (kept["plan_version"], kept["amount"]) == (1, 4900)
    newcomer = api_subscription(http, "pro-m")
    assert (newcomer["plan_version"], newcomer["amount"]) == (2, 5900)

    # A quantity change keeps the grandfathered version too.
    more_seats = http.post(f"/subscriptions/{existing['subscription_id']}/change",
                           json={"quantity": 2})
    assert more_seats.status_code == 200, more_seats.text
    assert (more_seats.json()["plan_version"], more_seats.json()["amount"]) == (1, 4900)


@pytest.mark.parametrize("percent", ["20", "100", "10"])
def test_a_percent_off_coupon_shows_its_percent_as_a_plain_decimal(
    http: httpx.Client, percent: str,
) -> None:
    created = api_coupon(http, f"OFF{percent}", percent_off=percent, duration="forever",
                         duration_in_months=None)
    assert Decimal(created["percent_off"]) == Decimal(percent)
    assert created["percent_off"] == percent
    assert http.get(f"/coupons/OFF{percent}").json()["percent_off"] == percent
    assert api_events(http, "CouponCreated")[0]["data"]["percent_off"] == percent


def test_a_percent_off_coupon_keeps_its_decimals(http: httpx.Client) -> None:
    for percent in ("12.5", "33.3333", "25", "7"):
        created = api_coupon(http, f"OFF-{percent}", percent_off=percent)
        assert created["percent_off"] == percent
