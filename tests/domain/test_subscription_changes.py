"""A subscription's change of plan or quantity, now (prorated) or at the period's end
(docs/business-rules.md).

The subscription and its commands come from ``support/subscriptions.py``.
"""

from __future__ import annotations

import pytest
from support.factories import RECORDED_AT, event_names, pay_ok, plan_terms, utc
from support.subscriptions import ANNUAL, BASIC, EURO, PRO, advance, change, of_type, pause, started

from subledger.domain.errors import (
    CurrencyMismatch,
    EmptyChange,
    InvalidInput,
    QuantityOutOfBounds,
    SubscriptionPaused,
)
from subledger.domain.periods import Interval


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
