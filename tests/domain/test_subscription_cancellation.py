"""A subscription's cancellation, now, at the period's end or at a time, and its revocation
(docs/business-rules.md).

The subscription and its commands come from ``support/subscriptions.py``.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from support.factories import event_names, plan_terms, utc
from support.subscriptions import BASIC, advance, cancel, pause, revoke, started

from subledger.domain.errors import (
    InvalidInput,
    InvalidSchedule,
    NoCancellationScheduled,
    SubscriptionAlreadyCanceled,
    SubscriptionPaused,
)


def test_cancel_now_ends_the_subscription_at_once() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))

    cancel(sub, utc(2026, 2, 10, 12), comment="too expensive")

    (event,) = sub.collect_events()
    assert type(event).__name__ == "SubscriptionCanceled"
    assert (event.effective_at, event.reason, event.comment) == (
        utc(2026, 2, 10, 12), "voluntary", "too expensive"
    )
    assert (sub.status, sub.canceled_at, sub.cancel_reason) == ("canceled", utc(2026, 2, 10, 12), "voluntary")
    assert sub.next_due() is None
    assert advance(sub, utc(2027, 1, 1)) == []


def test_cancel_at_period_end_is_scheduled_for_the_current_periods_end() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))

    cancel(sub, utc(2026, 2, 10), when="period_end")

    (event,) = sub.collect_events()
    assert type(event).__name__ == "CancellationScheduled"
    assert (event.at, event.reason) == (utc(2026, 2, 28), "voluntary")
    assert (sub.status, sub.cancel_at) == ("active", utc(2026, 2, 28))


def test_a_cancellation_at_period_end_takes_effect_at_the_period_end_instead_of_a_renewal() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))
    cancel(sub, utc(2026, 2, 10), when="period_end")
    sub.collect_events()

    events = advance(sub, utc(2026, 4, 1))

    assert event_names(events) == ["SubscriptionCanceled"]
    assert events[0].effective_at == utc(2026, 2, 28)
    assert (sub.status, sub.canceled_at, sub.cancel_at) == ("canceled", utc(2026, 2, 28), None)


def test_cancel_at_a_time_inside_the_period_ends_it_at_that_time() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))
    cancel(sub, utc(2026, 2, 1), when="at", cancel_at=utc(2026, 2, 15, 6))
    assert event_names(sub.collect_events()) == ["CancellationScheduled"]

    events = advance(sub, utc(2026, 3, 1))

    assert event_names(events) == ["SubscriptionCanceled"]
    assert events[0].effective_at == utc(2026, 2, 15, 6)


def test_cancel_at_a_later_time_lets_the_renewals_before_it_happen() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))
    cancel(sub, utc(2026, 2, 1), when="at", cancel_at=utc(2026, 4, 15))
    sub.collect_events()

    events = advance(sub, utc(2026, 5, 1))

    assert event_names(events) == [
        "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionCanceled",
    ]
    assert [e.effective_at for e in events] == [utc(2026, 2, 28)] * 3 + [utc(2026, 3, 31)] * 3 + [
        utc(2026, 4, 15)
    ]


def test_cancel_at_the_commands_own_instant_cancels_at_once() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))

    cancel(sub, utc(2026, 2, 10), when="at", cancel_at=utc(2026, 2, 10))

    assert event_names(sub.collect_events()) == ["SubscriptionCanceled"]
    assert sub.status == "canceled"


def test_cancel_at_a_time_before_the_commands_instant_is_an_invalid_schedule() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))

    with pytest.raises(InvalidSchedule) as info:
        cancel(sub, utc(2026, 2, 10), when="at", cancel_at=utc(2026, 2, 9))

    assert info.value.code == "invalid-schedule"


@pytest.mark.parametrize(
    ("when", "cancel_at"),
    [("at", None), ("now", utc(2026, 3, 1)), ("period_end", utc(2026, 3, 1)), ("later", None)],
)
def test_cancel_with_inconsistent_timing_is_invalid_input(when: str, cancel_at: datetime | None) -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))

    with pytest.raises(InvalidInput):
        cancel(sub, utc(2026, 2, 10), when=when, cancel_at=cancel_at)


def test_cancel_with_an_overlong_comment_is_invalid_input() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))

    with pytest.raises(InvalidInput):
        cancel(sub, utc(2026, 2, 10), comment="x" * 501)


def test_cancel_at_period_end_while_trialing_ends_at_the_trial_end_without_converting() -> None:
    sub = started(plan_terms(trial_days=14), at=utc(2026, 1, 1))

    cancel(sub, utc(2026, 1, 5), when="period_end")
    (scheduled,) = sub.collect_events()
    assert scheduled.at == utc(2026, 1, 15)

    events = advance(sub, utc(2026, 3, 1))

    assert event_names(events) == ["SubscriptionCanceled"]
    assert events[0].effective_at == utc(2026, 1, 15)
    assert sub.status == "canceled"
    assert sub.billing_anchor is None


def test_cancel_now_while_trialing_ends_it_at_once_without_converting() -> None:
    sub = started(plan_terms(trial_days=14), at=utc(2026, 1, 1))

    cancel(sub, utc(2026, 1, 5))

    assert event_names(sub.collect_events()) == ["SubscriptionCanceled"]
    assert advance(sub, utc(2026, 3, 1)) == []


def test_cancel_at_period_end_while_paused_is_refused() -> None:
    sub = started(BASIC, at=utc(2026, 1, 1))
    pause(sub, utc(2026, 1, 10))

    with pytest.raises(SubscriptionPaused):
        cancel(sub, utc(2026, 1, 20), when="period_end")


def test_cancel_now_while_paused_ends_it() -> None:
    sub = started(BASIC, at=utc(2026, 1, 1))
    pause(sub, utc(2026, 1, 10))

    cancel(sub, utc(2026, 1, 20))

    assert sub.status == "canceled"


# -- revoke ----------------------------------------------------------------------------------


def test_revoke_without_a_scheduled_cancellation_is_refused() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))

    with pytest.raises(NoCancellationScheduled) as info:
        revoke(sub, utc(2026, 2, 10))

    assert info.value.code == "no-cancellation-scheduled"


def test_after_a_revoked_cancellation_the_renewal_happens() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))
    cancel(sub, utc(2026, 2, 10), when="period_end")

    revoke(sub, utc(2026, 2, 20))

    revoked = sub.collect_events()[-1]
    assert type(revoked).__name__ == "CancellationRevoked"
    assert revoked.revoked_at == utc(2026, 2, 28)
    assert sub.cancel_at is None
    events = advance(sub, utc(2026, 3, 1))
    assert event_names(events) == ["SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded"]
    assert sub.status == "active"


def test_revoke_after_the_scheduled_cancellation_took_effect_is_already_canceled() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))
    cancel(sub, utc(2026, 2, 10), when="period_end")

    with pytest.raises(SubscriptionAlreadyCanceled):
        revoke(sub, utc(2026, 2, 28))
