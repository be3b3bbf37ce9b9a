"""Selecting subscriptions from the ``subscriptions`` read model: each filter selects exactly
the subscriptions whose state meets it, in the order they started, a page at a time."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from subledger.commands.demo import generate
from subledger.contract.bodies import subscription_body
from subledger.projections.subscription_list import SubscriptionFilter, subscription_page


@pytest.fixture
def book(ledger: Any, projector: Any) -> list[dict[str, Any]]:
    """A demo book, projected; every subscription's body, in the order they started."""
    generate(ledger, subscribers=20, months=4, seed=5)
    projector.run_once()
    started = ledger.event_log.read(0, 100_000, ["SubscriptionStarted"]).items
    return [subscription_body(ledger.subscriptions.get(UUID(e["aggregate_id"]))) for e in started]


def _all_pages(projector: Any, wanted: SubscriptionFilter, limit: int) -> list[str]:
    ids: list[str] = []
    cursor = 0
    for _ in range(1000):
        page, next_cursor = subscription_page(projector.store, wanted, cursor, limit)
        assert len(page) <= limit
        ids += page
        if next_cursor is None:
            return ids
        cursor = next_cursor
    raise AssertionError("the cursor moves forward")


def _filters(book: list[dict[str, Any]]) -> list[SubscriptionFilter]:
    first = book[0]
    return [
        SubscriptionFilter(),
        *(SubscriptionFilter(status=s) for s in ("trialing", "active", "past_due", "paused", "canceled")),
        SubscriptionFilter(plan_id=first["plan_id"]),
        SubscriptionFilter(currency="USD"),
        SubscriptionFilter(currency="EUR"),
        SubscriptionFilter(subscriber_ids=[first["subscriber_id"]]),
        SubscriptionFilter(subscriber_ids=[]),
        SubscriptionFilter(status="active", plan_id=first["plan_id"], currency="USD"),
    ]


def test_each_filter_selects_the_subscriptions_that_meet_it_in_start_order(
    projector: Any, book: list[dict[str, Any]],
) -> None:
    assert {b["status"] for b in book} >= {"active", "canceled"}, "the book has variety"
    for wanted in _filters(book):
        expected = [b["subscription_id"] for b in book if wanted.matches(b)]
        assert _all_pages(projector, wanted, 1000) == expected, wanted


@pytest.mark.parametrize("limit", [1, 3, 7])
def test_pages_cover_every_subscription_once_whatever_their_size(
    projector: Any, book: list[dict[str, Any]], limit: int,
) -> None:
    ids = _all_pages(projector, SubscriptionFilter(), limit)

    assert ids == [b["subscription_id"] for b in book]


def test_a_page_that_ends_the_list_says_so(projector: Any, book: list[dict[str, Any]]) -> None:
    everything, end = subscription_page(projector.store, SubscriptionFilter(), 0, len(book))

    assert (len(everything), end) == (len(book), None)


V1_TABLE = (
    "CREATE TABLE view_subscriptions (subscription_id TEXT PRIMARY KEY, subscriber_id TEXT,"
    " status TEXT, plan_id TEXT, tier TEXT, currency TEXT, interval TEXT,"
    " current_period_start TEXT, current_period_end TEXT, trial_end TEXT, cancel_at TEXT,"
    " canceled_at TEXT, cancel_reason TEXT, coupon_id TEXT, started_at TEXT, effective_at TEXT,"
    " plan_version INTEGER, amount BIGINT, quantity INTEGER, position BIGINT NOT NULL)")
"""The model's table as its stored form version 1 made it (no start position)."""


@pytest.mark.fresh_schema
def test_an_api_started_over_the_version_1_model_leaves_it_to_the_projector(
    settings: Any, ledger: Any,
) -> None:
    from fastapi.testclient import TestClient

    from subledger.bootstrap import build_api, build_projector
    from subledger.projections.store import ViewStore

    old = ViewStore(settings)
    with old.transaction() as tx:
        tx.execute(V1_TABLE)
        old.set_checkpoint(tx, "subscriptions", 0, 1)
    old.close()
    generate(ledger, subscribers=3, months=2, seed=2)

    client = TestClient(build_api(settings, ledger=ledger))
    runner = build_projector(settings, ledger)
    try:
        runner.run_once()
        listed = client.get("/subscriptions")
    finally:
        runner.close()
        runner.store.close()

    assert listed.status_code == 200, listed.text
    started = ledger.event_log.read(0, 1000, ["SubscriptionStarted"]).items
    assert [s["subscription_id"] for s in listed.json()["items"]] == [
        e["aggregate_id"] for e in started]
