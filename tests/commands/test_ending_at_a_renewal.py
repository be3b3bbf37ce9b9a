"""A cancellation or a pause effective exactly when a period ends: the period ending at that
instant is the last one served, so no new period is invoiced or charged first (as a
cancellation scheduled for that instant would have it)."""

from __future__ import annotations

import pytest
from support.factories import utc
from support.ledger import add_plan, events_of, invoices_of, paying_subscriber, timeline

from subledger.commands.billing import run_billing
from subledger.domain.errors import SubscriptionNotPausable


@pytest.fixture
def catalog(ledger):  # type: ignore[no-untyped-def]
    """basic 10.00/month, premium 30.00/month, trial 20.00/month with a 14-day trial."""
    add_plan(ledger, "basic", amount=1000)
    add_plan(ledger, "premium", amount=3000)
    add_plan(ledger, "trial", amount=2000, trial_days=14)
    return ledger


def test_a_cancellation_now_at_the_renewal_instant_invoices_no_new_period(catalog) -> None:
    ledger = catalog
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=utc(2026, 4, 1))

    canceled = ledger.subscriptions.cancel(sub.id, when="now", effective_at=utc(2026, 5, 1))

    assert canceled.status == "canceled"
    assert timeline(ledger, sub.id)[-1] == ("SubscriptionCanceled", "2026-05-01T00:00:00Z")
    assert events_of(ledger, sub.id, "SubscriptionRenewed") == []
    assert len(invoices_of(ledger, sub.id)) == 1
    assert len(events_of(ledger, sub.id, "ChargeSucceeded")) == 1


def test_a_cancellation_at_period_end_asked_at_the_periods_end_ends_it_then(catalog) -> None:
    ledger = catalog
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=utc(2026, 4, 1))

    canceled = ledger.subscriptions.cancel(sub.id, when="period_end", effective_at=utc(2026, 5, 1))

    assert (canceled.status, canceled.canceled_at) == ("canceled", utc(2026, 5, 1))
    assert len(invoices_of(ledger, sub.id)) == 1


def test_a_cancellation_now_at_the_trials_end_converts_nothing_and_invoices_nothing(catalog) -> None:
    ledger = catalog
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="trial", effective_at=utc(2026, 3, 1))

    ledger.subscriptions.cancel(sub.id, effective_at=utc(2026, 3, 15))

    assert events_of(ledger, sub.id, "TrialEnded") == []
    assert invoices_of(ledger, sub.id) == []
    assert ledger.subscriptions.get(sub.id).status == "canceled"


def test_a_pause_at_the_renewal_instant_invoices_no_new_period(catalog) -> None:
    ledger = catalog
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=utc(2026, 4, 1))

    paused = ledger.subscriptions.pause(sub.id, effective_at=utc(2026, 5, 1))

    assert (paused.status, paused.paused_at) == ("paused", utc(2026, 5, 1))
    assert events_of(ledger, sub.id, "SubscriptionRenewed") == []
    assert len(invoices_of(ledger, sub.id)) == 1
    run_billing(ledger, utc(2026, 6, 1))
    ledger.subscriptions.resume(sub.id, effective_at=utc(2026, 6, 10))
    assert [i["data"]["reason"] for i in invoices_of(ledger, sub.id)] == [
        "subscription_create", "resume"]


def test_a_pause_at_the_renewal_instant_keeps_a_scheduled_change_for_the_resume(catalog) -> None:
    ledger = catalog
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=utc(2026, 4, 1))
    ledger.subscriptions.change(sub.id, plan_id="premium", when="period_end",
                                effective_at=utc(2026, 4, 10))

    ledger.subscriptions.pause(sub.id, effective_at=utc(2026, 5, 1))
    ledger.subscriptions.resume(sub.id, effective_at=utc(2026, 5, 20))

    resumed = invoices_of(ledger, sub.id)[-1]
    assert (resumed["data"]["reason"], resumed["data"]["total"]) == ("resume", 3000)
    assert len(invoices_of(ledger, sub.id)) == 2


def test_a_cancellation_now_just_after_the_renewal_instant_still_follows_the_renewal(catalog) -> None:
    ledger = catalog
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=utc(2026, 4, 1))

    ledger.subscriptions.cancel(sub.id, effective_at=utc(2026, 5, 1, 0, 0, 1))

    assert len(events_of(ledger, sub.id, "SubscriptionRenewed")) == 1
    assert len(invoices_of(ledger, sub.id)) == 2


def test_a_pause_at_the_trials_end_is_refused_and_invoices_nothing(catalog) -> None:
    ledger = catalog
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="trial", effective_at=utc(2026, 3, 1))

    with pytest.raises(SubscriptionNotPausable):
        ledger.subscriptions.pause(sub.id, effective_at=utc(2026, 3, 15))

    assert invoices_of(ledger, sub.id) == []
