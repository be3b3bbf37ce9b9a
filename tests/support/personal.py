"""A book with personal data in every place the ledger keeps it, written over HTTP: two
subscribers, Ada (to be forgotten) and Bob (to be left alone), each with details changed, a
payment token set twice, a subscription billed and charged, a refund with a reason and a
cancellation with a comment, every write under an ``Idempotency-Key`` (so the stored answers
hold personal data too). Each subscriber's data are distinctive strings a test can search
the store's bytes and the streams for."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from .factories import utc

CIPHER_KEY = bytes(range(32))
CIPHER_KEY_B64 = base64.b64encode(CIPHER_KEY).decode()
OTHER_KEY = bytes(range(100, 132))

BOOK_CLOCK = utc(2026, 6, 1, 12)
"""The server clock while the book is written (its instants are all before it)."""
REPORTS = ["/reports/mrr?from=2026-01-01&to=2026-05-31&interval=month",
           "/reports/revenue?from=2026-01-01&to=2026-05-31&interval=month",
           "/reports/churn?from=2026-01-01&to=2026-05-31&interval=month",
           "/reports/mrr?from=2026-01-01&to=2026-05-31&interval=month&format=csv"]


@dataclass(frozen=True)
class Person:
    subscriber_id: str
    subscription_id: str
    data: tuple[str, ...]
    """Every personal datum written about them, each found nowhere else."""
    email: str


def _ok(response: Any) -> Any:
    assert response.status_code < 300, response.text
    return response.json()


def write_person(client: TestClient, tag: str, *, key: str) -> Person:
    """A subscriber whose every personal datum carries ``tag``; writes keyed by ``key``."""
    email, later = f"{tag}.first@example.com", f"{tag}.second@example.org"
    name, ref = f"{tag.capitalize()} Person", f"crm-{tag}-7731"
    token, comment, reason = f"tok_{tag}_unused_card", f"{tag} moves away", f"{tag} asked nicely"
    noted, adjusted = f"{tag} was double billed", f"{tag} goodwill after a call"

    def post(path: str, body: dict[str, Any], n: int, method: str = "POST") -> Any:
        headers = {"Idempotency-Key": f"{key}-{n}"}
        return _ok(client.request(method, path, json=body, headers=headers))

    subscriber = post("/subscribers", {"email": email, "name": name, "external_ref": ref,
                                       "effective_at": "2026-01-01T00:00:00Z"}, 1)
    sid = subscriber["subscriber_id"]
    post(f"/subscribers/{sid}/payment-method", {"gateway": "sandbox", "token": token,
                                                "effective_at": "2026-01-01T00:00:00Z"}, 2, "PUT")
    post(f"/subscribers/{sid}/payment-method", {"gateway": "sandbox", "token": "tok_visa",
                                                "effective_at": "2026-01-01T00:00:00Z"}, 3, "PUT")
    post(f"/subscribers/{sid}", {"email": later, "effective_at": "2026-01-02T00:00:00Z"}, 4, "PATCH")
    subscription = post(f"/subscribers/{sid}/subscriptions",
                        {"plan_id": "basic", "effective_at": "2026-01-03T00:00:00Z"}, 5)
    return Person(sid, subscription["subscription_id"],
                  (email, later, name, ref, token, comment, reason, noted, adjusted), later)


def finish_person(client: TestClient, person: Person, *, key: str) -> None:
    """Bill, refund with a reason, credit an invoice and adjust the balance with reasons,
    cancel with a comment (after the billing run)."""
    comment, reason = person.data[5], person.data[6]
    charges = [e["data"]["charge_id"] for e in _history(client, person.subscriber_id)
               if e["type"] == "ChargeSucceeded"]
    assert charges
    _ok(client.post(f"/charges/{charges[0]}/refunds", json={
        "amount": 100, "reason": reason, "effective_at": "2026-03-10T00:00:00Z"},
        headers={"Idempotency-Key": f"{key}-6"}))
    paid = [e["data"]["invoice_id"] for e in _history(client, person.subscriber_id)
            if e["type"] == "ChargeSucceeded"]
    _ok(client.post(f"/invoices/{paid[1]}/credit-notes", json={
        "settlement": "credit_balance", "lines": [{"index": 0, "amount": 100}],
        "reason": person.data[7], "effective_at": "2026-03-20T00:00:00Z"},
        headers={"Idempotency-Key": f"{key}-8"}))
    _ok(client.post(f"/subscribers/{person.subscriber_id}/balance", json={
        "amount": 50, "reason": person.data[8], "subscription_id": person.subscription_id,
        "effective_at": "2026-03-21T00:00:00Z"}, headers={"Idempotency-Key": f"{key}-9"}))
    _ok(client.post(f"/subscriptions/{person.subscription_id}/cancel", json={
        "when": "now", "reason": comment, "effective_at": "2026-04-15T00:00:00Z"},
        headers={"Idempotency-Key": f"{key}-7"}))


def _history(client: TestClient, subscriber_id: str) -> list[dict[str, Any]]:
    return _ok(client.get(f"/subscribers/{subscriber_id}/history?limit=1000"))["items"]  # type: ignore[no-any-return]


def personal_book(client: TestClient) -> tuple[Person, Person]:
    """(Ada, Bob), billed through April 2026."""
    _ok(client.post("/plans", json={"plan_id": "basic", "name": "Basic", "tier": "basic",
                                    "currency": "USD", "amount": 1000, "interval": "month",
                                    "effective_at": "2026-01-01T00:00:00Z"}))
    ada, bob = write_person(client, "adaxq", key="ada"), write_person(client, "bobzw", key="bob")
    _ok(client.post("/billing/run", json={"until": "2026-03-05T00:00:00Z"}))
    finish_person(client, ada, key="ada")
    finish_person(client, bob, key="bob")
    _ok(client.post("/billing/run", json={"until": "2026-05-31T00:00:00Z"}))
    return ada, bob


def history(client: TestClient, person: Person) -> list[dict[str, Any]]:
    return _history(client, person.subscriber_id)


def reports(client: TestClient) -> list[Any]:
    """Every report's answer: CSV as bytes, JSON without ``position`` (the log's head it
    was read at, which any new event moves)."""
    out: list[Any] = []
    for path in REPORTS:
        response = client.get(path)
        assert response.status_code == 200, response.text
        if "format=csv" in path:
            out.append(response.content)
        else:
            out.append({k: v for k, v in response.json().items() if k != "position"})
    return out
