"""The subscription lifecycle: trial, renewals, changes, cancellation, pause (docs/business-rules.md).

Every instant is passed in; `recorded_at` is a fixed server clock that does not matter here.
Charges falling due are paid (`pay_ok`) before each command, as the application does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from support.factories import (
    RECORDED_AT,
    SUBSCRIBER_ID,
    event_names,
    pay_declined,
    pay_ok,
    plan_terms,
    start_subscription,
    utc,
)

from subledger.domain.billing_schedule import ChargesDue
from subledger.domain.coupons import CouponTerms
from subledger.domain.errors import (
    CouponAlreadyRedeemed,
    CurrencyMismatch,
    DomainError,
    EffectiveAtOutOfOrder,
    EmptyChange,
    InvalidInput,
    InvalidSchedule,
    NoCancellationScheduled,
    QuantityOutOfBounds,
    SubscriptionAlreadyCanceled,
    SubscriptionNotPausable,
    SubscriptionNotPaused,
    SubscriptionPaused,
)
from subledger.domain.periods import Interval
from subledger.domain.subscription import Subscription

BASIC = plan_terms("basic", amount=1000)
FREE = plan_terms("free", amount=0)
PRO = plan_terms("pro", amount=3000)
ANNUAL = plan_terms("annual", amount=10000, interval="year")
EURO = plan_terms("euro", amount=1000, currency="EUR")
JAN_31 = utc(2026, 1, 31)


def started(
    terms: Any = BASIC, at: datetime = JAN_31, **kwargs: Any
) -> Subscription:
    """A subscription whose signup is already collected: SubscriptionStarted and, without a
    trial, its first invoice and the (succeeded) charge of it."""
    sub = start_subscription(terms, at=at, pay=pay_ok, **kwargs)
    sub.collect_events()
    return sub


def change(sub: Subscription, at: datetime, terms: Any = None, quantity: int | None = None,
           when: str = "now") -> Any:
    return sub.change(terms=terms, quantity=quantity, when=when, effective_at=at,
                      recorded_at=RECORDED_AT)


def cancel(sub: Subscription, at: datetime, when: str = "now", cancel_at: datetime | None = None,
           comment: str | None = None) -> None:
    sub.cancel(when=when, at=cancel_at, comment=comment, effective_at=at, recorded_at=RECORDED_AT)


def advance(sub: Subscription, to: datetime) -> list[Any]:
    """The billing clock up to ``to``, every charge due paid; the events it recorded."""
    sub.advance_to(to, recorded_at=RECORDED_AT, pay=pay_ok)
    return sub.collect_events()


def of_type(events: list[Any], name: str) -> list[Any]:
    return [e for e in events if type(e).__name__ == name]


def pause(sub: Subscription, at: datetime) -> None:
    sub.pause(effective_at=at, recorded_at=RECORDED_AT)


def resume(sub: Subscription, at: datetime) -> None:
    sub.resume(effective_at=at, recorded_at=RECORDED_AT)


def revoke(sub: Subscription, at: datetime) -> None:
    sub.revoke_cancellation(effective_at=at, recorded_at=RECORDED_AT)


# -- signup ----------------------------------------------------------------------------------


def test_signup_with_a_trial_is_trialing_until_start_plus_trial_days_with_no_anchor() -> None:
    sub = start_subscription(plan_terms(trial_days=14), at=utc(2026, 1, 10, 9, 30))

    assert sub.status == "trialing"
    assert sub.trial_end == utc(2026, 1, 24, 9, 30)
    assert sub.billing_anchor is None
    assert (sub.current_period_start, sub.current_period_end) == (
        utc(2026, 1, 10, 9, 30), utc(2026, 1, 24, 9, 30)
    )
    assert sub.started_at == utc(2026, 1, 10, 9, 30)
    (event,) = sub.collect_events()
    assert type(event).__name__ == "SubscriptionStarted"
    assert (event.status, event.trial_end, event.effective_at) == (
        "trialing", utc(2026, 1, 24, 9, 30), utc(2026, 1, 10, 9, 30)
    )
    assert event.recorded_at == RECORDED_AT
    assert event.subscriber_id == SUBSCRIBER_ID


def test_signup_without_a_trial_is_active_for_one_interval_from_the_start() -> None:
    sub = start_subscription(BASIC, at=utc(2026, 1, 31))

    assert sub.status == "active"
    assert sub.trial_end is None
    assert sub.billing_anchor == utc(2026, 1, 31)
    assert sub.period_number == 0
    assert (sub.current_period_start, sub.current_period_end) == (utc(2026, 1, 31), utc(2026, 2, 28))
    started_event, invoiced = sub.collect_events()
    assert event_names([started_event, invoiced]) == ["SubscriptionStarted", "InvoiceIssued"]
    assert (invoiced.effective_at, invoiced.reason, invoiced.total) == (
        utc(2026, 1, 31), "subscription_create", 1000
    )


def test_quarterly_signup_on_nov_30_ends_its_first_period_on_feb_28() -> None:
    sub = start_subscription(plan_terms(interval="quarter"), at=utc(2025, 11, 30, 12))

    assert sub.current_period_end == utc(2026, 2, 28, 12)


def test_yearly_signup_on_feb_29_ends_its_first_period_on_feb_28() -> None:
    sub = start_subscription(ANNUAL, at=utc(2024, 2, 29))

    assert sub.current_period_end == utc(2025, 2, 28)


def test_signup_records_the_plan_version_price_and_quantity() -> None:
    sub = start_subscription(plan_terms("team", version=3, tier="gold", amount=4200), at=utc(2026, 1, 1),
                             quantity=5)

    assert (sub.plan_id, sub.plan_version, sub.tier, sub.amount, sub.currency, sub.interval,
            sub.quantity) == ("team", 3, "gold", 4200, "USD", Interval.MONTH, 5)


def test_trial_days_zero_overrides_the_plans_trial() -> None:
    sub = start_subscription(plan_terms(trial_days=14), at=utc(2026, 3, 1), trial_days=0)

    assert sub.status == "active"
    assert sub.current_period_end == utc(2026, 4, 1)


def test_trial_days_override_gives_a_trial_on_a_plan_without_one() -> None:
    sub = start_subscription(BASIC, at=utc(2026, 3, 1), trial_days=7)

    assert sub.status == "trialing"
    assert sub.trial_end == utc(2026, 3, 8)


@pytest.mark.parametrize("quantity", [0, -1, 1_000_001, True, 1.0])
def test_signup_with_a_quantity_out_of_bounds_is_refused(quantity: Any) -> None:
    with pytest.raises(QuantityOutOfBounds) as info:
        start_subscription(BASIC, at=utc(2026, 1, 1), quantity=quantity)

    assert info.value.code == "quantity-out-of-bounds"


@pytest.mark.parametrize("trial_days", [-1, 731, True])
def test_signup_with_trial_days_out_of_bounds_is_refused(trial_days: Any) -> None:
    with pytest.raises(InvalidInput):
        start_subscription(BASIC, at=utc(2026, 1, 1), trial_days=trial_days)


# -- the billing clock: trial end and renewals ----------------------------------------------


def test_advancing_past_the_trial_end_records_trial_ended_anchored_at_the_trial_end() -> None:
    sub = started(plan_terms(trial_days=30), at=utc(2026, 1, 1))

    events = advance(sub, utc(2026, 2, 10))

    assert event_names(events) == ["TrialEnded", "InvoiceIssued", "ChargeSucceeded"]
    ended, invoiced, paid = events
    assert ended.effective_at == utc(2026, 1, 31)
    assert (invoiced.effective_at, invoiced.reason, invoiced.total) == (utc(2026, 1, 31), "trial_end", 1000)
    assert (paid.effective_at, paid.invoice_id, paid.amount) == (utc(2026, 1, 31), invoiced.invoice_id, 1000)
    assert ended.billing_anchor == utc(2026, 1, 31)
    assert (ended.current_period_start, ended.current_period_end) == (utc(2026, 1, 31), utc(2026, 2, 28))
    assert sub.status == "active"
    assert sub.billing_anchor == utc(2026, 1, 31)


def test_the_trial_ends_exactly_at_its_end_instant_and_not_before() -> None:
    sub = started(plan_terms(trial_days=30), at=utc(2026, 1, 1))

    assert advance(sub, utc(2026, 1, 30, 23, 59, 59, 999_999)) == []
    assert event_names(advance(sub, utc(2026, 1, 31))) == ["TrialEnded", "InvoiceIssued", "ChargeSucceeded"]


def test_periods_after_a_trial_are_anchored_at_the_trial_end() -> None:
    sub = started(plan_terms(trial_days=30), at=utc(2026, 1, 1))

    events = advance(sub, utc(2026, 4, 1))

    assert event_names(events) == [
        "TrialEnded", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded",
    ]
    assert [e.effective_at for e in events] == [utc(2026, 1, 31)] * 3 + [utc(2026, 2, 28)] * 3 + [
        utc(2026, 3, 31)
    ] * 3
    assert sub.current_period_end == utc(2026, 4, 30)


def test_advancing_across_several_months_renews_once_per_period_with_month_end_clamping() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))

    events = advance(sub, utc(2026, 5, 15))

    assert event_names(events) == ["SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded"] * 3
    assert [e.effective_at for e in events] == [utc(2026, 2, 28)] * 3 + [utc(2026, 3, 31)] * 3 + [
        utc(2026, 4, 30)
    ] * 3
    renewals = of_type(events, "SubscriptionRenewed")
    assert [e.period_number for e in renewals] == [1, 2, 3]
    assert [(e.current_period_start, e.current_period_end) for e in renewals] == [
        (utc(2026, 2, 28), utc(2026, 3, 31)),
        (utc(2026, 3, 31), utc(2026, 4, 30)),
        (utc(2026, 4, 30), utc(2026, 5, 31)),
    ]
    assert all(e.billing_anchor == utc(2026, 1, 31) for e in renewals)
    assert [(line["period_start"], line["period_end"]) for e in of_type(events, "InvoiceIssued")
            for line in e.lines] == [(e.current_period_start, e.current_period_end) for e in renewals]
    assert (sub.period_number, sub.current_period_start) == (3, utc(2026, 4, 30))


def test_a_renewal_happens_at_its_boundary_instant_inclusive() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31, 18))

    assert advance(sub, utc(2026, 2, 28, 17, 59, 59)) == []
    events = advance(sub, utc(2026, 2, 28, 18))
    assert event_names(events) == ["SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded"]
    assert [e.effective_at for e in events] == [utc(2026, 2, 28, 18)] * 3


def test_yearly_renewals_from_feb_29_fall_on_feb_28_until_the_next_leap_year() -> None:
    sub = started(ANNUAL, at=utc(2024, 2, 29))

    events = advance(sub, utc(2028, 3, 1))

    assert event_names(events) == ["SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded"] * 4
    assert [e.effective_at for e in of_type(events, "SubscriptionRenewed")] == [
        utc(2025, 2, 28), utc(2026, 2, 28), utc(2027, 2, 28), utc(2028, 2, 29)
    ]


def test_advancing_twice_to_the_same_instant_records_nothing_new() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))
    advance(sub, utc(2026, 5, 15))

    assert advance(sub, utc(2026, 5, 15)) == []


def test_advancing_to_an_earlier_instant_records_nothing() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))
    advance(sub, utc(2026, 5, 15))

    assert advance(sub, utc(2026, 3, 1)) == []


def test_next_due_is_the_trial_end_then_the_period_end() -> None:
    sub = started(plan_terms(trial_days=10), at=utc(2026, 1, 1))
    assert sub.next_due() == utc(2026, 1, 11)

    advance(sub, utc(2026, 1, 11))

    assert sub.next_due() == utc(2026, 2, 11)


# -- change ----------------------------------------------------------------------------------


def test_upgrade_now_is_prorated_and_keeps_the_anchor_and_the_period() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))

    # 28-day period, 18 days left: 1000 * 18/28 = 642.86 -> 643 ; 3000 * 18/28 = 1928.57 -> 1929.
    proration = change(sub, utc(2026, 2, 10), terms=PRO)

    assert (proration.credit, proration.charge) == (-643, 1929)
    assert (sub.plan_id, sub.amount) == ("pro", 3000)
    assert sub.billing_anchor == utc(2026, 1, 31)
    assert sub.period_number == 0
    assert (sub.current_period_start, sub.current_period_end) == (utc(2026, 1, 31), utc(2026, 2, 28))
    event, invoiced = sub.collect_events()
    assert type(event).__name__ == "SubscriptionChanged"
    assert (event.timing, event.effective_at, event.plan_id, event.previous_plan_id,
            event.previous_amount, event.quantity) == ("now", utc(2026, 2, 10), "pro", "basic", 1000, 1)
    # The proration lines are invoiced at once; the charge of it is due at once.
    assert type(invoiced).__name__ == "InvoiceIssued"
    assert (invoiced.effective_at, invoiced.reason, invoiced.total, invoiced.amount_due) == (
        utc(2026, 2, 10), "proration", 1286, 1286
    )
    assert [(line["kind"], line["amount"]) for line in invoiced.lines] == [
        ("proration_credit", -643), ("proration_charge", 1929)
    ]
    assert sub.next_due() == utc(2026, 2, 10)


def test_the_period_after_a_change_now_still_ends_on_the_anchor_calendar() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))
    change(sub, utc(2026, 2, 10), terms=PRO)
    sub.collect_events()

    events = advance(sub, utc(2026, 3, 1))

    assert event_names(events) == [
        "ChargeSucceeded", "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded"
    ]
    renewals = of_type(events, "SubscriptionRenewed")
    assert [(e.current_period_start, e.current_period_end) for e in renewals] == [
        (utc(2026, 2, 28), utc(2026, 3, 31))
    ]


def test_quantity_increase_now_is_prorated_on_the_totals() -> None:
    sub = started(BASIC, at=utc(2026, 1, 1))

    # 31-day period, 16 days left: 1000 * 16/31 = 516.13 -> 516 ; 3000 * 16/31 = 1548.39 -> 1548.
    proration = change(sub, utc(2026, 1, 16), quantity=3)

    assert (proration.credit, proration.charge) == (-516, 1548)
    assert (sub.quantity, sub.plan_id) == (3, "basic")


def test_change_now_at_a_renewal_instant_renews_first_and_prorates_the_whole_new_period() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))
    # The application takes the renewal's charge to the gateway before the command.
    sub.advance_to(utc(2026, 2, 28), recorded_at=RECORDED_AT, pay=pay_ok)

    proration = change(sub, utc(2026, 2, 28), terms=PRO)

    assert (proration.credit, proration.charge) == (-1000, 3000)
    events = sub.collect_events()
    assert event_names(events) == [
        "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded", "SubscriptionChanged", "InvoiceIssued"
    ]
    assert [(e.reason, e.total) for e in of_type(events, "InvoiceIssued")] == [
        ("renewal", 1000), ("proration", 2000)
    ]
    assert (sub.current_period_start, sub.current_period_end) == (utc(2026, 2, 28), utc(2026, 3, 31))


def test_change_now_to_another_interval_credits_the_unused_part_and_charges_a_whole_new_period() -> None:
    sub = started(BASIC, at=utc(2026, 1, 1))

    # 1000 * 16/31 = 516.13 -> 516 credited; the yearly price is charged whole.
    proration = change(sub, utc(2026, 1, 16), terms=ANNUAL)

    assert (proration.credit, proration.charge) == (-516, 10000)
    assert sub.billing_anchor == utc(2026, 1, 16)
    assert sub.period_number == 0
    assert (sub.current_period_start, sub.current_period_end) == (utc(2026, 1, 16), utc(2027, 1, 16))
    assert sub.interval is Interval.YEAR


def test_change_at_period_end_is_scheduled_for_the_period_end_without_proration() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))

    result = change(sub, utc(2026, 2, 10), terms=PRO, when="period_end")

    assert result is None
    (event,) = sub.collect_events()
    assert type(event).__name__ == "ChangeScheduled"
    assert (event.effective_at, event.at, event.plan_id, event.amount, event.quantity) == (
        utc(2026, 2, 10), utc(2026, 2, 28), "pro", 3000, 1
    )
    assert (sub.plan_id, sub.amount) == ("basic", 1000)
    assert sub.scheduled_change is not None
    assert sub.scheduled_change["at"] == utc(2026, 2, 28)


def test_a_scheduled_change_applies_at_the_next_renewal_which_is_priced_on_the_new_terms() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))
    change(sub, utc(2026, 2, 10), terms=PRO, when="period_end")
    sub.collect_events()

    events = advance(sub, utc(2026, 3, 1))

    assert event_names(events) == [
        "SubscriptionChanged", "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded"
    ]
    changed, renewed, invoiced, paid = events
    assert (changed.timing, changed.effective_at, changed.plan_id, changed.amount) == (
        "period_end", utc(2026, 2, 28), "pro", 3000
    )
    assert renewed.effective_at == utc(2026, 2, 28)
    assert (renewed.current_period_start, renewed.current_period_end) == (utc(2026, 2, 28), utc(2026, 3, 31))
    assert (invoiced.effective_at, invoiced.reason, invoiced.total) == (utc(2026, 2, 28), "renewal", 3000)
    assert (paid.effective_at, paid.amount) == (utc(2026, 2, 28), 3000)
    # The state the renewal is invoiced from:
    assert (sub.plan_id, sub.amount, sub.scheduled_change) == ("pro", 3000, None)
    assert sub.billing_anchor == utc(2026, 1, 31)


def test_a_scheduled_change_to_another_interval_starts_the_new_calendar_at_the_boundary() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))
    change(sub, utc(2026, 2, 1), terms=ANNUAL, when="period_end")
    sub.collect_events()

    events = advance(sub, utc(2027, 3, 1))

    assert event_names(events) == [
        "SubscriptionChanged",
        "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded",
    ]
    assert [e.total for e in of_type(events, "InvoiceIssued")] == [10000, 10000]
    renewals = of_type(events, "SubscriptionRenewed")
    assert [(e.current_period_start, e.current_period_end) for e in renewals] == [
        (utc(2026, 2, 28), utc(2027, 2, 28)),
        (utc(2027, 2, 28), utc(2028, 2, 28)),
    ]
    assert sub.billing_anchor == utc(2026, 2, 28)


def test_a_change_scheduled_during_a_trial_applies_at_the_trial_end_before_conversion() -> None:
    sub = started(plan_terms(trial_days=14), at=utc(2026, 1, 1))

    change(sub, utc(2026, 1, 5), terms=PRO, when="period_end")
    (scheduled,) = sub.collect_events()
    assert scheduled.at == utc(2026, 1, 15)

    events = advance(sub, utc(2026, 1, 20))

    assert event_names(events) == ["SubscriptionChanged", "TrialEnded", "InvoiceIssued", "ChargeSucceeded"]
    assert [e.effective_at for e in events] == [utc(2026, 1, 15)] * 4
    assert (events[2].reason, events[2].total) == ("trial_end", 3000)
    assert (sub.status, sub.amount) == ("active", 3000)


def test_change_now_during_a_trial_is_not_prorated_and_keeps_the_trial() -> None:
    sub = started(plan_terms(trial_days=14), at=utc(2026, 1, 1))

    assert change(sub, utc(2026, 1, 5), terms=PRO) is None
    assert (sub.status, sub.trial_end, sub.amount) == ("trialing", utc(2026, 1, 15), 3000)
    assert sub.billing_anchor is None


def test_a_plan_change_never_starts_a_trial() -> None:
    sub = started(BASIC, at=utc(2026, 1, 1))

    change(sub, utc(2026, 1, 10), terms=plan_terms("pro", amount=3000, trial_days=14))

    assert (sub.status, sub.trial_end) == ("active", None)


def test_change_now_supersedes_a_scheduled_change() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))
    change(sub, utc(2026, 2, 5), terms=PRO, when="period_end")

    change(sub, utc(2026, 2, 10), quantity=2)

    assert sub.scheduled_change is None
    assert event_names(sub.collect_events()) == ["ChangeScheduled", "SubscriptionChanged", "InvoiceIssued"]
    events = advance(sub, utc(2026, 3, 1))
    assert event_names(events) == [
        "ChargeSucceeded", "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded"
    ]
    assert of_type(events, "InvoiceIssued")[0].total == 2000  # basic x 2, not pro
    assert (sub.plan_id, sub.quantity) == ("basic", 2)


def test_changing_to_the_same_plan_id_keeps_the_grandfathered_price_version() -> None:
    sub = started(BASIC, at=utc(2026, 1, 1))
    basic_v2 = plan_terms("basic", version=2, amount=1500)

    # 31-day period, 16 days left: 1000 * 16/31 = 516.13 -> 516 ; 2000 * 16/31 = 1032.26 -> 1032.
    proration = change(sub, utc(2026, 1, 16), terms=basic_v2, quantity=2)

    assert (sub.plan_version, sub.amount, sub.quantity) == (1, 1000, 2)
    assert (proration.credit, proration.charge) == (-516, 1032)


def test_changing_to_a_new_version_of_the_same_plan_alone_is_an_empty_change() -> None:
    sub = started(BASIC, at=utc(2026, 1, 1))

    with pytest.raises(EmptyChange) as info:
        change(sub, utc(2026, 1, 16), terms=plan_terms("basic", version=2, amount=1500))

    assert info.value.code == "empty-change"


def test_change_to_the_same_plan_and_quantity_is_an_empty_change() -> None:
    sub = started(BASIC, at=utc(2026, 1, 1))

    with pytest.raises(EmptyChange) as info:
        change(sub, utc(2026, 1, 16), terms=BASIC, quantity=1)

    assert info.value.code == "empty-change"


def test_change_without_plan_or_quantity_is_an_empty_change() -> None:
    sub = started(BASIC, at=utc(2026, 1, 1))

    with pytest.raises(EmptyChange):
        change(sub, utc(2026, 1, 16))


def test_change_to_a_plan_in_another_currency_is_a_currency_mismatch() -> None:
    sub = started(BASIC, at=utc(2026, 1, 1))

    with pytest.raises(CurrencyMismatch) as info:
        change(sub, utc(2026, 1, 16), terms=EURO)

    assert info.value.code == "currency-mismatch"


@pytest.mark.parametrize("when", ["later", "", "at"])
def test_change_with_an_unknown_timing_is_refused(when: str) -> None:
    sub = started(BASIC, at=utc(2026, 1, 1))

    with pytest.raises(InvalidInput):
        change(sub, utc(2026, 1, 16), terms=PRO, when=when)


@pytest.mark.parametrize("quantity", [0, 1_000_001])
def test_change_to_a_quantity_out_of_bounds_is_refused(quantity: int) -> None:
    sub = started(BASIC, at=utc(2026, 1, 1))

    with pytest.raises(QuantityOutOfBounds):
        change(sub, utc(2026, 1, 16), quantity=quantity)


def test_change_of_a_paused_subscription_is_refused() -> None:
    sub = started(BASIC, at=utc(2026, 1, 1))
    pause(sub, utc(2026, 1, 10))

    with pytest.raises(SubscriptionPaused) as info:
        change(sub, utc(2026, 1, 16), terms=PRO)

    assert info.value.code == "subscription-paused"


# -- cancel ----------------------------------------------------------------------------------


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


# -- pause and resume ------------------------------------------------------------------------


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


# -- coupons ---------------------------------------------------------------------------------


def _coupon(duration: str = "repeating", months: int | None = 3, currency: str | None = None,
            amount_off: int | None = None, coupon_id: str = "welcome") -> CouponTerms:
    return CouponTerms(
        coupon_id=coupon_id, percent_off=None if amount_off else Decimal("20"), amount_off=amount_off,
        currency=currency, duration=duration, duration_in_months=months,
    )


def test_a_repeating_coupon_is_applied_with_its_end_and_stays_across_a_plan_change() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))

    sub.apply_coupon(_coupon(), effective_at=utc(2026, 1, 31), recorded_at=RECORDED_AT)
    change(sub, utc(2026, 2, 10), terms=PRO)

    applied = sub.collect_events()[0]
    assert type(applied).__name__ == "CouponApplied"
    assert applied.ends_at == utc(2026, 4, 30)
    assert sub.coupon is not None
    assert (sub.coupon["coupon_id"], sub.coupon["ends_at"]) == ("welcome", utc(2026, 4, 30))


def test_an_amount_off_coupon_in_another_currency_is_a_currency_mismatch() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))

    with pytest.raises(CurrencyMismatch):
        sub.apply_coupon(_coupon("forever", None, currency="EUR", amount_off=500),
                         effective_at=utc(2026, 2, 1), recorded_at=RECORDED_AT)


@pytest.mark.parametrize("duration,months", [("once", None), ("repeating", 3), ("forever", None)])
def test_a_coupon_the_subscription_had_is_not_redeemed_again(duration: str, months: int | None) -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))
    sub.apply_coupon(_coupon(duration, months), effective_at=utc(2026, 2, 1), recorded_at=RECORDED_AT)
    sub.apply_coupon(_coupon(duration, months, coupon_id="other"), effective_at=utc(2026, 2, 2),
                     recorded_at=RECORDED_AT)
    sub.collect_events()

    with pytest.raises(CouponAlreadyRedeemed) as info:  # not even after another one replaced it
        sub.apply_coupon(_coupon(duration, months), effective_at=utc(2026, 4, 1), recorded_at=RECORDED_AT)

    assert info.value.code == "coupon-already-redeemed"
    assert sub.collect_events() == []  # nothing, not even the renewals it would have caught up
    assert sub.coupon is not None and sub.coupon["coupon_id"] == "other"


def test_a_coupon_given_at_signup_is_not_redeemed_again() -> None:
    sub = Subscription.start(subscriber_id=SUBSCRIBER_ID, terms=BASIC, quantity=1, trial_days=None,
                             effective_at=utc(2026, 1, 31), recorded_at=RECORDED_AT,
                             coupon=_coupon("once", None))
    with pytest.raises(CouponAlreadyRedeemed):
        sub.apply_coupon(_coupon("once", None), effective_at=utc(2026, 3, 1), recorded_at=RECORDED_AT)


# -- refusals common to every command --------------------------------------------------------

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
