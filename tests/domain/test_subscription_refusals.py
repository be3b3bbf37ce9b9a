"""The refusals common to every command on a subscription: canceled, out of order, charges due
(docs/business-rules.md).

The subscription and its commands come from ``support/subscriptions.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from support.factories import RECORDED_AT, event_names, pay_ok, utc
from support.subscriptions import (
    BASIC,
    FREE,
    PRO,
    advance,
    cancel,
    change,
    pause,
    resume,
    revoke,
    started,
)
from support.subscriptions import coupon_terms as _coupon

from subledger.domain.billing_schedule import ChargesDue
from subledger.domain.errors import DomainError, EffectiveAtOutOfOrder, SubscriptionAlreadyCanceled
from subledger.domain.subscription import Subscription

COMMANDS: dict[str, Callable[[Subscription, datetime], Any]] = {
    "change": lambda sub, at: change(sub, at, terms=PRO),
    "change_period_end": lambda sub, at: change(sub, at, terms=PRO, when="period_end"),
    "cancel_now": lambda sub, at: cancel(sub, at),
    "cancel_period_end": lambda sub, at: cancel(sub, at, when="period_end"),
    "revoke": revoke,
    "pause": pause,
    "resume": resume,
    "apply_coupon": lambda sub, at: sub.apply_coupon(_coupon(), effective_at=at, recorded_at=RECORDED_AT),
}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_on_a_canceled_subscription_is_already_canceled(command: str) -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))
    cancel(sub, utc(2026, 2, 10))
    sub.collect_events()

    with pytest.raises(SubscriptionAlreadyCanceled) as info:
        COMMANDS[command](sub, utc(2026, 2, 20))

    assert info.value.code == "subscription-already-canceled"
    assert sub.collect_events() == []


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_earlier_than_the_last_event_is_out_of_order(command: str) -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))
    advance(sub, utc(2026, 3, 5))  # last event: the renewal of Feb 28

    with pytest.raises(EffectiveAtOutOfOrder) as info:
        COMMANDS[command](sub, utc(2026, 2, 27, 23, 59, 59))

    assert info.value.code == "effective-at-out-of-order"
    assert sub.collect_events() == []


@pytest.mark.parametrize(
    ("command", "recorded"),
    [
        ("change", ["SubscriptionChanged", "InvoiceIssued"]),
        ("cancel_now", ["SubscriptionCanceled"]),
        ("pause", ["SubscriptionPaused", "InvoiceIssued"]),  # the whole period credited
    ],
)
def test_a_command_at_the_same_instant_as_the_last_event_is_in_order(
    command: str, recorded: list[str]
) -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))  # last event: the signup's charge, at Jan 31

    COMMANDS[command](sub, utc(2026, 1, 31))

    events = sub.collect_events()
    assert event_names(events) == recorded
    assert {e.effective_at for e in events} == {utc(2026, 1, 31)}


def test_a_command_after_a_due_renewal_catches_up_first_and_is_in_order() -> None:
    # A free plan: the renewal's invoice is of 0, so no charge falls due and the command
    # performs the whole catch-up itself.
    sub = started(FREE, at=utc(2026, 1, 31))

    pause(sub, utc(2026, 3, 5))

    events = sub.collect_events()
    assert event_names(events) == ["SubscriptionRenewed", "InvoiceIssued", "SubscriptionPaused"]
    assert [e.effective_at for e in events] == [utc(2026, 2, 28), utc(2026, 2, 28), utc(2026, 3, 5)]
    assert events[1].amount_due == 0


def test_a_command_meeting_a_due_charge_it_was_not_given_is_charges_due() -> None:
    # The domain performs no I/O: the application takes the charges due to the gateway
    # (advance_to with a payer) before every command.
    sub = started(BASIC, at=utc(2026, 1, 31))

    with pytest.raises(ChargesDue):
        pause(sub, utc(2026, 3, 5))

    sub = started(BASIC, at=utc(2026, 1, 31))
    sub.advance_to(utc(2026, 3, 5), recorded_at=RECORDED_AT, pay=pay_ok)
    pause(sub, utc(2026, 3, 5))
    assert event_names(sub.collect_events()) == [
        "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded", "SubscriptionPaused",
        "InvoiceIssued",
    ]


def test_refusals_are_domain_errors_with_their_code() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))

    with pytest.raises(DomainError) as info:
        revoke(sub, utc(2026, 2, 1))

    assert info.value.code == type(info.value).code == "no-cancellation-scheduled"
    assert sub.collect_events() == []
