"""The subscription's billing clock: the trial's end and the renewals, period after period
(docs/business-rules.md).

The subscription and its commands come from ``support/subscriptions.py``.
"""

from __future__ import annotations

from support.factories import event_names, plan_terms, utc
from support.subscriptions import ANNUAL, BASIC, advance, of_type, started


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
