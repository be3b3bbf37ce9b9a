"""The billing routes over live HTTP, on both stores: the billing run, manual charges,
charges and refunds, with idempotent retries and problem documents for bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from support.http import (
    api_events,
    api_plan,
    api_subscriber,
    api_subscription,
    assert_problem,
    assert_refused,
)

JAN_31 = "2026-01-31T00:00:00Z"


@pytest.fixture
def subscription(http: httpx.Client) -> dict[str, Any]:
    """basic-m (19.00 a month, no trial), started Jan 31 2026 by a tok_visa subscriber."""
    api_plan(http, "basic-m", trial_days=0)
    return api_subscription(http, "basic-m", effective_at=JAN_31)


@pytest.fixture
def manual_charge(http: httpx.Client, subscription: dict[str, Any]) -> dict[str, Any]:
    """A manual charge of 49.00 on `subscription`, Feb 1 2026; the 201 answer."""
    response = http.post(f"/subscriptions/{subscription['subscription_id']}/charges", json={
        "amount": 4900, "currency": "USD", "gateway": "sandbox", "gateway_ref": "pi_3Nx",
        "effective_at": "2026-02-01T00:00:00Z"})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


ZEROS = {
    "subscriptions": 0, "invoices": 0, "renewals": 0, "trial_conversions": 0,
    "charges_succeeded": 0, "charges_failed": 0, "cancellations": 0, "past_due": 0,
    "recovered": 0, "billed": {}, "collected": {}, "deferred": 0, "conflicts": 0,
}


# -- POST /billing/run -------------------------------------------------------------------------


def test_a_billing_run_answers_its_summary_and_a_second_run_to_the_same_instant_answers_zeros(
    http: httpx.Client, subscription: dict[str, Any],
) -> None:
    trialing = api_subscription(http, "trial-m", plan={"trial_days": 14, "amount": 2500},
                                effective_at="2026-04-01T00:00:00Z")
    assert trialing["status"] == "trialing"

    response = http.post("/billing/run", json={"until": "2026-04-30T00:00:00Z"})

    assert response.status_code == 200, response.text
    # basic-m renews Feb 28, Mar 31, Apr 30 (3 x 19.00); trial-m converts Apr 15 (25.00).
    assert response.json() == {
        "until": "2026-04-30T00:00:00Z", "subscriptions": 2, "invoices": 4, "renewals": 3,
        "trial_conversions": 1, "charges_succeeded": 4, "charges_failed": 0,
        "cancellations": 0, "past_due": 0, "recovered": 0,
        "billed": {"USD": 3 * 1900 + 2500}, "collected": {"USD": 8200},
        "deferred": 0, "conflicts": 0,
    }
    events = api_events(http)

    again = http.post("/billing/run", json={"until": "2026-04-30T00:00:00+00:00"})

    assert again.status_code == 200, again.text
    assert again.json() == {"until": "2026-04-30T00:00:00Z", **ZEROS}
    assert api_events(http) == events
    subscription_now = http.get(f"/subscriptions/{subscription['subscription_id']}").json()
    assert (subscription_now["current_period_start"], subscription_now["current_period_end"]) == (
        "2026-04-30T00:00:00Z", "2026-05-31T00:00:00Z")


def test_a_billing_run_with_nothing_due_answers_zeros(http: httpx.Client) -> None:
    response = http.post("/billing/run", json={"until": "2026-01-01T00:00:00Z"})

    assert response.status_code == 200, response.text
    assert response.json() == {"until": "2026-01-01T00:00:00Z", **ZEROS}


def test_a_billing_run_into_the_future_is_a_422_problem_and_runs_nothing(
    http: httpx.Client, subscription: dict[str, Any],
) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert_refused(http, [("POST", "/billing/run", {"json": {"until": tomorrow}})], 422,
                   "billing-until-in-future")
    assert_refused(http, [
        ("POST", "/billing/run", {"json": {"until": "2026-03-01T00:00:00"}}),  # no offset
        ("POST", "/billing/run", {"json": {"until": "soon"}}),
        ("POST", "/billing/run", {"json": {}}),
        ("POST", "/billing/run", {"json": {"until": JAN_31, "dry_run": True}}),
    ], 422)
    assert len(api_events(http, "SubscriptionRenewed")) == 0


def test_a_billing_run_retried_with_its_idempotency_key_answers_the_first_summary(
    http: httpx.Client, subscription: dict[str, Any],
) -> None:
    headers = {"Idempotency-Key": "run-2026-03"}
    first = http.post("/billing/run", json={"until": "2026-03-31T00:00:00Z"}, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["renewals"] == 2
    events = api_events(http)

    retry = http.post("/billing/run", json={"until": "2026-03-31T00:00:00Z"}, headers=headers)

    assert retry.status_code == 200
    assert retry.json() == first.json()
    assert api_events(http) == events


# -- charges -----------------------------------------------------------------------------------


def test_a_manual_charge_answers_201_with_its_charge_and_get_charges_answers_it(
    http: httpx.Client, subscription: dict[str, Any], manual_charge: dict[str, Any],
) -> None:
    assert manual_charge["charge_id"]
    assert {k: manual_charge[k] for k in ("subscription_id", "amount", "currency", "gateway",
                                          "gateway_ref", "refunded", "refundable")} == {
        "subscription_id": subscription["subscription_id"], "amount": 4900, "currency": "USD",
        "gateway": "sandbox", "gateway_ref": "pi_3Nx", "refunded": 0, "refundable": 4900}
    (issued,) = [e for e in api_events(http, "InvoiceIssued") if e["data"]["reason"] == "manual"]
    assert manual_charge["invoice_id"] == issued["data"]["invoice_id"]
    assert issued["data"]["lines"][0]["kind"] == "manual" and issued["data"]["total"] == 4900

    response = http.get(f"/charges/{manual_charge['charge_id']}")

    assert response.status_code == 200
    assert response.json() == manual_charge


def test_a_charge_made_by_the_billing_clock_can_be_read(
    http: httpx.Client, subscription: dict[str, Any],
) -> None:
    (charged,) = api_events(http, "ChargeSucceeded")

    response = http.get(f"/charges/{charged['data']['charge_id']}")

    assert response.status_code == 200
    assert response.json()["amount"] == 1900
    assert response.json()["invoice_id"] == charged["data"]["invoice_id"]


def test_an_unknown_charge_is_404(http: httpx.Client, subscription: dict[str, Any]) -> None:
    before = api_events(http)
    assert_problem(http.get(f"/charges/{uuid4()}"), 404, "charge-not-found")
    assert_problem(http.get("/charges/nope"), 404)
    assert_problem(http.post(f"/charges/{uuid4()}/refunds", json={"amount": 100}), 404,
                   "charge-not-found")
    assert api_events(http) == before


def test_bad_manual_charges_are_problems_and_append_nothing(
    http: httpx.Client, subscription: dict[str, Any],
) -> None:
    path = f"/subscriptions/{subscription['subscription_id']}/charges"
    good = {"amount": 4900, "currency": "USD", "gateway": "sandbox", "gateway_ref": "pi_1"}

    seen = assert_refused(http, [
        ("POST", path, {"json": {**good, "amount": 49.5}}),
        ("POST", path, {"json": {**good, "amount": "4900"}}),
        ("POST", path, {"json": {**good, "amount": -1}}),
        ("POST", path, {"json": {**good, "amount": 0}}),
        ("POST", path, {"json": {**good, "gateway": "paypal"}}),
        ("POST", path, {"json": {**good, "currency": "EUR"}}),
        ("POST", path, {"json": {**good, "currency": "ZZZ"}}),
        ("POST", path, {"json": {k: v for k, v in good.items() if k != "gateway_ref"}}),
    ], 422)

    assert "/problems/unknown-gateway" in seen
    assert "/problems/currency-mismatch" in seen
    assert_refused(http, [("POST", f"/subscriptions/{uuid4()}/charges", {"json": good})], 404)


# -- refunds -----------------------------------------------------------------------------------


def test_a_partial_refund_answers_201_and_one_above_what_is_left_is_a_409(
    http: httpx.Client, manual_charge: dict[str, Any],
) -> None:
    path = f"/charges/{manual_charge['charge_id']}/refunds"

    first = http.post(path, json={"amount": 1500, "reason": "requested_by_customer",
                                  "effective_at": "2026-02-02T00:00:00Z"})

    assert first.status_code == 201, first.text
    body = first.json()
    assert body["refund_id"]
    assert (body["charge"]["refunded"], body["charge"]["refundable"]) == (1500, 3400)
    second = http.post(path, json={"amount": 3400, "effective_at": "2026-02-02T00:00:00Z"})
    assert second.status_code == 201, second.text
    assert second.json()["charge"]["refundable"] == 0
    assert second.json()["refund_id"] != body["refund_id"]
    refunds = api_events(http, "RefundIssued")
    assert [r["data"]["amount"] for r in refunds] == [1500, 3400]

    assert_refused(http, [("POST", path, {"json": {"amount": 1}})], 409, "refund-exceeds-charge")
    assert http.get(f"/charges/{manual_charge['charge_id']}").json()["refunded"] == 4900


def test_a_refund_retried_with_the_same_idempotency_key_answers_the_same_and_appends_nothing(
    http: httpx.Client, manual_charge: dict[str, Any],
) -> None:
    path = f"/charges/{manual_charge['charge_id']}/refunds"
    headers = {"Idempotency-Key": "refund-1"}
    first = http.post(path, json={"amount": 1000}, headers=headers)
    assert first.status_code == 201, first.text
    events = api_events(http)

    retry = http.post(path, content=b'{ "amount" : 1000 }',
                      headers={**headers, "content-type": "application/json"})

    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert api_events(http) == events
    assert http.get(f"/charges/{manual_charge['charge_id']}").json()["refunded"] == 1000
    other = http.post(path, json={"amount": 2000}, headers=headers)
    assert_problem(other, 409, "idempotency-key-reused")
    assert api_events(http) == events


def test_bad_refunds_are_problems_and_append_nothing(
    http: httpx.Client, manual_charge: dict[str, Any],
) -> None:
    path = f"/charges/{manual_charge['charge_id']}/refunds"

    assert_refused(http, [
        ("POST", path, {"json": {"amount": 10.5}}),
        ("POST", path, {"json": {"amount": "10"}}),
        ("POST", path, {"json": {"amount": 0}}),
        ("POST", path, {"json": {"amount": -5}}),
        ("POST", path, {"json": {}}),
        ("POST", path, {"json": {"amount": 10, "currency": "USD"}}),
    ], 422)
    assert_refused(http, [
        ("POST", path, {"json": {"amount": 10, "effective_at": "2026-01-01T00:00:00Z"}}),
    ], 409, "effective-at-out-of-order")


def test_a_clock_charge_can_be_refunded_over_http(
    http: httpx.Client,
) -> None:
    subscriber = api_subscriber(http, "bob@example.com", token="tok_visa")
    api_plan(http, "pro-m", trial_days=0, amount=4900, tier="pro")
    api_subscription(http, "pro-m", subscriber_id=subscriber["subscriber_id"],
                     effective_at="2026-03-01T00:00:00Z")
    assert http.post("/billing/run", json={"until": "2026-04-01T00:00:00Z"}).status_code == 200
    charges = api_events(http, "ChargeSucceeded")
    assert [c["effective_at"] for c in charges] == ["2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"]

    response = http.post(f"/charges/{charges[1]['data']['charge_id']}/refunds", json={"amount": 4900})

    assert response.status_code == 201, response.text
    assert response.json()["charge"]["refundable"] == 0
    subscription = http.get(f"/subscriptions/{charges[1]['aggregate_id']}").json()
    assert subscription["status"] == "active"
