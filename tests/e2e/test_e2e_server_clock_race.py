"""A write that the server stamps "now" but that reaches the store after a concurrent write
to the same subscription: the client sent no ``effective_at``, so losing that race is a
concurrent modification (retry), never a complaint about the client's ``effective_at``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from support.concurrency import HeldClock
from support.http import api_events, api_plan, api_subscription

from subledger.commands.ledger import Ledger


@pytest.fixture
def held_clock() -> HeldClock:
    return HeldClock()


@pytest.fixture
def ledger(ledger_on: Callable[..., Ledger], held_clock: HeldClock) -> Iterator[Ledger]:
    """The ledger under test (and so `api_url` and `http`) on the held clock."""
    yield ledger_on(clock=held_clock)
    held_clock.release()


def test_a_change_stamped_before_a_concurrent_change_was_saved_is_a_concurrent_modification(
    http: httpx.Client, api_url: str, held_clock: HeldClock,
) -> None:
    api_plan(http, "pro-m", trial_days=0)
    sub = api_subscription(http, "pro-m")["subscription_id"]
    held_clock.hold_next()
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(httpx.post, f"{api_url}/subscriptions/{sub}/change",
                           json={"quantity": 2}, timeout=60)
        assert held_clock.holding.wait(timeout=30), "the slow change read the clock"
        fast = http.post(f"/subscriptions/{sub}/change", json={"quantity": 3})
        held_clock.release()
        late = slow.result(timeout=60)
    assert fast.status_code == 200, fast.text
    assert late.status_code in (200, 409), late.text
    if late.status_code == 409:
        assert late.json()["type"] == "/problems/concurrent-modification", late.text
    events = [e for e in api_events(http) if e["aggregate_id"] == sub]
    effective = [e["effective_at"] for e in events]
    assert effective == sorted(effective)
    # The signup and the fast change (1 to 3), each invoiced and paid; the late change (3 to
    # 2), if kept, is invoiced as a credit, with nothing to charge.
    expected = [
        "SubscriptionStarted", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionChanged", "InvoiceIssued", "ChargeSucceeded",
    ]
    if late.status_code == 200:
        expected += ["SubscriptionChanged", "InvoiceIssued"]
    assert [e["type"] for e in events] == expected
