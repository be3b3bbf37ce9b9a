"""Optimistic concurrency: of two writers that loaded the same version, the second save fails
with ConcurrentModification and nothing of it is kept; no update is ever lost."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from typing import Any

import pytest
from support.factories import utc
from support.ledger import CARD, add_plan, add_subscriber, loads_stale, log_envelopes

from subledger.domain.errors import ConcurrentModification

JAN_31 = utc(2026, 1, 31)
THREADS = 8


def started(ledger) -> Any:
    """Signed up on Jan 31 (SubscriptionStarted, InvoiceIssued, ChargeSucceeded)."""
    add_plan(ledger)
    ada = add_subscriber(ledger, token=CARD)
    return ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)


def test_the_second_of_two_ledgers_saving_the_same_version_fails_and_appends_nothing(ledger, other_ledger) -> None:
    sub = started(ledger)
    stale = other_ledger.subscriptions.get(sub.id)  # loaded before the first writer saves
    ledger.subscriptions.change(sub.id, quantity=2, effective_at=utc(2026, 2, 10))
    position = ledger.event_log.max_position()

    with loads_stale(other_ledger, stale), pytest.raises(ConcurrentModification):
        other_ledger.subscriptions.change(sub.id, quantity=3, effective_at=utc(2026, 2, 11))

    assert ledger.event_log.max_position() == position
    loaded = other_ledger.subscriptions.get(sub.id)
    # Signup (3 events) and the first writer's change with its invoice and charge (3).
    assert (loaded.quantity, loaded.version) == (2, 6)
    # Reloaded, the same command goes through.
    assert other_ledger.subscriptions.change(sub.id, quantity=3, effective_at=utc(2026, 2, 11)).quantity == 3


def test_a_stale_writer_whose_command_performs_due_events_keeps_none_of_them(ledger, other_ledger) -> None:
    sub = started(ledger)
    stale = other_ledger.subscriptions.get(sub.id)
    ledger.subscriptions.cancel(sub.id, when="period_end", effective_at=utc(2026, 2, 10))

    with loads_stale(other_ledger, stale), pytest.raises(ConcurrentModification):
        other_ledger.subscriptions.change(sub.id, quantity=3, effective_at=utc(2026, 4, 1))

    assert [e["type"] for e in log_envelopes(ledger, sub.id)] == [
        "SubscriptionStarted", "InvoiceIssued", "ChargeSucceeded", "CancellationScheduled"
    ]


def _change_from_threads(ledger, sub_id, *, synchronised: bool) -> tuple[int, int, list[Exception]]:
    """THREADS threads each change the quantity (to 2..THREADS+1) once."""
    if synchronised:
        # Every thread loads the subscription before any of them saves.
        barrier = threading.Barrier(THREADS, timeout=30)
        original = ledger.repository.get

        waited = threading.local()

        def get_then_wait(aggregate_id, *args, **kwargs):
            aggregate = original(aggregate_id, *args, **kwargs)
            if not getattr(waited, "done", False):  # only each command's first load
                waited.done = True
                barrier.wait()
            return aggregate

        ledger.repository.get = get_then_wait
    start = threading.Barrier(THREADS, timeout=30)

    def attempt(i: int) -> str:
        start.wait()
        try:
            ledger.subscriptions.change(sub_id, quantity=i + 2, effective_at=utc(2026, 2, 10))
        except ConcurrentModification:
            return "conflict"
        return "ok"

    try:
        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(attempt, i) for i in range(THREADS)]
            outcomes, errors = [], []
            for future in futures:
                try:
                    outcomes.append(future.result(timeout=60))
                except Exception as error:  # noqa: BLE001 - reported by the assertion
                    errors.append(error)
    finally:
        if synchronised:
            del ledger.repository.get
    return outcomes.count("ok"), outcomes.count("conflict"), errors


@pytest.mark.parametrize("synchronised", [True, False], ids=["all-load-first", "free-running"])
def test_concurrent_changes_from_threads_lose_no_update(ledger, synchronised: bool) -> None:
    sub = started(ledger)

    successes, conflicts, errors = _change_from_threads(ledger, sub.id, synchronised=synchronised)

    assert errors == []
    assert successes + conflicts == THREADS
    assert successes >= 1
    if synchronised:
        assert (successes, conflicts) == (1, THREADS - 1)
    changes = log_envelopes(ledger, sub.id, types=("SubscriptionChanged",))
    assert len(changes) == successes
    # After the signup, each saved change is followed by its proration invoice, and that
    # invoice by its charge when something is left to pay (a decrease adds to the credit
    # balance instead).
    events = log_envelopes(ledger, sub.id)
    assert [e["type"] for e in events[:3]] == ["SubscriptionStarted", "InvoiceIssued", "ChargeSucceeded"]
    rest = events[3:]
    while rest:
        change, invoice, *rest = rest
        assert (change["type"], invoice["type"], invoice["data"]["reason"]) == (
            "SubscriptionChanged", "InvoiceIssued", "proration"
        )
        if invoice["data"]["amount_due"] > 0:
            charge, *rest = rest
            assert charge["type"] == "ChargeSucceeded"
            assert charge["data"]["invoice_id"] == invoice["data"]["invoice_id"]
            assert charge["data"]["amount"] == invoice["data"]["amount_due"]
    loaded = ledger.subscriptions.get(sub.id)
    assert loaded.version == len(events)
    assert loaded.quantity == changes[-1]["data"]["quantity"]
    # Each saved change starts from the state the previous one left: none was lost.
    versions = [e["aggregate_version"] for e in events]
    assert versions == list(range(1, len(events) + 1))
    for before, after in pairwise(changes):
        assert after["data"]["previous_quantity"] == before["data"]["quantity"]
