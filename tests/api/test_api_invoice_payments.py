"""``POST /invoices/{id}/payments`` on both stores: an open invoice paid outside the billing
clock is paid, its dunning ends; what cannot be recorded is a problem document and the log
is unchanged."""

from __future__ import annotations

import httpx
from support.http import api_events, api_subscriber, api_subscription, assert_problem


def test_an_open_invoice_paid_outside_the_clock_is_paid_and_its_subscription_active(
        http: httpx.Client) -> None:
    ada = api_subscriber(http, token="tok_chargeDeclined")
    sub = api_subscription(http, subscriber_id=ada["subscriber_id"], trial_days=0)
    assert sub["status"] == "past_due"
    [invoice] = [e["data"]["invoice_id"] for e in api_events(http, "InvoiceIssued")]
    path = f"/invoices/{invoice}/payments"

    paid = http.post(path, json={"gateway": "sandbox", "gateway_ref": "wire-7"})

    assert paid.status_code == 201, paid.text
    assert (paid.json()["amount"], paid.json()["gateway_ref"]) == (sub["amount"], "wire-7")
    assert http.get(f"/subscriptions/{sub['subscription_id']}").json()["status"] == "active"
    before = http.get("/events", params={"after": 0, "limit": 1000}).json()["items"]
    assert_problem(http.post(path, json={"gateway": "sandbox", "gateway_ref": "wire-8"}),
                   409, "invoice-not-open")
    assert_problem(http.post(path, json={"gateway": "bank", "gateway_ref": "wire-8"}),
                   422, "unknown-gateway")
    assert_problem(http.post(path, json={"gateway": "sandbox"}), 422)
    assert_problem(http.post("/invoices/00000000-0000-4000-8000-00000000dead/payments",
                             json={"gateway": "sandbox", "gateway_ref": "wire-9"}),
                   404, "invoice-not-found")
    assert http.get("/events", params={"after": 0, "limit": 1000}).json()["items"] == before


def test_an_invoice_a_canceled_subscription_left_unpaid_is_paid_and_it_stays_canceled(
        http: httpx.Client) -> None:
    ada = api_subscriber(http, token="tok_chargeDeclined")
    sub = api_subscription(http, subscriber_id=ada["subscriber_id"], trial_days=0)
    canceled = http.post(f"/subscriptions/{sub['subscription_id']}/cancel", json={"when": "now"})
    assert canceled.status_code == 200, canceled.text
    [invoice] = [e["data"]["invoice_id"] for e in api_events(http, "InvoiceIssued")]

    paid = http.post(f"/invoices/{invoice}/payments",
                     json={"gateway": "sandbox", "gateway_ref": "collections-1"})

    assert paid.status_code == 201, paid.text
    assert paid.json()["amount"] == sub["amount"]
    assert http.get(f"/subscriptions/{sub['subscription_id']}").json()["status"] == "canceled"
    assert [e["data"]["invoice_id"] for e in api_events(http, "ChargeSucceeded")] == [invoice]
