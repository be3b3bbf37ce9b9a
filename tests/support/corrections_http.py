"""Subscriptions made over live HTTP for the corrections' tests: a plan of 30.00 a month, a
subscriber by the sandbox token they pay with, and their events. A test module takes the
fixtures in by name."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from support.http import api_events, api_plan, api_subscriber, api_subscription

START = "2026-03-01T00:00:00Z"
LATER = "2026-03-02T12:00:00Z"


@pytest.fixture
def plan(http: httpx.Client) -> str:
    api_plan(http, "team-m", amount=3000, trial_days=0)
    return "team-m"


def subscribe(http: httpx.Client, plan: str, token: str, **body: Any) -> dict[str, Any]:
    subscriber = api_subscriber(http, f"{token}@example.com", token=token)
    return api_subscription(http, plan, subscriber_id=subscriber["subscriber_id"],
                            effective_at=START, **body)


def events_of(http: httpx.Client, subscription_id: str, *types: str) -> list[dict[str, Any]]:
    return [e for e in api_events(http, *types) if e["aggregate_id"] == subscription_id]


def first_invoice(http: httpx.Client, subscription_id: str) -> str:
    return str(events_of(http, subscription_id, "InvoiceIssued")[0]["data"]["invoice_id"])


@pytest.fixture
def declined(http: httpx.Client, plan: str) -> dict[str, Any]:
    """Past due: the first charge was declined (tok_chargeDeclined)."""
    sub = subscribe(http, plan, "tok_chargeDeclined")
    assert sub["status"] == "past_due"
    return sub


@pytest.fixture
def paid(http: httpx.Client, plan: str) -> dict[str, Any]:
    return subscribe(http, plan, "tok_visa")
