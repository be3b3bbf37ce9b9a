"""Corrections over live HTTP, on both stores: void, write-off, credit notes, balance
adjustments; each a new event, idempotent under a key, and refused whole
(nothing appended) when it does not apply."""

from __future__ import annotations

from typing import Any

import httpx
from support import corrections_http
from support.corrections_http import LATER, START, events_of, first_invoice, subscribe
from support.http import (
    api_events,
    api_subscriber,
    api_subscription,
    assert_problem,
    assert_refused,
)

# support/corrections_http.py's fixtures, under the names the tests take.
plan, declined, paid = corrections_http.plan, corrections_http.declined, corrections_http.paid


# -- void and write-off ------------------------------------------------------------------------


def test_voiding_an_unpaid_invoice_appends_its_event_and_the_subscription_recovers(
        http: httpx.Client, declined: dict[str, Any]) -> None:
    sub_id = declined["subscription_id"]
    invoice_id = first_invoice(http, sub_id)
    response = http.post(f"/invoices/{invoice_id}/void",
                         json={"reason": "billed in error", "effective_at": LATER})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["total"], body["amount_due"]) == ("void", 3000, 0)
    types = [e["type"] for e in events_of(http, sub_id)]
    assert types[-2:] == ["InvoiceVoided", "SubscriptionRecovered"]
    assert http.get(f"/subscriptions/{sub_id}").json()["status"] == "active"
    assert_problem(http.post(f"/invoices/{invoice_id}/void", json={}), 409, "invoice-not-open")


def test_writing_off_keeps_the_invoice_billed_and_stops_its_attempts(
        http: httpx.Client, declined: dict[str, Any]) -> None:
    sub_id = declined["subscription_id"]
    invoice_id = first_invoice(http, sub_id)
    response = http.post(f"/invoices/{invoice_id}/uncollectible",
                         json={"reason": "customer unreachable", "effective_at": LATER})
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["amount_due"]) == ("uncollectible", 3000)
    written = events_of(http, sub_id, "InvoiceMarkedUncollectible")[0]["data"]
    assert written["reason"] == "customer unreachable"
    state = http.get(f"/subscriptions/{sub_id}").json()
    assert state["status"] == "active" and state["open_invoices"] == []


def test_a_void_retried_with_its_key_answers_the_first_answer_and_appends_nothing(
        http: httpx.Client, declined: dict[str, Any]) -> None:
    invoice_id = first_invoice(http, declined["subscription_id"])
    headers = {"Idempotency-Key": "void-1"}
    first = http.post(f"/invoices/{invoice_id}/void", json={}, headers=headers)
    assert first.status_code == 200, first.text
    log = api_events(http)
    again = http.post(f"/invoices/{invoice_id}/void", json={}, headers=headers)
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert api_events(http) == log


def test_an_unknown_or_malformed_invoice_is_not_found(http: httpx.Client, paid: dict[str, Any]) -> None:
    for path in ("/invoices/00000000-0000-4000-8000-000000000000/void",
                 "/invoices/not-an-id/uncollectible",
                 "/invoices/00000000-0000-4000-8000-000000000000/credit-notes"):
        body = {"settlement": "refund"} if path.endswith("credit-notes") else {}
        assert_problem(http.post(path, json=body), 404, "invoice-not-found")


def test_a_paid_invoice_cannot_be_voided_or_written_off(http: httpx.Client, paid: dict[str, Any]) -> None:
    invoice_id = first_invoice(http, paid["subscription_id"])
    assert_refused(http, [("POST", f"/invoices/{invoice_id}/void", {"json": {}}),
                          ("POST", f"/invoices/{invoice_id}/uncollectible", {"json": {}})],
                   409, "invoice-not-open")


# -- credit notes ------------------------------------------------------------------------------


