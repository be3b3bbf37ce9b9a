"""A subscriber's whole life over real HTTP, then the log it leaves, read back page by page.

The subscription starts backdated: each later command, at its own ``effective_at``, first
performs what fell due before it (trial end, renewals, the scheduled change), as the
billing clock would (docs/business-rules.md). The trial ends on Jan 31, the billing anchor, so the
periods show the month-end clamping: Feb 28, Mar 31, Apr 30, May 31, Jun 30.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from support.http import (
    CATALOG_AT_ISO,
    ENVELOPE_KEYS,
    api_coupon,
    api_events,
    api_plan,
    api_subscriber,
    assert_problem,
)

# What the lifecycle leaves in the subscriber's history, in order. Every invoice is paid at
# once by the card (tok_visa): no trial-start invoice, none for a scheduled change.
LIFECYCLE_TYPES = [
    "SubscriberRegistered",
    "PaymentMethodSet",
    "SubscriptionStarted",        # 01-17, trialing until 01-31
    "TrialEnded",                 # 01-31, performed by the plan change
    "InvoiceIssued",              # 01-31, the first period
    "ChargeSucceeded",
    "SubscriptionRenewed",        # 02-28
    "InvoiceIssued",
    "ChargeSucceeded",
    "SubscriptionChanged",        # 03-15, to pro-m now
    "InvoiceIssued",              # 03-15, the proration
    "ChargeSucceeded",
    "SubscriptionRenewed",        # 03-31, performed by the quantity change
    "InvoiceIssued",
    "ChargeSucceeded",
    "ChangeScheduled",            # 04-10, quantity 3 at 04-30
    "SubscriptionChanged",        # 04-30, the scheduled change, performed by the coupon
    "SubscriptionRenewed",        # 04-30
    "InvoiceIssued",
    "ChargeSucceeded",
    "CouponApplied",              # 05-05
    "SubscriptionRenewed",        # 05-31, performed by the pause
    "InvoiceIssued",
    "ChargeSucceeded",
    "SubscriptionPaused",         # 06-10
    "InvoiceIssued",              # 06-10, the credit of the period's unused part
    "SubscriptionResumed",        # 07-31, a new period anchored at the resume
    "InvoiceIssued",              # 07-31, the new period
    "ChargeSucceeded",
    "CancellationScheduled",      # 08-15, for 08-31
    "CancellationRevoked",        # 08-20
    "SubscriptionRenewed",        # 08-31, performed by the cancel
    "InvoiceIssued",
    "ChargeSucceeded",
    "SubscriptionCanceled",       # 09-05
]


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()  # type: ignore[no-any-return]


def _period(body: dict[str, Any]) -> tuple[str, str]:
    return body["current_period_start"], body["current_period_end"]


def live_a_lifecycle(http: httpx.Client) -> dict[str, Any]:
    """Catalog, subscriber and one subscription through its whole lifecycle; checks every
    answer on the way and returns the ids and the last answer."""
    basic = api_plan(http, "basic-m", amount=1900, interval="month", trial_days=14)
    assert basic == {
        "plan_id": "basic-m", "name": "Basic monthly", "tier": "basic", "currency": "USD",
        "amount": 1900, "interval": "month", "trial_days": 14, "version": 1,
        "versions": [{"version": 1, "amount": 1900, "effective_at": CATALOG_AT_ISO}],
        "archived_at": None,
    }
    pro = api_plan(http, "pro-m", name="Pro monthly", tier="pro", amount=4900, trial_days=0)
    assert (pro["plan_id"], pro["amount"], pro["trial_days"], pro["version"]) == ("pro-m", 4900, 0, 1)
    yearly = api_plan(http, "basic-y", name="Basic yearly", amount=19000, interval="year",
                      trial_days=0)
    assert (yearly["interval"], yearly["amount"]) == ("year", 19000)
    coupon = api_coupon(http, "WELCOME20", percent_off="20", duration="repeating",
                        duration_in_months=3)
    assert coupon["coupon_id"] == "WELCOME20"
    assert Decimal(coupon["percent_off"]) == 20 and coupon["duration"] == "repeating"
    assert coupon["duration_in_months"] == 3 and coupon["amount_off"] is None

    registered = api_subscriber(http, "ada@example.com", name="Ada Lovelace", external_ref="crm-1815")
    subscriber_id = registered["subscriber_id"]
    assert registered["email"] == "ada@example.com" and registered["external_ref"] == "crm-1815"
    assert registered["payment_method"] is None and registered["subscription_ids"] == []
    with_card = _ok(http.put(f"/subscribers/{subscriber_id}/payment-method",
                             json={"gateway": "sandbox", "token": "tok_visa",
                                   "effective_at": CATALOG_AT_ISO}))
    assert with_card["payment_method"] == {"gateway": "sandbox", "token": "tok_visa"}

    started = _ok(http.post(f"/subscribers/{subscriber_id}/subscriptions",
                            json={"plan_id": "basic-m", "effective_at": "2026-01-17T00:00:00Z"}), 201)
    sub = started["subscription_id"]
    assert started["subscriber_id"] == subscriber_id
    assert (started["status"], started["plan_id"], started["plan_version"], started["quantity"]) == (
        "trialing", "basic-m", 1, 1)
    assert _period(started) == ("2026-01-17T00:00:00Z", "2026-01-31T00:00:00Z")
    assert started["trial_end"] == "2026-01-31T00:00:00Z"
    assert started["billing_anchor"] is None and started["coupon"] is None
    assert _ok(http.get(f"/subscribers/{subscriber_id}"))["subscription_ids"] == [sub]

    # Plan change now: the trial ended on Jan 31 (the anchor), renewed on Feb 28 (clamped).
    upgraded = _ok(http.post(f"/subscriptions/{sub}/change",
                             json={"plan_id": "pro-m", "when": "now",
                                   "effective_at": "2026-03-15T12:00:00Z"}))
    assert (upgraded["status"], upgraded["plan_id"], upgraded["amount"], upgraded["quantity"]) == (
        "active", "pro-m", 4900, 1)
    assert upgraded["billing_anchor"] == "2026-01-31T00:00:00Z"
    assert _period(upgraded) == ("2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z")

    # Quantity at period end: renewed on Mar 31; the change waits for Apr 30.
    scheduled = _ok(http.post(f"/subscriptions/{sub}/change",
                              json={"quantity": 3, "when": "period_end",
                                    "effective_at": "2026-04-10T00:00:00Z"}))
    assert (scheduled["plan_id"], scheduled["quantity"]) == ("pro-m", 1)
    assert _period(scheduled) == ("2026-03-31T00:00:00Z", "2026-04-30T00:00:00Z")
    assert scheduled["scheduled_change"]["at"] == "2026-04-30T00:00:00Z"
    assert scheduled["scheduled_change"]["quantity"] == 3
    assert scheduled["scheduled_change"]["plan_id"] == "pro-m"

    # A coupon in May: the scheduled change took effect at the Apr 30 renewal.
    discounted = _ok(http.post(f"/subscriptions/{sub}/coupon",
                               json={"coupon": "WELCOME20", "effective_at": "2026-05-05T00:00:00Z"}))
    assert (discounted["quantity"], discounted["scheduled_change"]) == (3, None)
    assert _period(discounted) == ("2026-04-30T00:00:00Z", "2026-05-31T00:00:00Z")
    assert discounted["coupon"]["coupon_id"] == "WELCOME20"

    paused = _ok(http.post(f"/subscriptions/{sub}/pause",
                           json={"effective_at": "2026-06-10T00:00:00Z"}))
    assert (paused["status"], paused["paused_at"]) == ("paused", "2026-06-10T00:00:00Z")
    assert _period(paused) == ("2026-05-31T00:00:00Z", "2026-06-30T00:00:00Z")

    resumed = _ok(http.post(f"/subscriptions/{sub}/resume",
                            json={"effective_at": "2026-07-31T00:00:00Z"}))
    assert (resumed["status"], resumed["paused_at"]) == ("active", None)
    assert resumed["billing_anchor"] == "2026-07-31T00:00:00Z"
    assert _period(resumed) == ("2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z")
    assert (resumed["plan_id"], resumed["quantity"]) == ("pro-m", 3)

    canceling = _ok(http.post(f"/subscriptions/{sub}/cancel",
                              json={"when": "period_end", "reason": "too dear",
                                    "effective_at": "2026-08-15T00:00:00Z"}))
    assert (canceling["status"], canceling["cancel_at"]) == ("active", "2026-08-31T00:00:00Z")

    revoked = _ok(http.post(f"/subscriptions/{sub}/cancel/revoke",
                            json={"effective_at": "2026-08-20T00:00:00Z"}))
    assert (revoked["status"], revoked["cancel_at"]) == ("active", None)

    canceled = _ok(http.post(f"/subscriptions/{sub}/cancel",
                             json={"when": "now", "effective_at": "2026-09-05T00:00:00Z"}))
    assert (canceled["status"], canceled["canceled_at"]) == ("canceled", "2026-09-05T00:00:00Z")
    assert _period(canceled) == ("2026-08-31T00:00:00Z", "2026-09-30T00:00:00Z")
    assert _ok(http.get(f"/subscriptions/{sub}")) == canceled
    return {"subscriber_id": subscriber_id, "subscription_id": sub, "last": canceled}


def test_a_subscriber_lives_a_whole_lifecycle_over_http(http: httpx.Client) -> None:
    live_a_lifecycle(http)


def test_the_history_lists_every_event_of_the_lifecycle_in_order(http: httpx.Client) -> None:
    ids = live_a_lifecycle(http)
    subscriber_id, sub = ids["subscriber_id"], ids["subscription_id"]

    history: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        page = _ok(http.get(f"/subscribers/{subscriber_id}/history", params=params))
        assert set(page) == {"items", "next_cursor"}
        history.extend(page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(page["items"]) == 5
    assert pages >= 4

    assert [e["type"] for e in history] == LIFECYCLE_TYPES
    positions = [e["position"] for e in history]
    assert positions == sorted(set(positions)), "positions strictly increase"
    for envelope in history:
        assert set(envelope) == ENVELOPE_KEYS, envelope
        assert envelope["subscriber_id"] == subscriber_id
        assert isinstance(envelope["schema_version"], int) and envelope["schema_version"] >= 1
        assert envelope["recorded_at"].endswith("Z") and envelope["effective_at"].endswith("Z")
    subscription_events = [e for e in history if e["aggregate_id"] == sub]
    assert [e["aggregate_version"] for e in subscription_events] == list(
        range(1, len(subscription_events) + 1))
    effective = [e["effective_at"] for e in subscription_events]
    assert effective == sorted(effective), "a subscription's events never go back in time"
    assert [e["effective_at"] for e in history if e["type"] in ("TrialEnded", "SubscriptionRenewed")] == [
        "2026-01-31T00:00:00Z", "2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z",
        "2026-04-30T00:00:00Z", "2026-05-31T00:00:00Z", "2026-08-31T00:00:00Z",
    ]
    assert len({e["event_id"] for e in history}) == len(history)
    invoices = [e for e in history if e["type"] == "InvoiceIssued"]
    assert [(e["effective_at"], e["data"]["reason"]) for e in invoices] == [
        ("2026-01-31T00:00:00Z", "trial_end"), ("2026-02-28T00:00:00Z", "renewal"),
        ("2026-03-15T12:00:00Z", "proration"), ("2026-03-31T00:00:00Z", "renewal"),
        ("2026-04-30T00:00:00Z", "renewal"), ("2026-05-31T00:00:00Z", "renewal"),
        ("2026-06-10T00:00:00Z", "pause"), ("2026-07-31T00:00:00Z", "resume"), ("2026-08-31T00:00:00Z", "renewal"),
    ]
    charges = [e for e in history if e["type"] == "ChargeSucceeded"]
    assert [(c["effective_at"], c["data"]["invoice_id"], c["data"]["amount"]) for c in charges] == [
        (i["effective_at"], i["data"]["invoice_id"], i["data"]["amount_due"]) for i in invoices
        if i["data"]["amount_due"] > 0  # the pause's credit charges nothing
    ]

    # The catalogue's minimum data fields (docs/events.md).
    by_type = {e["type"]: e["data"] for e in history}
    assert {"email", "name", "external_ref"} <= by_type["SubscriberRegistered"].keys()
    assert {"gateway": "sandbox", "token": "tok_visa"}.items() <= by_type["PaymentMethodSet"].items()
    started = by_type["SubscriptionStarted"]
    assert (started["plan_id"], started["plan_version"], started["quantity"], started["status"],
            started["trial_end"]) == ("basic-m", 1, 1, "trialing", "2026-01-31T00:00:00Z")
    changed = [e["data"] for e in history if e["type"] == "SubscriptionChanged"]
    assert [(d["plan_id"], d["plan_version"], d["quantity"]) for d in changed] == [
        ("pro-m", 1, 1), ("pro-m", 1, 3)]
    assert (by_type["ChangeScheduled"]["at"], by_type["ChangeScheduled"]["plan_id"],
            by_type["ChangeScheduled"]["quantity"]) == ("2026-04-30T00:00:00Z", "pro-m", 3)
    assert by_type["CouponApplied"]["coupon_id"] == "WELCOME20"
    assert by_type["CancellationScheduled"]["at"] == "2026-08-31T00:00:00Z"
    assert by_type["CancellationScheduled"]["reason"] in ("voluntary", "too dear")
    assert by_type["SubscriptionCanceled"]["reason"] == "voluntary"

    # The history is exactly the subscriber's part of the whole log.
    assert [e for e in api_events(http) if e["subscriber_id"] == subscriber_id] == history


def test_the_event_log_pages_through_everything_with_after_limit_and_type(http: httpx.Client) -> None:
    live_a_lifecycle(http)
    everything = _ok(http.get("/events", params={"limit": 1000}))
    log = everything["items"]
    # three plans and a coupon, then the subscriber's life
    assert [e["type"] for e in log] == [
        "PlanCreated", "PlanCreated", "PlanCreated", "CouponCreated", *LIFECYCLE_TYPES]
    assert everything["next_cursor"] == str(log[-1]["position"])
    assert [e["position"] for e in log] == sorted({e["position"] for e in log})
    assert log[0]["position"] >= 1
    for envelope in log:
        assert set(envelope) == ENVELOPE_KEYS, envelope
    catalog = [e for e in log if e["type"] in ("PlanCreated", "CouponCreated")]
    assert [e["type"] for e in catalog] == ["PlanCreated"] * 3 + ["CouponCreated"]
    assert all(e["subscriber_id"] is None for e in catalog)
    assert [e["data"]["plan_id"] for e in catalog[:3]] == ["basic-m", "pro-m", "basic-y"]

    # Pages of 4: each next_cursor is the page's last position, usable as the next `after`.
    paged: list[dict[str, Any]] = []
    after = 0
    while True:
        page = _ok(http.get("/events", params={"after": after, "limit": 4}))
        if not page["items"]:
            assert page["next_cursor"] is None
            break
        assert len(page["items"]) <= 4
        assert page["next_cursor"] == str(page["items"][-1]["position"])
        paged.extend(page["items"])
        after = int(page["next_cursor"])
    assert paged == log

    middle = log[len(log) // 2]["position"]
    assert _ok(http.get("/events", params={"after": middle, "limit": 1000}))["items"] == [
        e for e in log if e["position"] > middle]
    assert _ok(http.get("/events", params={"after": log[-1]["position"]})) == {
        "items": [], "next_cursor": None}

    # Type filters: one type, comma-separated types, repeated `type`, paged.
    renewals = _ok(http.get("/events", params={"type": "SubscriptionRenewed"}))["items"]
    assert renewals == [e for e in log if e["type"] == "SubscriptionRenewed"] and len(renewals) == 5
    wanted = ("PlanCreated", "CouponCreated", "SubscriptionCanceled")
    expected = [e for e in log if e["type"] in wanted]
    assert _ok(http.get("/events", params={"type": ",".join(wanted)}))["items"] == expected
    assert _ok(http.get("/events", params=[("type", t) for t in wanted]))["items"] == expected
    filtered: list[dict[str, Any]] = []
    after = 0
    while True:
        page = _ok(http.get("/events", params={"after": after, "limit": 2, "type": ",".join(wanted)}))
        filtered.extend(page["items"])
        if page["next_cursor"] is None:
            break
        after = int(page["next_cursor"])
    assert filtered == expected
    assert api_events(http, *wanted) == expected

    assert_problem(http.get("/events", params={"type": "NoSuchEvent"}), 422)
    assert_problem(http.get("/events", params={"limit": 1001}), 422)
    assert_problem(http.get("/events", params={"after": -1}), 422)
