"""A retry by hand over live HTTP (``POST /charges/{id}/retry``), on both stores: an attempt
taken now at an unpaid invoice, the dunning schedule left as it was when it fails, one
charge under a key, and nothing for a charge that is no failed attempt."""

from __future__ import annotations

from typing import Any

import httpx
from support import corrections_http
from support.corrections_http import LATER, events_of, subscribe
from support.http import assert_problem, assert_refused

# support/corrections_http.py's fixtures, under the names the tests take.
plan, declined, paid = corrections_http.plan, corrections_http.declined, corrections_http.paid


def test_a_retry_by_hand_takes_the_charge_now_and_recovers_the_subscription(
        http: httpx.Client, plan: str) -> None:
    sub = subscribe(http, plan, "tok_fail_first")
    sub_id = sub["subscription_id"]
    failed = events_of(http, sub_id, "ChargeFailed")[0]["data"]
    response = http.post(f"/charges/{failed['charge_id']}/retry", json={"effective_at": LATER})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["invoice"]["status"]) == ("succeeded", "paid")
    assert body["charge_id"] != failed["charge_id"]
    assert [e["type"] for e in events_of(http, sub_id)][-3:] == [
        "ChargeRetryScheduled", "ChargeSucceeded", "SubscriptionRecovered"]
    assert_problem(http.post(f"/charges/{failed['charge_id']}/retry", json={"effective_at": LATER}),
                   409, "invoice-not-open")


def test_a_retry_that_fails_again_leaves_the_dunning_schedule_as_it_was(
        http: httpx.Client, declined: dict[str, Any]) -> None:
    sub_id = declined["subscription_id"]
    failed = events_of(http, sub_id, "ChargeFailed")[0]["data"]
    response = http.post(f"/charges/{failed['charge_id']}/retry", json={"effective_at": LATER})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "failed"
    again = events_of(http, sub_id, "ChargeFailed")[-1]["data"]
    assert again["next_attempt_at"] == failed["next_attempt_at"]


def test_a_retry_by_hand_under_an_idempotency_key_is_answered_and_charges_once(
        http: httpx.Client, plan: str) -> None:
    sub_id = subscribe(http, plan, "tok_fail_first")["subscription_id"]
    failed = events_of(http, sub_id, "ChargeFailed")[0]["data"]
    path, key = f"/charges/{failed['charge_id']}/retry", {"Idempotency-Key": "retry-once"}
    first = http.post(path, json={"effective_at": LATER}, headers=key)
    again = http.post(path, json={"effective_at": LATER}, headers=key)
    assert (first.status_code, again.status_code) == (200, 200), first.text
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    # Stored with the decision, before the gateway was asked: the attempt then due.
    assert (first.json()["invoice_id"], first.json()["status"]) == (failed["invoice_id"], "pending")
    succeeded = events_of(http, sub_id, "ChargeSucceeded")
    assert [e["data"]["charge_id"] for e in succeeded] == [first.json()["charge_id"]]


def test_a_charge_that_is_not_a_failed_attempt_cannot_be_retried(
        http: httpx.Client, paid: dict[str, Any]) -> None:
    charge_id = events_of(http, paid["subscription_id"], "ChargeSucceeded")[0]["data"]["charge_id"]
    assert_refused(http, [("POST", f"/charges/{charge_id}/retry", {"json": {}}),
                          ("POST", "/charges/00000000-0000-4000-8000-000000000000/retry", {"json": {}})],
                   404, "charge-not-found")