def test_a_credit_note_by_line_refunds_the_charge_through_its_gateway(
        http: httpx.Client, paid: dict[str, Any]) -> None:
    sub_id = paid["subscription_id"]
    invoice_id = first_invoice(http, sub_id)
    response = http.post(f"/invoices/{invoice_id}/credit-notes", json={
        "settlement": "refund", "lines": [{"index": 0, "amount": 1000}],
        "reason": "outage", "effective_at": LATER})
    assert response.status_code == 201, response.text
    note = response.json()
    assert (note["total"], note["settlement"], note["refund_status"]) == (1000, "refund", "succeeded")
    assert note["invoice"]["credited"] == 1000
    assert note["lines"] == [{"index": 0, "amount": 1000, "description": "credit: team-m v1 (month) × 1"}]
    refund = events_of(http, sub_id, "RefundIssued")[0]["data"]
    assert (refund["refund_id"], refund["amount"]) == (note["refund_id"], 1000)
    charge = http.get(f"/charges/{refund['charge_id']}").json()
    assert (charge["refunded"], charge["refundable"]) == (1000, 2000)


def test_a_full_credit_note_to_the_balance_is_taken_off_the_next_invoice(
        http: httpx.Client, paid: dict[str, Any]) -> None:
    sub_id = paid["subscription_id"]
    invoice_id = first_invoice(http, sub_id)
    response = http.post(f"/invoices/{invoice_id}/credit-notes",
                         json={"settlement": "credit_balance", "effective_at": LATER})
    assert response.status_code == 201, response.text
    assert response.json()["invoice"]["credit_balance"] == 3000
    assert http.post("/billing/run", json={"until": "2026-04-01T00:00:00Z"}).status_code == 200
    renewal = events_of(http, sub_id, "InvoiceIssued")[-1]["data"]
    assert (renewal["credit_applied"], renewal["amount_due"]) == (3000, 0)


def test_credit_notes_that_do_not_apply_are_refused_and_append_nothing(
        http: httpx.Client, paid: dict[str, Any], declined: dict[str, Any]) -> None:
    paid_invoice = first_invoice(http, paid["subscription_id"])
    unpaid_invoice = first_invoice(http, declined["subscription_id"])
    path = f"/invoices/{paid_invoice}/credit-notes"
    assert_refused(http, [
        ("POST", path, {"json": {"settlement": "refund", "lines": [{"index": 0, "amount": 3001}]}}),
        ("POST", path, {"json": {"settlement": "amount_due"}}),
        ("POST", f"/invoices/{unpaid_invoice}/credit-notes",
         {"json": {"settlement": "refund", "effective_at": LATER}}),
    ], 409, "invoice-not-creditable")
    assert_refused(http, [
        ("POST", path, {"json": {"settlement": "refund", "lines": [{"index": 1, "amount": 100}]}}),
    ], 422, "invalid-input")
    assert_refused(http, [
        ("POST", path, {"json": {"settlement": "refund", "lines": [{"index": 0, "amount": 0}]}}),
    ], 422, "amount-out-of-bounds")
    assert_refused(http, [
        ("POST", path, {"json": {"settlement": "refund", "lines": []}}),
        ("POST", path, {"json": {"settlement": "cash"}}),
        ("POST", path, {"json": {"settlement": "refund", "lines": [{"index": 0, "amount": 1.5}]}}),
    ], 422, "validation-error")


def test_an_unpaid_invoice_credited_to_nothing_is_paid_and_the_subscription_recovers(
        http: httpx.Client, declined: dict[str, Any]) -> None:
    sub_id = declined["subscription_id"]
    invoice_id = first_invoice(http, sub_id)
    response = http.post(f"/invoices/{invoice_id}/credit-notes",
                         json={"settlement": "amount_due", "effective_at": LATER})
    assert response.status_code == 201, response.text
    assert (response.json()["invoice"]["status"], response.json()["invoice"]["amount_due"]) == ("paid", 0)
    assert http.get(f"/subscriptions/{sub_id}").json()["status"] == "active"


# -- balance adjustments -----------------------------------------------------------------------


def test_a_debit_to_a_subscribers_balance_is_added_to_the_next_invoice(
        http: httpx.Client, paid: dict[str, Any]) -> None:
    subscriber_id, sub_id = paid["subscriber_id"], paid["subscription_id"]
    response = http.post(f"/subscribers/{subscriber_id}/balance",
                         json={"amount": -500, "reason": "late fee", "effective_at": LATER})
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["subscription_id"], body["amount"], body["credit_balance"]) == (sub_id, -500, -500)
    http.post("/billing/run", json={"until": "2026-04-01T00:00:00Z"})
    renewal = events_of(http, sub_id, "InvoiceIssued")[-1]["data"]
    assert (renewal["total"], renewal["credit_applied"], renewal["amount_due"]) == (3000, -500, 3500)


