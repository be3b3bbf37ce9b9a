"""Every amount a client gives in a three-decimal currency must be a multiple of 10 minor
units (its last digit 0, as card payments settle it): otherwise 422
``amount-not-settleable``, and nothing is appended. Multiples of 10 are accepted."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from support.http import (
    CATALOG_AT_ISO,
    api_events,
    api_plan,
    api_subscriber,
    assert_refused,
    plan_json,
)


@pytest.fixture
def kwd(http: httpx.Client) -> dict[str, Any]:
    """A KWD plan (10.000 a month), a subscriber paying by card, a subscription paid for."""
    api_plan(http, "kwd-m", currency="KWD", amount=10000, trial_days=0)
    subscriber_id = api_subscriber(http, token="tok_visa")["subscriber_id"]
    response = http.post(f"/subscribers/{subscriber_id}/subscriptions", json={"plan_id": "kwd-m"})
    assert response.status_code == 201, response.text
    sub_id = response.json()["subscription_id"]
    [paid] = [e["data"] for e in api_events(http, "ChargeSucceeded") if e["aggregate_id"] == sub_id]
    return {"subscriber_id": subscriber_id, "subscription_id": sub_id,
            "charge_id": paid["charge_id"], "invoice_id": paid["invoice_id"]}


def test_kwd_amounts_whose_last_digit_is_not_zero_are_refused_and_append_nothing(
        http: httpx.Client, kwd: dict[str, Any]) -> None:
    assert_refused(http, [
        ("POST", "/plans", {"json": plan_json("kwd-x", currency="KWD", amount=3285)}),
        ("POST", "/plans/kwd-m/prices", {"json": {"amount": 10005}}),
        ("POST", "/coupons", {"json": {"coupon_id": "KWD1", "amount_off": 505, "currency": "KWD",
                                       "duration": "once", "effective_at": CATALOG_AT_ISO}}),
        ("POST", f"/subscriptions/{kwd['subscription_id']}/charges",
         {"json": {"amount": 1001, "currency": "KWD", "gateway": "sandbox", "gateway_ref": "cash-1"}}),
        ("POST", f"/charges/{kwd['charge_id']}/refunds", {"json": {"amount": 2505}}),
        ("POST", f"/invoices/{kwd['invoice_id']}/credit-notes",
         {"json": {"settlement": "credit_balance", "lines": [{"index": 0, "amount": 2505}]}}),
        ("POST", f"/invoices/{kwd['invoice_id']}/credit-notes",
         {"json": {"settlement": "refund", "lines": [{"index": 0, "amount": 2505}]}}),
        ("POST", f"/subscribers/{kwd['subscriber_id']}/balance",
         {"json": {"amount": -1005, "reason": "late fee"}}),
    ], 422, "amount-not-settleable")


def test_kwd_amounts_in_tens_of_fils_are_accepted(http: httpx.Client, kwd: dict[str, Any]) -> None:
    for path, body in [
        ("/plans/kwd-m/prices", {"amount": 10010}),
        ("/coupons", {"coupon_id": "KWD1", "amount_off": 500, "currency": "KWD", "duration": "once"}),
        (f"/subscriptions/{kwd['subscription_id']}/charges",
         {"amount": 1000, "currency": "KWD", "gateway": "sandbox", "gateway_ref": "cash-1"}),
        (f"/charges/{kwd['charge_id']}/refunds", {"amount": 2500}),
        (f"/invoices/{kwd['invoice_id']}/credit-notes",
         {"settlement": "credit_balance", "lines": [{"index": 0, "amount": 2500}]}),
        (f"/subscribers/{kwd['subscriber_id']}/balance", {"amount": -1000, "reason": "late fee"}),
    ]:
        response = http.post(path, json=body)
        assert response.status_code == 201, (path, response.text)


def test_a_usd_amount_keeps_every_cent(http: httpx.Client) -> None:
    assert api_plan(http, "usd-odd", amount=3285)["amount"] == 3285
