"""Previews over HTTP, on each store: `POST /subscriptions/{id}/change/preview` answers what
the change would invoice and leaves the log as it was; `GET
/subscriptions/{id}/upcoming-invoice` answers the next invoice of the billing clock. Amounts
are Ada's of docs/billing.md: March 22, 10 days of a 31-day March left."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from support.http import (
    api_coupon,
    api_events,
    api_plan,
    api_subscriber,
    api_subscription,
    assert_problem,
    assert_refused,
)

MARCH_1, MARCH_22 = "2026-03-01T00:00:00Z", "2026-03-22T00:00:00Z"


@pytest.fixture
def subscriber_id(http: httpx.Client) -> str:
    """Plans basic-m (10.00 a month), pro-m (30.00), basic-y (100.00 a year), trial-m
    (19.00 a month, 14-day trial) and eur-m (EUR); coupon TWENTY (20 % forever); a
    subscriber with a card that pays."""
    for plan_id, overrides in (
        ("basic-m", {"amount": 1000}), ("pro-m", {"amount": 3000, "tier": "pro"}),
        ("basic-y", {"amount": 10000, "interval": "year"}),
        ("eur-m", {"amount": 1000, "currency": "EUR"}),
    ):
        api_plan(http, plan_id, **{"trial_days": 0, **overrides})
    api_plan(http, "trial-m")
    api_coupon(http, "TWENTY", duration="forever", duration_in_months=None)
    return str(api_subscriber(http, token="tok_visa")["subscriber_id"])


def subscription(http: httpx.Client, subscriber_id: str, plan_id: str, **body: Any) -> str:
    """A subscription started on March 1; its id."""
    made = api_subscription(http, plan_id, subscriber_id=subscriber_id, effective_at=MARCH_1, **body)
    return str(made["subscription_id"])


def preview(http: httpx.Client, subscription_id: str, **body: Any) -> dict[str, Any]:
    """POST .../change/preview (at March 22 unless said), checked to append nothing."""
    head = api_events(http)[-1]["position"]
    answer = http.post(f"/subscriptions/{subscription_id}/change/preview",
                       json={"effective_at": MARCH_22, **body})
    assert answer.status_code == 200, answer.text
    assert api_events(http)[-1]["position"] == head
    return answer.json()  # type: ignore[no-any-return]


def amounts(invoice: dict[str, Any]) -> list[tuple[str, int]]:
    return [(line["kind"], line["amount"]) for line in invoice["lines"]]


def last_invoice(http: httpx.Client, subscription_id: str) -> dict[str, Any]:
    """The last InvoiceIssued of a subscription, as the preview shows one."""
    data = [e for e in api_events(http, "InvoiceIssued") if e["aggregate_id"] == subscription_id][-1]
    shown = {k: v for k, v in data["data"].items() if k != "invoice_id"}
    return {**shown, "issued_at": data["effective_at"]}


def shown(invoice: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in invoice.items() if k != "discounts"}


def test_an_upgrade_previews_the_invoice_and_the_subscription_the_upgrade_then_makes(
    http: httpx.Client, subscriber_id: str,
) -> None:
    sid = subscription(http, subscriber_id, "basic-m")
    body = {"plan_id": "pro-m", "when": "now", "effective_at": MARCH_22}
    answer = preview(http, sid, **body)
    assert amounts(answer["invoice"]) == [("proration_credit", -323), ("proration_charge", 968)]
    assert (answer["invoice"]["total"], answer["invoice"]["amount_due"]) == (645, 645)
    assert (answer["mrr_before"], answer["mrr_after"]) == ("1000.00", "3000.00")
    assert answer["upcoming_invoice"]["issued_at"] == "2026-04-01T00:00:00Z"

    changed = http.post(f"/subscriptions/{sid}/change", json=body)
    assert changed.status_code == 200, changed.text
    assert shown(answer["invoice"]) == last_invoice(http, sid)
    assert answer["subscription"] == changed.json()


def test_a_downgrade_previews_the_credit_kept_and_the_renewal_that_takes_it(
    http: httpx.Client, subscriber_id: str,
) -> None:
    sid = subscription(http, subscriber_id, "pro-m")
    answer = preview(http, sid, plan_id="basic-m")
    invoice, upcoming = answer["invoice"], answer["upcoming_invoice"]
    assert (invoice["total"], invoice["credit_added"], invoice["amount_due"]) == (-645, 645, 0)
    assert answer["subscription"]["credit_balance"] == 645
    assert (upcoming["total"], upcoming["credit_applied"], upcoming["amount_due"]) == (1000, 645, 355)


def test_a_quantity_change_previews_the_seats_prorated(http: httpx.Client, subscriber_id: str) -> None:
    sid = subscription(http, subscriber_id, "basic-m")
    answer = preview(http, sid, quantity=3)
    assert amounts(answer["invoice"]) == [("proration_credit", -323), ("proration_charge", 968)]
    assert (answer["subscription"]["quantity"], answer["mrr_after"]) == (3, "3000.00")


def test_a_change_of_interval_previews_the_credit_and_the_new_year_whole(
    http: httpx.Client, subscriber_id: str,
) -> None:
    sid = subscription(http, subscriber_id, "basic-m")
    answer = preview(http, sid, plan_id="basic-y")
    assert amounts(answer["invoice"]) == [("proration_credit", -323), ("recurring", 10000)]
    assert answer["invoice"]["lines"][1]["period_end"] == "2027-03-22T00:00:00Z"
    assert (answer["subscription"]["billing_anchor"], answer["mrr_after"]) == (MARCH_22, "833.33")


def test_a_change_at_period_end_previews_no_invoice_now_and_the_renewal_on_the_new_terms(
    http: httpx.Client, subscriber_id: str,
) -> None:
    sid = subscription(http, subscriber_id, "basic-m")
    body = {"plan_id": "pro-m", "quantity": 2, "when": "period_end"}
    answer = preview(http, sid, **body)
    assert answer["invoice"] is None
    assert (answer["mrr_before"], answer["mrr_after"]) == ("1000.00", "1000.00")
    assert answer["subscription"]["scheduled_change"]["quantity"] == 2
    upcoming = answer["upcoming_invoice"]
    assert (upcoming["reason"], upcoming["issued_at"], amounts(upcoming)) == (
        "renewal", "2026-04-01T00:00:00Z", [("recurring", 6000)])

    assert http.post(f"/subscriptions/{sid}/change", json={**body, "effective_at": MARCH_22}).status_code == 200
    assert http.get(f"/subscriptions/{sid}/upcoming-invoice").json() == upcoming


def test_a_trial_has_no_invoice_now_and_its_conversion_is_the_upcoming_invoice(
    http: httpx.Client, subscriber_id: str,
) -> None:
    sid = subscription(http, subscriber_id, "trial-m")
    upcoming = http.get(f"/subscriptions/{sid}/upcoming-invoice").json()
    assert (upcoming["reason"], upcoming["issued_at"], amounts(upcoming)) == (
        "trial_end", "2026-03-15T00:00:00Z", [("recurring", 1900)])
    answer = preview(http, sid, plan_id="pro-m", effective_at="2026-03-05T00:00:00Z")
    assert answer["invoice"] is None and answer["subscription"]["status"] == "trialing"
    assert amounts(answer["upcoming_invoice"]) == [("recurring", 3000)]


def test_the_upcoming_invoice_shows_the_coupon_in_force(http: httpx.Client, subscriber_id: str) -> None:
    sid = subscription(http, subscriber_id, "basic-m", coupon="TWENTY")
    upcoming = http.get(f"/subscriptions/{sid}/upcoming-invoice").json()
    assert amounts(upcoming) == [("recurring", 1000), ("discount", -200)]
    assert upcoming["discounts"] == [{"coupon_id": "TWENTY", "amount": -200}]
    assert (upcoming["total"], upcoming["amount_due"]) == (800, 800)


def test_the_upcoming_invoice_takes_the_credit_balance(http: httpx.Client, subscriber_id: str) -> None:
    sid = subscription(http, subscriber_id, "pro-m")
    downgrade = {"plan_id": "basic-m", "effective_at": MARCH_22}
    assert http.post(f"/subscriptions/{sid}/change", json=downgrade).status_code == 200
    upcoming = http.get(f"/subscriptions/{sid}/upcoming-invoice").json()
    assert (upcoming["credit_applied"], upcoming["amount_due"]) == (645, 355)

    assert http.post("/billing/run", json={"until": upcoming["issued_at"]}).status_code == 200
    assert shown(upcoming) == last_invoice(http, sid)


def test_a_preview_refused_answers_the_problem_the_change_answers(
    http: httpx.Client, subscriber_id: str,
) -> None:
    active, canceled, paused = (subscription(http, subscriber_id, "basic-m") for _ in range(3))
    assert http.post(f"/subscriptions/{canceled}/cancel", json={"when": "now"}).status_code == 200
    assert http.post(f"/subscriptions/{paused}/pause").status_code == 200
    cases = [
        (canceled, {"quantity": 2}, 409, "subscription-already-canceled"),
        (paused, {"quantity": 2}, 409, "subscription-paused"),
        (active, {"quantity": 2, "effective_at": "2026-02-01T00:00:00Z"}, 409, "effective-at-out-of-order"),
        (active, {"plan_id": "eur-m"}, 422, "currency-mismatch"),
        (active, {"plan_id": "no-such-plan"}, 422, "unknown-reference"),
        (active, {"plan_id": "basic-m"}, 422, "empty-change"),
        ("00000000-0000-4000-8000-000000000000", {"quantity": 2}, 404, "subscription-not-found"),
    ]
    for sid, body, status, code in cases:
        assert_refused(http, [("POST", f"/subscriptions/{sid}/change/preview", {"json": body}),
                              ("POST", f"/subscriptions/{sid}/change", {"json": body})], status, code)


def test_there_is_no_upcoming_invoice_for_a_canceled_paused_or_ending_subscription(
    http: httpx.Client, subscriber_id: str,
) -> None:
    canceled, paused, ending = (subscription(http, subscriber_id, "basic-m") for _ in range(3))
    assert http.post(f"/subscriptions/{canceled}/cancel", json={"when": "now"}).status_code == 200
    assert http.post(f"/subscriptions/{paused}/pause").status_code == 200
    assert http.post(f"/subscriptions/{ending}/cancel", json={"when": "period_end"}).status_code == 200
    seen = assert_refused(http, [("GET", f"/subscriptions/{sid}/upcoming-invoice", {})
                                 for sid in (canceled, paused, ending)], 409, "no-upcoming-invoice")
    assert seen == {"/problems/no-upcoming-invoice": 409}


def test_a_preview_keeps_no_idempotency_answer(http: httpx.Client, subscriber_id: str) -> None:
    sid = subscription(http, subscriber_id, "basic-m")
    key = {"Idempotency-Key": "preview-then-change"}
    first = http.post(f"/subscriptions/{sid}/change/preview", json={"quantity": 2}, headers=key)
    assert first.status_code == 200 and "idempotent-replayed" not in first.headers
    # The key is still free: a change with another body is not refused as a reuse.
    changed = http.post(f"/subscriptions/{sid}/change", json={"quantity": 3}, headers=key)
    assert changed.status_code == 200, changed.text
    assert "idempotent-replayed" not in changed.headers


def test_each_preview_route_answers_405_to_another_method_naming_its_own(
    http: httpx.Client, subscriber_id: str,
) -> None:
    sid = subscription(http, subscriber_id, "basic-m")
    for method, path, allowed in (("GET", f"/subscriptions/{sid}/change/preview", "POST"),
                                  ("POST", f"/subscriptions/{sid}/upcoming-invoice", "GET")):
        answer = http.request(method, path)
        assert_problem(answer, 405, "method-not-allowed")
        assert answer.headers["allow"] == allowed
