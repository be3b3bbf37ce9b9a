"""A subscription paused and resumed (docs/business-rules.md).

The subscription and its commands come from ``support/subscriptions.py``.
"""

from __future__ import annotations

import pytest
from support.factories import RECORDED_AT, event_names, pay_declined, pay_ok, plan_terms, utc
from support.subscriptions import BASIC, PRO, advance, change, of_type, pause, resume, started

from subledger.domain.errors import SubscriptionNotPausable, SubscriptionNotPaused


def test_pause_while_trialing_is_refused() -> None:
    sub = started(plan_terms(trial_days=14), at=utc(2026, 1, 1))

    with pytest.raises(SubscriptionNotPausable) as info:
        pause(sub, utc(2026, 1, 5))

    assert info.value.code == "subscription-not-pausable"


def test_pause_of_a_paused_subscription_is_refused() -> None:
    sub = started(BASIC, at=utc(2026, 1, 1))
    pause(sub, utc(2026, 1, 5))

    with pytest.raises(SubscriptionNotPausable):
        pause(sub, utc(2026, 1, 6))


def test_pause_stops_renewals() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))

    pause(sub, utc(2026, 2, 10))

    # The pause's own invoice credits the unused part of the period; no renewal follows.
    assert event_names(sub.collect_events()) == ["SubscriptionPaused", "InvoiceIssued"]
    assert (sub.status, sub.paused_at) == ("paused", utc(2026, 2, 10))
    assert sub.next_due() is None
    assert advance(sub, utc(2027, 1, 1)) == []


def test_resume_starts_a_new_period_anchored_at_the_resume() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))
    pause(sub, utc(2026, 2, 10))
    sub.collect_events()

    resume(sub, utc(2026, 3, 15, 10))

    event, invoiced = sub.collect_events()
    assert type(event).__name__ == "SubscriptionResumed"
    assert type(invoiced).__name__ == "InvoiceIssued"
    assert (invoiced.effective_at, invoiced.reason, invoiced.total) == (utc(2026, 3, 15, 10), "resume", 1000)
    assert (sub.status, sub.paused_at, sub.period_number) == ("active", None, 0)
    assert sub.billing_anchor == utc(2026, 3, 15, 10)
    assert (sub.current_period_start, sub.current_period_end) == (utc(2026, 3, 15, 10), utc(2026, 4, 15, 10))
    events = advance(sub, utc(2026, 5, 1))
    assert event_names(events) == [
        "ChargeSucceeded", "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded"
    ]
    renewals = of_type(events, "SubscriptionRenewed")
    assert [(e.current_period_start, e.current_period_end) for e in renewals] == [
        (utc(2026, 4, 15, 10), utc(2026, 5, 15, 10))
    ]


def test_a_resume_while_an_invoice_is_in_dunning_is_past_due_until_it_is_paid() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))
    sub.advance_to(utc(2026, 2, 28), recorded_at=RECORDED_AT, pay=pay_declined)
    pause(sub, utc(2026, 3, 1))
    sub.collect_events()

    resume(sub, utc(2026, 3, 2))

    resumed = of_type(sub.collect_events(), "SubscriptionResumed")
    assert [e.status for e in resumed] == ["past_due"]
    assert sub.status == "past_due"
    sub.advance_to(utc(2026, 3, 3), recorded_at=RECORDED_AT, pay=pay_ok)
    assert "SubscriptionRecovered" in event_names(sub.collect_events())
    assert sub.status == "active"


def test_resume_of_a_subscription_that_is_not_paused_is_refused() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))

    with pytest.raises(SubscriptionNotPaused) as info:
        resume(sub, utc(2026, 2, 10))

    assert info.value.code == "subscription-not-paused"


def test_a_change_scheduled_before_a_pause_applies_at_the_resume() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))
    change(sub, utc(2026, 2, 5), terms=PRO, when="period_end")
    pause(sub, utc(2026, 2, 10))
    sub.collect_events()

    resume(sub, utc(2026, 4, 1))

    events = sub.collect_events()
    assert event_names(events) == ["SubscriptionChanged", "SubscriptionResumed", "InvoiceIssued"]
    assert (events[2].reason, events[2].total) == ("resume", 3000)
    assert (sub.plan_id, sub.amount, sub.scheduled_change) == ("pro", 3000, None)
    assert (sub.current_period_start, sub.current_period_end) == (utc(2026, 4, 1), utc(2026, 5, 1))
