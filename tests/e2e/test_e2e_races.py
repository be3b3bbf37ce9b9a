"""Concurrent writes to one record over real HTTP: optimistic concurrency keeps every
winner's event and refuses the others with 409, never a 500, and loses or doubles nothing."""

from __future__ import annotations

from typing import Any

import httpx
from support.http import api_events, api_plan, api_subscriber, api_subscription, concurrent_requests

WRITERS = 8


def _active_subscription(http: httpx.Client) -> dict[str, Any]:
    """An active subscription (no trial) started now, quantity 1, its subscriber with a card
    that pays: nothing falls due during the race, so a successful change appends exactly
    one SubscriptionChanged (with its proration invoice, and the charge of it if any)."""
    api_plan(http, "pro-m", name="Pro monthly", tier="pro", amount=4900, trial_days=0)
    return api_subscription(http, "pro-m")


def _check_changes(http: httpx.Client, sub: str, answers: list[httpx.Response],
                   quantities: list[int]) -> None:
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {200, 409}, [(a.status_code, a.text) for a in answers]
    winners = [q for q, a in zip(quantities, answers, strict=True) if a.status_code == 200]
    assert winners, "at least one change wins"
    for quantity, answer in zip(quantities, answers, strict=True):
        if answer.status_code == 200:
            assert answer.json()["quantity"] == quantity
        else:
            assert answer.headers["content-type"].startswith("application/problem+json")
    changed = [e for e in api_events(http, "SubscriptionChanged") if e["aggregate_id"] == sub]
    assert len(changed) == len(winners), "one event per 200, none for a 409"
    assert sorted(e["data"]["quantity"] for e in changed) == sorted(winners)
    versions = [e["aggregate_version"] for e in changed]
    assert len(set(versions)) == len(versions)
    last = max(changed, key=lambda e: e["aggregate_version"])
    assert http.get(f"/subscriptions/{sub}").json()["quantity"] == last["data"]["quantity"]
    events = [e for e in api_events(http) if e["aggregate_id"] == sub]
    all_versions = [e["aggregate_version"] for e in events]
    assert all_versions == list(range(1, len(all_versions) + 1)), "no gap, no duplicate"
    # The signup's invoice and one proration invoice per winner, each charged (once) when
    # something is left to pay; nothing else.
    assert {e["type"] for e in events} == {
        "SubscriptionStarted", "SubscriptionChanged", "InvoiceIssued", "ChargeSucceeded"
    }
    invoices = [e for e in events if e["type"] == "InvoiceIssued"]
    assert [i["data"]["reason"] for i in invoices] == ["subscription_create"] + ["proration"] * len(winners)
    charges = [e for e in events if e["type"] == "ChargeSucceeded"]
    assert [(c["data"]["invoice_id"], c["data"]["amount"]) for c in charges] == [
        (i["data"]["invoice_id"], i["data"]["amount_due"]) for i in invoices if i["data"]["amount_due"] > 0
    ]


def test_concurrent_changes_of_one_subscription_keep_the_winners_and_refuse_the_rest(
    http: httpx.Client, api_url: str,
) -> None:
    sub = _active_subscription(http)["subscription_id"]
    at = http.get(f"/subscriptions/{sub}").json()["started_at"]  # one instant for every writer
    quantities = [2 + i for i in range(WRITERS)]
    answers = concurrent_requests(api_url, [
        ("POST", f"/subscriptions/{sub}/change", {"json": {"quantity": q, "effective_at": at}})
        for q in quantities
    ])
    _check_changes(http, sub, answers, quantities)
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["type"] == "/problems/concurrent-modification", answer.text


def test_concurrent_changes_stamped_by_the_server_clock_lose_and_double_nothing(
    http: httpx.Client, api_url: str,
) -> None:
    sub = _active_subscription(http)["subscription_id"]
    answers: list[httpx.Response] = []
    quantities: list[int] = []
    for round_ in range(2):
        batch = [100 * (round_ + 1) + i for i in range(WRITERS)]
        answers += concurrent_requests(api_url, [
            ("POST", f"/subscriptions/{sub}/change", {"json": {"quantity": q}}) for q in batch
        ])
        quantities += batch
    _check_changes(http, sub, answers, quantities)


def test_concurrent_payment_method_updates_keep_the_winners_and_refuse_the_rest(
    http: httpx.Client, api_url: str,
) -> None:
    subscriber_id = api_subscriber(http)["subscriber_id"]
    at = http.get(f"/subscribers/{subscriber_id}").json()["registered_at"]
    tokens = [f"tok_visa_{i}" for i in range(WRITERS)]
    answers = concurrent_requests(api_url, [
        ("PUT", f"/subscribers/{subscriber_id}/payment-method",
         {"json": {"gateway": "sandbox", "token": token, "effective_at": at}})
        for token in tokens
    ])
    assert {a.status_code for a in answers} <= {200, 409}, [(a.status_code, a.text) for a in answers]
    winners = [t for t, a in zip(tokens, answers, strict=True) if a.status_code == 200]
    assert winners
    for token, answer in zip(tokens, answers, strict=True):
        if answer.status_code == 200:
            assert answer.json()["payment_method"] == {"gateway": "sandbox", "token": token}
        else:
            assert answer.json()["type"] == "/problems/concurrent-modification", answer.text
    sets = [e for e in api_events(http, "PaymentMethodSet") if e["aggregate_id"] == subscriber_id]
    assert sorted(e["data"]["token"] for e in sets) == sorted(winners)
    last = max(sets, key=lambda e: e["aggregate_version"])
    current = http.get(f"/subscribers/{subscriber_id}").json()["payment_method"]
    assert current == {"gateway": "sandbox", "token": last["data"]["token"]}
    versions = [e["aggregate_version"] for e in api_events(http) if e["aggregate_id"] == subscriber_id]
    assert versions == list(range(1, len(versions) + 1))
