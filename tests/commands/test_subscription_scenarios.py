"""A subscription's life through the ledger's commands, backdated: every command first performs
what is due up to its effective_at (trial end, renewals, scheduled changes, each with its
invoice and the charge of it), then itself. Subscribers pay with the sandbox card CARD."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from support.factories import utc
from support.ledger import CARD, add_coupon, add_plan, add_subscriber, log_envelopes, log_types

from subledger.domain.errors import InvalidInput, SubscriptionAlreadyCanceled
from subledger.domain.time import isoformat

JAN_31 = utc(2026, 1, 31)


def of_type(envelopes: list[dict], name: str) -> list[dict]:
    return [e for e in envelopes if e["type"] == name]


def periods(envelopes: list[dict]) -> list[tuple[str, str, str]]:
    """(effective_at, current_period_start, current_period_end) of each envelope."""
    return [
        (e["effective_at"], e["data"]["current_period_start"], e["data"]["current_period_end"])
        for e in envelopes
    ]


def test_first_command_after_the_trial_end_records_the_trial_end_first(ledger) -> None:
    add_plan(ledger, "pro", amount=2000, trial_days=14)
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="pro", effective_at=JAN_31)
    assert sub.status == "trialing"
    assert sub.trial_end == utc(2026, 2, 14)

    ledger.subscriptions.change(sub.id, quantity=2, effective_at=utc(2026, 2, 20))

    events = log_envelopes(ledger, sub.id)
    assert [e["type"] for e in events] == [
        "SubscriptionStarted", "TrialEnded", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionChanged", "InvoiceIssued", "ChargeSucceeded",
    ]
    trial_ended, changed = events[1], events[4]
    assert [e["effective_at"] for e in events[1:4]] == ["2026-02-14T00:00:00Z"] * 3
    assert [e["effective_at"] for e in events[4:]] == ["2026-02-20T00:00:00Z"] * 3
    assert [e["data"]["reason"] for e in of_type(events, "InvoiceIssued")] == ["trial_end", "proration"]
    assert trial_ended["effective_at"] == "2026-02-14T00:00:00Z"
    assert trial_ended["data"]["billing_anchor"] == "2026-02-14T00:00:00Z"
    assert changed["effective_at"] == "2026-02-20T00:00:00Z"
    loaded = ledger.subscriptions.get(sub.id)
    assert loaded.status == "active"
    assert loaded.quantity == 2
    assert loaded.billing_anchor == utc(2026, 2, 14)
    assert (loaded.current_period_start, loaded.current_period_end) == (utc(2026, 2, 14), utc(2026, 3, 14))


def test_a_later_command_performs_the_renewals_from_a_jan_31_anchor_clamped_to_month_ends(ledger) -> None:
    add_plan(ledger)
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)
    assert (sub.current_period_start, sub.current_period_end) == (JAN_31, utc(2026, 2, 28))

    ledger.subscriptions.change(sub.id, quantity=3, effective_at=utc(2026, 5, 1))

    assert log_types(ledger, sub.id) == [
        "SubscriptionStarted", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionChanged", "InvoiceIssued", "ChargeSucceeded",
    ]
    renewals = of_type(log_envelopes(ledger, sub.id), "SubscriptionRenewed")
    assert periods(renewals) == [
        ("2026-02-28T00:00:00Z", "2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z"),
        ("2026-03-31T00:00:00Z", "2026-03-31T00:00:00Z", "2026-04-30T00:00:00Z"),
        ("2026-04-30T00:00:00Z", "2026-04-30T00:00:00Z", "2026-05-31T00:00:00Z"),
    ]
    assert [e["data"]["period_number"] for e in renewals] == [1, 2, 3]
    assert {e["data"]["billing_anchor"] for e in renewals} == {"2026-01-31T00:00:00Z"}
    loaded = ledger.subscriptions.get(sub.id)
    assert loaded.billing_anchor == JAN_31
    assert (loaded.current_period_start, loaded.current_period_end) == (utc(2026, 4, 30), utc(2026, 5, 31))


def test_a_renewal_at_exactly_the_command_instant_is_performed_before_the_command(ledger) -> None:
    add_plan(ledger)
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)

    ledger.subscriptions.change(sub.id, quantity=2, effective_at=utc(2026, 2, 28))

    events = log_envelopes(ledger, sub.id)
    assert [e["type"] for e in events] == [
        "SubscriptionStarted", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionChanged", "InvoiceIssued", "ChargeSucceeded",
    ]
    assert [e["effective_at"] for e in events[3:]] == ["2026-02-28T00:00:00Z"] * 6
    assert events[6]["data"]["current_period_start"] == "2026-02-28T00:00:00Z"


def test_a_plan_change_now_keeps_the_billing_anchor(ledger) -> None:
    add_plan(ledger)
    add_plan(ledger, "premium", amount=3000)
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)

    changed = ledger.subscriptions.change(sub.id, plan_id="premium", effective_at=utc(2026, 2, 10))
    assert changed.plan_id == "premium"
    assert changed.amount == 3000
    assert changed.billing_anchor == JAN_31
    assert (changed.current_period_start, changed.current_period_end) == (JAN_31, utc(2026, 2, 28))

    ledger.subscriptions.change(sub.id, quantity=2, effective_at=utc(2026, 3, 5))
    assert log_types(ledger, sub.id) == [
        "SubscriptionStarted", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionChanged", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionChanged", "InvoiceIssued", "ChargeSucceeded",
    ]
    renewal = log_envelopes(ledger, sub.id)[6]
    assert renewal["type"] == "SubscriptionRenewed"
    assert periods([renewal]) == [
        ("2026-02-28T00:00:00Z", "2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z")
    ]
    change_now = log_envelopes(ledger, sub.id)[3]
    assert change_now["data"]["timing"] == "now"
    assert change_now["data"]["previous_plan_id"] == "basic"


def test_a_change_scheduled_for_period_end_applies_at_the_renewal(ledger) -> None:
    add_plan(ledger)
    add_plan(ledger, "premium", amount=3000)
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)

    scheduled = ledger.subscriptions.change(
        sub.id, plan_id="premium", when="period_end", effective_at=utc(2026, 2, 10)
    )
    assert scheduled.plan_id == "basic"  # nothing changes before the renewal
    assert scheduled.scheduled_change["at"] == utc(2026, 2, 28)

    paused = ledger.subscriptions.pause(sub.id, effective_at=utc(2026, 3, 5))

    events = log_envelopes(ledger, sub.id)
    assert [e["type"] for e in events] == [
        "SubscriptionStarted", "InvoiceIssued", "ChargeSucceeded", "ChangeScheduled",
        "SubscriptionChanged", "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionPaused", "InvoiceIssued",
    ]
    assert events[3]["data"]["at"] == "2026-02-28T00:00:00Z"
    change = events[4]
    assert change["effective_at"] == "2026-02-28T00:00:00Z"
    assert change["data"]["timing"] == "period_end"
    assert change["data"]["plan_id"] == "premium"
    assert change["data"]["previous_plan_id"] == "basic"
    assert [e["effective_at"] for e in events[5:8]] == ["2026-02-28T00:00:00Z"] * 3
    # The renewal is invoiced and charged on the new terms.
    assert (events[6]["data"]["total"], events[7]["data"]["amount"]) == (3000, 3000)
    assert paused.plan_id == "premium"
    assert paused.amount == 3000
    assert paused.scheduled_change is None
    assert paused.billing_anchor == JAN_31


def test_a_cancellation_at_period_end_makes_a_later_command_find_the_subscription_canceled(ledger) -> None:
    add_plan(ledger)
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)
    scheduled = ledger.subscriptions.cancel(sub.id, when="period_end", effective_at=utc(2026, 2, 10))
    assert scheduled.status == "active"
    assert scheduled.cancel_at == utc(2026, 2, 28)
    position = ledger.event_log.max_position()

    with pytest.raises(SubscriptionAlreadyCanceled) as refused:
        ledger.subscriptions.change(sub.id, quantity=2, effective_at=utc(2026, 3, 5))

    assert "2026-02-28T00:00:00Z" in str(refused.value)
    # The refused command's due events (the cancellation) are discarded with it.
    assert ledger.event_log.max_position() == position
    assert log_types(ledger, sub.id) == [
        "SubscriptionStarted", "InvoiceIssued", "ChargeSucceeded", "CancellationScheduled"
    ]
    assert ledger.subscriptions.get(sub.id).cancel_at == utc(2026, 2, 28)


def test_a_command_before_the_scheduled_cancellation_is_still_accepted(ledger) -> None:
    add_plan(ledger)
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)
    ledger.subscriptions.cancel(sub.id, when="period_end", effective_at=utc(2026, 2, 10))

    revoked = ledger.subscriptions.revoke_cancellation(sub.id, effective_at=utc(2026, 2, 27))
    renewed = ledger.subscriptions.change(sub.id, quantity=2, effective_at=utc(2026, 3, 5))

    assert revoked.cancel_at is None
    assert renewed.status == "active"
    assert log_types(ledger, sub.id) == [
        "SubscriptionStarted", "InvoiceIssued", "ChargeSucceeded",
        "CancellationScheduled", "CancellationRevoked",
        "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionChanged", "InvoiceIssued", "ChargeSucceeded",
    ]


def test_resuming_a_paused_subscription_starts_a_new_anchor(ledger) -> None:
    add_plan(ledger)
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)
    ledger.subscriptions.pause(sub.id, effective_at=utc(2026, 2, 10))

    resumed = ledger.subscriptions.resume(sub.id, effective_at=utc(2026, 3, 15))

    # Nothing renews while paused (Feb 28 passed without a renewal); the pause credits the
    # unused part of its period, and the resume invoices, less that credit.
    assert log_types(ledger, sub.id) == [
        "SubscriptionStarted", "InvoiceIssued", "ChargeSucceeded", "SubscriptionPaused",
        "InvoiceIssued", "SubscriptionResumed", "InvoiceIssued", "ChargeSucceeded",
    ]
    assert resumed.status == "active"
    assert resumed.billing_anchor == utc(2026, 3, 15)
    assert (resumed.current_period_start, resumed.current_period_end) == (utc(2026, 3, 15), utc(2026, 4, 15))

    ledger.subscriptions.change(sub.id, quantity=2, effective_at=utc(2026, 4, 20))
    renewal = log_envelopes(ledger, sub.id)[8]
    assert renewal["type"] == "SubscriptionRenewed"
    assert periods([renewal]) == [
        ("2026-04-15T00:00:00Z", "2026-04-15T00:00:00Z", "2026-05-15T00:00:00Z")
    ]


def test_a_coupon_given_at_start_is_recorded_right_after_the_subscription_started(ledger) -> None:
    add_plan(ledger)
    add_coupon(ledger, "twenty", percent_off=20, duration="repeating", duration_in_months=3)
    ada = add_subscriber(ledger, token=CARD)

    sub = ledger.subscriptions.start(ada.id, plan_id="basic", coupon="twenty", effective_at=JAN_31)

    events = log_envelopes(ledger, sub.id)
    assert [e["type"] for e in events] == [
        "SubscriptionStarted", "CouponApplied", "InvoiceIssued", "ChargeSucceeded"
    ]
    started, applied, invoiced, _ = events
    assert applied["position"] == started["position"] + 1
    # Applied before the first invoice, which it discounts: 10.00 - 20 %.
    assert (invoiced["data"]["total"], invoiced["data"]["amount_due"]) == (800, 800)
    assert applied["effective_at"] == started["effective_at"] == isoformat(JAN_31)
    assert applied["data"]["coupon_id"] == "twenty"
    assert applied["data"]["ends_at"] == "2026-04-30T00:00:00Z"
    assert ledger.subscriptions.get(sub.id).coupon["coupon_id"] == "twenty"


def test_a_plan_change_never_starts_a_trial(ledger) -> None:
    add_plan(ledger)
    add_plan(ledger, "pro", amount=2000, trial_days=14)
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)

    changed = ledger.subscriptions.change(sub.id, plan_id="pro", effective_at=utc(2026, 2, 10))

    assert changed.status == "active"
    assert changed.trial_end is None


def test_a_cancellation_at_a_given_time_ends_the_subscription_then(ledger) -> None:
    add_plan(ledger)
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)
    ledger.subscriptions.cancel(sub.id, when="at", at=utc(2026, 3, 10), effective_at=utc(2026, 2, 1))

    with pytest.raises(SubscriptionAlreadyCanceled):
        ledger.subscriptions.change(sub.id, quantity=2, effective_at=utc(2026, 3, 10))
    kept = ledger.subscriptions.change(sub.id, quantity=2, effective_at=utc(2026, 3, 9))

    assert kept.cancel_at == utc(2026, 3, 10)
    assert log_types(ledger, sub.id) == [
        "SubscriptionStarted", "InvoiceIssued", "ChargeSucceeded", "CancellationScheduled",
        "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionChanged", "InvoiceIssued", "ChargeSucceeded",
    ]


def test_a_cancellation_time_given_with_an_offset_is_kept_in_utc(ledger) -> None:
    add_plan(ledger)
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)
    plus_two = timezone(timedelta(hours=2))

    ledger.subscriptions.cancel(
        sub.id, when="at", at=datetime(2026, 3, 10, tzinfo=plus_two), effective_at=utc(2026, 2, 1)
    )

    cancel_at = ledger.subscriptions.get(sub.id).cancel_at
    assert cancel_at == utc(2026, 3, 9, 22)
    assert cancel_at.utcoffset() == timedelta(0)


def test_a_cancellation_time_without_an_offset_is_invalid_input(ledger) -> None:
    add_plan(ledger)
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)

    with pytest.raises(InvalidInput):
        ledger.subscriptions.cancel(sub.id, when="at", at=datetime(2026, 3, 10), effective_at=utc(2026, 2, 1))