def test_a_subscriber_with_several_running_subscriptions_names_one(
        http: httpx.Client, paid: dict[str, Any], plan: str) -> None:
    subscriber_id = paid["subscriber_id"]
    other = api_subscription(http, plan, subscriber_id=subscriber_id, effective_at=START)
    path = f"/subscribers/{subscriber_id}/balance"
    assert_refused(http, [
        ("POST", path, {"json": {"amount": 500, "reason": "goodwill"}}),
        ("POST", path, {"json": {"amount": 500, "reason": "goodwill",
                                 "subscription_id": "00000000-0000-4000-8000-000000000000"}}),
    ], 409, "subscription-required")
    response = http.post(path, json={"amount": 500, "reason": "goodwill",
                                     "subscription_id": other["subscription_id"]})
    assert response.status_code == 201, response.text
    assert response.json()["subscription_id"] == other["subscription_id"]


def test_a_balance_adjustment_is_a_nonzero_whole_amount_with_a_reason(
        http: httpx.Client, paid: dict[str, Any]) -> None:
    path = f"/subscribers/{paid['subscriber_id']}/balance"
    assert_refused(http, [("POST", path, {"json": body}) for body in (
        {"amount": 0, "reason": "x"}, {"amount": 10**13, "reason": "x"})], 422, "amount-out-of-bounds")
    assert_refused(http, [("POST", path, {"json": body}) for body in (
        {"amount": 5.5, "reason": "x"}, {"amount": 500},
        {"amount": 500, "reason": "x", "subscription_id": "nope"})], 422, "validation-error")
    assert_refused(http, [("POST", path, {"json": {"amount": 500, "reason": " "}})], 422, "invalid-input")
    assert_problem(http.post("/subscribers/00000000-0000-4000-8000-000000000000/balance",
                             json={"amount": 5, "reason": "x"}), 404, "subscriber-not-found")


# -- nothing given back twice ------------------------------------------------------------------


def test_a_refunded_invoice_is_not_credited_again_and_a_credited_one_not_refunded(
        http: httpx.Client, plan: str) -> None:
    refunded = subscribe(http, plan, "tok_visa")
    other = api_subscriber(http, "other@example.com", token="tok_visa")
    credited = api_subscription(http, plan, subscriber_id=other["subscriber_id"], effective_at=START)
    refunded_invoice = first_invoice(http, refunded["subscription_id"])
    charge_id = events_of(http, refunded["subscription_id"], "ChargeSucceeded")[0]["data"]["charge_id"]
    answer = http.post(f"/charges/{charge_id}/refunds", json={"amount": 3000, "effective_at": LATER})
    assert answer.status_code == 201, answer.text
    credited_invoice = first_invoice(http, credited["subscription_id"])
    answer = http.post(f"/invoices/{credited_invoice}/credit-notes",
                       json={"settlement": "credit_balance", "effective_at": LATER})
    assert answer.status_code == 201, answer.text
    credited_charge = events_of(http, credited["subscription_id"], "ChargeSucceeded")[0]["data"]["charge_id"]
    assert http.get(f"/charges/{credited_charge}").json()["refundable"] == 0
    assert_refused(http, [
        ("POST", f"/invoices/{refunded_invoice}/credit-notes", {"json": {"settlement": "credit_balance"}}),
        ("POST", f"/invoices/{refunded_invoice}/credit-notes",
         {"json": {"settlement": "credit_balance", "lines": [{"index": 0, "amount": 1}]}}),
    ], 409, "invoice-not-creditable")
    assert_refused(http, [("POST", f"/charges/{credited_charge}/refunds", {"json": {"amount": 1}})],
                   409, "refund-exceeds-charge")
    assert http.get(f"/subscriptions/{refunded['subscription_id']}").json()["credit_balance"] == 0
