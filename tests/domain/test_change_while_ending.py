"""A change while a cancellation is scheduled (docs/business-rules.md, Changes): a change
`now` that would bill a new whole period (another interval) is refused, since the
cancellation would cut that period short with nothing given back; a change within the period
goes on, and the subscription still ends when it was to end."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import pytest
from support.factories import RECORDED_AT, pay_ok, plan_terms, start_subscription, state, utc

from subledger.domain.errors import CancellationPending
from subledger.domain.lifecycle import CANCELED
from subledger.domain.subscription import Subscription

BASIC = plan_terms("basic", amount=1000)
PRO = plan_terms("pro", amount=3000)
ANNUAL = plan_terms("annual", amount=12000, interval="year")


def ending(when: str = "period_end", cancel_at: datetime | None = None) -> Subscription:
    """A monthly subscription from Jan 31, paid, whose cancellation was asked on Feb 1."""
    sub = start_subscription(BASIC, at=utc(2026, 1, 31), pay=pay_ok)
    sub.cancel(when=when, at=cancel_at, comment=None, effective_at=utc(2026, 2, 1),
               recorded_at=RECORDED_AT)
    sub.collect_events()
    return sub


def change(sub: Subscription, terms: Any, at: datetime) -> Any:
    return sub.change(terms=terms, quantity=None, when="now", effective_at=at,
                      recorded_at=RECORDED_AT)


@pytest.mark.parametrize(("when", "cancel_at"), [("period_end", None), ("at", utc(2026, 6, 1))])
def test_a_change_to_another_interval_is_refused_while_a_cancellation_is_scheduled(
        when: str, cancel_at: datetime | None) -> None:
    sub = ending(when, cancel_at)
    before = copy.deepcopy(state(sub))
    with pytest.raises(CancellationPending, match="revoke the cancellation first"):
        change(sub, ANNUAL, utc(2026, 2, 14))
    assert state(sub) == before
    assert sub.pending_events == []


def test_once_the_cancellation_is_revoked_the_interval_can_change() -> None:
    sub = ending()
    sub.revoke_cancellation(effective_at=utc(2026, 2, 14), recorded_at=RECORDED_AT)
    proration = change(sub, ANNUAL, utc(2026, 2, 14))
    assert proration.charge == 12000
    assert (sub.current_period_end, sub.cancel_at) == (utc(2027, 2, 14), None)


def test_a_change_within_the_period_goes_on_and_the_subscription_ends_when_it_was_to() -> None:
    sub = ending()
    proration = change(sub, PRO, utc(2026, 2, 14))
    assert proration.charge > 0
    assert sub.cancel_at == utc(2026, 2, 28)
    sub.advance_to(utc(2026, 3, 31), recorded_at=RECORDED_AT, pay=pay_ok)
    renewals = [e for e in sub.collect_events() if type(e).__name__ == "SubscriptionRenewed"]
    assert (sub.status, sub.canceled_at, renewals) == (CANCELED, utc(2026, 2, 28), [])


def paused_and_ending(cancel_at: datetime) -> Subscription:
    """A monthly subscription from Jan 1, paid, paused on Jan 15, to end at ``cancel_at``."""
    sub = start_subscription(BASIC, at=utc(2026, 1, 1), pay=pay_ok)
    sub.pause(effective_at=utc(2026, 1, 15), recorded_at=RECORDED_AT)
    sub.cancel(when="at", at=cancel_at, comment=None, effective_at=utc(2026, 1, 16),
               recorded_at=RECORDED_AT)
    sub.collect_events()
    return sub


def test_a_resume_that_would_bill_a_period_past_a_scheduled_cancellation_is_refused() -> None:
    sub = paused_and_ending(utc(2026, 2, 1))
    before = copy.deepcopy(state(sub))
    with pytest.raises(CancellationPending, match="revoke the cancellation first"):
        sub.resume(effective_at=utc(2026, 1, 20), recorded_at=RECORDED_AT)
    assert state(sub) == before
    assert sub.pending_events == []


def test_a_cancellation_scheduled_at_period_end_then_paused_blocks_the_resume_too() -> None:
    sub = start_subscription(BASIC, at=utc(2026, 1, 1), pay=pay_ok)
    sub.cancel(when="period_end", at=None, comment=None, effective_at=utc(2026, 1, 10),
               recorded_at=RECORDED_AT)
    sub.pause(effective_at=utc(2026, 1, 15), recorded_at=RECORDED_AT)
    with pytest.raises(CancellationPending):
        sub.resume(effective_at=utc(2026, 1, 20), recorded_at=RECORDED_AT)


def test_a_resume_whose_period_ends_by_the_scheduled_cancellation_goes_on() -> None:
    sub = paused_and_ending(utc(2026, 2, 20))
    sub.resume(effective_at=utc(2026, 1, 20), recorded_at=RECORDED_AT)
    sub.advance_to(utc(2026, 3, 31), recorded_at=RECORDED_AT, pay=pay_ok)
    invoices = [e for e in sub.collect_events() if type(e).__name__ == "InvoiceIssued"]
    assert [i.reason for i in invoices] == ["resume"]
    assert (sub.status, sub.canceled_at) == (CANCELED, utc(2026, 2, 20))
