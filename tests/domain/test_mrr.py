"""A subscription's MRR (docs/business-rules.md, MRR): folded from its envelopes, normalised to a month,
after the coupon in force; coupon ends as change points. Expected figures are written by hand.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from support.factories import RECORDED_AT, SUBSCRIBER_ID, pay_declined, pay_ok, plan_terms, utc

from subledger.contract.envelope import to_envelope
from subledger.domain.coupons import CouponTerms
from subledger.domain.money import round_minor
from subledger.domain.movements import movements
from subledger.domain.mrr import (
    SubscriptionMrr,
    change_points,
    fold_subscription,
    mrr_at,
    mrr_timeline,
)
from subledger.domain.subscription import Subscription
from subledger.domain.time import isoformat

SUB = "sub-a"


def envelope(kind: str, at: datetime, position: int = 1, version: int = 1,
             aggregate_id: str = SUB, **data: Any) -> dict[str, Any]:
    """A public envelope as ``to_envelope`` writes it."""
    return {
        "position": position, "event_id": f"{aggregate_id}/{version}", "type": kind,
        "schema_version": 1, "subscriber_id": "subscriber-1", "aggregate_id": aggregate_id,
        "aggregate_version": version, "recorded_at": "2030-01-01T00:00:00Z",
        "effective_at": isoformat(at), "data": data,
    }


def started(at: datetime, *, amount: int = 1000, quantity: int = 1, interval: str = "month",
            status: str = "active", currency: str = "USD") -> dict[str, Any]:
    return envelope("SubscriptionStarted", at, plan_id="p", plan_version=1, tier="basic",
                    amount=amount, currency=currency, interval=interval, quantity=quantity,
                    status=status, trial_end=None, billing_anchor=None,
                    current_period_start=isoformat(at), current_period_end=isoformat(at))


def fold(*envelopes: dict[str, Any]) -> SubscriptionMrr:
    state = None
    for version, item in enumerate(envelopes, start=1):
        item = {**item, "position": version, "aggregate_version": version,
                "event_id": f"{item['aggregate_id']}/{version}"}
        state = fold_subscription(state, item)
    assert state is not None
    return state


def coupon(at: datetime, *, percent_off: str | None = None, amount_off: int | None = None,
           duration: str = "forever", ends_at: datetime | None = None) -> dict[str, Any]:
    return envelope("CouponApplied", at, coupon_id="c", percent_off=percent_off,
                    amount_off=amount_off, currency=None if amount_off is None else "USD",
                    duration=duration, duration_in_months=None if ends_at is None else 3,
                    ends_at=None if ends_at is None else isoformat(ends_at))


T0 = utc(2026, 1, 1)
T1 = utc(2026, 2, 1)


# -- normalised to a month -------------------------------------------------------------------


def test_a_monthly_1000_cent_plan_with_3_seats_is_3000() -> None:
    assert mrr_at(fold(started(T0, amount=1000, quantity=3)), T1) == 3000


def test_a_yearly_10000_is_833_33_shown_and_exact_inside() -> None:
    mrr = mrr_at(fold(started(T0, amount=10000, interval="year")), T1)
    assert mrr == Fraction(2500, 3)
    assert round_minor(mrr) == Decimal("833.33")
    assert mrr * 12 == 10000  # nothing was lost to a rounding


def test_a_quarterly_price_is_divided_by_3() -> None:
    assert mrr_at(fold(started(T0, amount=2700, interval="quarter")), T1) == 900
    assert round_minor(mrr_at(fold(started(T0, amount=1000, interval="quarter")), T1)) == Decimal("333.33")


# -- coupons -------------------------------------------------------------------------------


def test_a_20_percent_forever_coupon() -> None:
    state = fold(started(T0, amount=1000, quantity=3), coupon(T0, percent_off="20"))
    assert mrr_at(state, utc(2030, 1, 1)) == 2400
    assert change_points(state) == []


def test_a_fractional_percent_is_exact_not_rounded_to_cents() -> None:
    state = fold(started(T0, amount=999), coupon(T0, percent_off="12.5"))
    assert mrr_at(state, T1) == Fraction(874125, 1000)  # 999 x 0.875 = 874.125
    assert round_minor(mrr_at(state, T1)) == Decimal("874.12")  # half-even


def test_a_percent_coupon_on_a_yearly_plan() -> None:
    state = fold(started(T0, amount=12000, interval="year"), coupon(T0, percent_off="25"))
    assert mrr_at(state, T1) == 750


def test_a_repeating_coupon_counts_until_its_end_only() -> None:
    ends = utc(2026, 4, 1)
    state = fold(started(T0, amount=1000), coupon(T0, percent_off="20", duration="repeating", ends_at=ends))
    assert mrr_at(state, utc(2026, 3, 31, 23, 59, 59)) == 800
    assert mrr_at(state, ends) == 1000
    assert mrr_at(state, utc(2027, 1, 1)) == 1000
    assert change_points(state) == [ends]


def test_a_repeating_coupon_end_is_a_point_of_the_timeline_with_an_expansion() -> None:
    ends = utc(2026, 4, 1)
    history = [
        started(T0, amount=1000),
        envelope("CouponApplied", T0, position=2, version=2, coupon_id="c", percent_off="20",
                 amount_off=None, currency=None, duration="repeating", duration_in_months=3,
                 ends_at="2026-04-01T00:00:00Z"),
    ]
    timeline = mrr_timeline(history)
    assert [(p.at, p.mrr) for p in timeline] == [(T0, {"USD": 800}), (ends, {"USD": 1000})]
    assert timeline[1].event_ids == ("sub-a/2",)  # the coupon that ended
    moves = movements(timeline)
    assert [(m.at, m.kind, m.amount) for m in moves] == [(T0, "new", 800), (ends, "expansion", 200)]
    # as of an instant before the end, the end is not yet part of the timeline
    assert [p.at for p in mrr_timeline(history, as_of=utc(2026, 3, 1))] == [T0]


def test_an_event_at_the_coupon_end_shares_its_point() -> None:
    ends = utc(2026, 4, 1)
    history = [
        started(T0, amount=1000),
        {**coupon(T0, percent_off="50", duration="repeating", ends_at=ends), "position": 2,
         "aggregate_version": 2, "event_id": "sub-a/2"},
        envelope("SubscriptionRenewed", ends, position=3, version=3),
    ]
    timeline = mrr_timeline(history)
    assert [(p.at, p.mrr["USD"], p.event_ids) for p in timeline] == [
        (T0, 500, ("sub-a/1", "sub-a/2")),
        (ends, 1000, ("sub-a/3", "sub-a/2")),
    ]


def test_a_coupon_replaced_before_its_end_has_no_change_point_there() -> None:
    state = fold(
        started(T0, amount=1000),
        coupon(T0, percent_off="20", duration="repeating", ends_at=utc(2026, 4, 1)),
        coupon(utc(2026, 2, 1), percent_off="10"),
    )
    assert change_points(state) == []
    assert mrr_at(state, utc(2026, 5, 1)) == 900


def test_a_repeating_coupon_ending_while_paused_is_no_change_point() -> None:
    state = fold(
        started(T0, amount=1000),
        coupon(T0, percent_off="20", duration="repeating", ends_at=utc(2026, 4, 1)),
        envelope("SubscriptionPaused", utc(2026, 2, 1)),
    )
    assert change_points(state) == []
    resumed = fold_subscription(state, envelope("SubscriptionResumed", utc(2026, 5, 1), position=9, version=9, status="active"))
    assert mrr_at(resumed, utc(2026, 5, 1)) == 1000


def test_an_amount_off_coupon_never_takes_mrr_below_zero() -> None:
    state = fold(started(T0, amount=1000), coupon(T0, amount_off=1500))
    assert mrr_at(state, T1) == 0


def test_an_amount_off_coupon_comes_off_the_line_once_not_per_seat() -> None:
    state = fold(started(T0, amount=1000, quantity=3), coupon(T0, amount_off=300))
    assert mrr_at(state, T1) == 2700


def test_an_amount_off_coupon_on_a_yearly_plan_is_spread_over_the_year() -> None:
    state = fold(started(T0, amount=12000, interval="year"), coupon(T0, amount_off=1200))
    assert mrr_at(state, T1) == 900


def test_a_once_coupon_never_counts() -> None:
    state = fold(started(T0, amount=1000), coupon(T0, percent_off="50", duration="once"))
    assert mrr_at(state, T0) == 1000
    assert change_points(state) == []


# -- statuses -------------------------------------------------------------------------------


def test_trialing_is_zero_until_the_trial_ends() -> None:
    trial = fold(started(T0, amount=1000, status="trialing"))
    assert mrr_at(trial, T0) == 0
    active = fold_subscription(trial, envelope("TrialEnded", utc(2026, 1, 15), position=2, version=2))
    assert active.status == "active"
    assert mrr_at(active, utc(2026, 1, 15)) == 1000


def test_paused_is_zero_and_resumed_counts_again() -> None:
    paused = fold(started(T0, amount=1000), envelope("SubscriptionPaused", T1))
    assert mrr_at(paused, T1) == 0
    resumed = fold_subscription(paused, envelope("SubscriptionResumed", utc(2026, 3, 1), position=3, version=3, status="active"))
    assert mrr_at(resumed, utc(2026, 3, 1)) == 1000


def test_past_due_counts_and_recovered_counts() -> None:
    past_due = fold(started(T0, amount=1000), envelope("SubscriptionPastDue", T1, invoice_id="i1"))
    assert past_due.status == "past_due"
    assert mrr_at(past_due, T1) == 1000
    recovered = fold_subscription(past_due, envelope("SubscriptionRecovered", T1, position=3, version=3, invoice_id="i1"))
    assert recovered.status == "active"
    assert mrr_at(recovered, T1) == 1000


def test_canceled_is_zero() -> None:
    state = fold(started(T0, amount=1000), envelope("SubscriptionCanceled", T1, reason="voluntary", comment=None))
    assert mrr_at(state, T1) == 0


def test_a_resume_leaves_the_status_its_event_names() -> None:
    """The aggregate decides whether a resume is past_due (an invoice still in dunning); the
    fold reads it from the event, as every fold of a subscription does."""
    for named in ("past_due", "active"):
        state = fold(
            started(T0, amount=1000),
            envelope("SubscriptionPaused", utc(2026, 2, 2)),
            envelope("SubscriptionResumed", utc(2026, 2, 3), status=named),
        )
        assert state.status == named
        assert mrr_at(state, utc(2026, 2, 3)) == 1000


def test_a_change_takes_the_new_terms() -> None:
    state = fold(
        started(T0, amount=1000, quantity=1),
        envelope("SubscriptionChanged", T1, amount=24000, quantity=2, interval="year", currency="USD"),
    )
    assert mrr_at(state, T1) == 4000


# -- the stream must be one subscription's, in effective order -----------------------------


def test_a_stream_must_start_with_subscription_started() -> None:
    with pytest.raises(ValueError, match="SubscriptionStarted"):
        fold_subscription(None, envelope("SubscriptionPaused", T0))


def test_another_subscriptions_event_is_refused() -> None:
    with pytest.raises(ValueError):
        fold_subscription(fold(started(T0)), envelope("SubscriptionPaused", T1, aggregate_id="other"))


def test_an_event_effective_before_the_last_one_is_refused() -> None:
    with pytest.raises(ValueError, match="precedes"):
        fold_subscription(fold(started(T1)), envelope("SubscriptionPaused", T0))


def test_a_float_percent_is_refused() -> None:
    with pytest.raises(TypeError):
        fold(started(T0), {**coupon(T0), "data": {**coupon(T0)["data"], "percent_off": 20.0}})


# -- envelopes of the real aggregate -------------------------------------------------------


def test_the_aggregates_own_envelopes_fold_to_its_status_and_mrr() -> None:
    """A 14-day trial on 1000 x 2 with a 20 % coupon for 3 months (ends Apr 1), converted;
    a declined renewal (past_due), pause, a declined retry while paused, resume (still in
    dunning: past_due), recovery, the coupon's end, cancel: the fold follows the aggregate."""
    repeating = CouponTerms("WELCOME", Decimal("20"), None, None, "repeating", 3)
    subscription = Subscription.start(
        subscriber_id=SUBSCRIBER_ID, terms=plan_terms(amount=1000), quantity=2, trial_days=14,
        effective_at=utc(2026, 1, 1), recorded_at=RECORDED_AT, coupon=repeating,
    )
    envelopes: list[dict[str, Any]] = []
    state: SubscriptionMrr | None = None
    statuses: list[str] = []

    def flush() -> None:
        nonlocal state
        for event in subscription.collect_events():
            item = to_envelope(len(envelopes) + 1, event)
            envelopes.append(item)
            state = fold_subscription(state, item)
        assert state is not None and state.status == subscription.status
        statuses.append(state.status)

    flush()
    subscription.advance_to(utc(2026, 1, 15), recorded_at=RECORDED_AT, pay=pay_ok)
    flush()
    subscription.advance_to(utc(2026, 2, 15), recorded_at=RECORDED_AT, pay=pay_declined)
    flush()
    subscription.pause(effective_at=utc(2026, 2, 16), recorded_at=RECORDED_AT)
    flush()
    subscription.advance_to(utc(2026, 2, 18), recorded_at=RECORDED_AT, pay=pay_declined)
    flush()
    subscription.resume(effective_at=utc(2026, 2, 19), recorded_at=RECORDED_AT)
    subscription.advance_to(utc(2026, 2, 19), recorded_at=RECORDED_AT, pay=pay_ok)
    flush()
    subscription.advance_to(utc(2026, 4, 10), recorded_at=RECORDED_AT, pay=pay_ok)
    subscription.cancel(when="now", at=None, comment=None, effective_at=utc(2026, 4, 10),
                        recorded_at=RECORDED_AT)
    flush()
    assert statuses == ["trialing", "active", "past_due", "paused", "paused", "past_due", "canceled"]
    points = mrr_timeline(envelopes)
    assert [(p.at, p.mrr) for p in points] == [
        (utc(2026, 1, 1), {"USD": 0}),  # trialing
        (utc(2026, 1, 15), {"USD": 1600}),  # 2000 less 20 %
        (utc(2026, 2, 15), {"USD": 1600}),  # renewal declined: past_due counts
        (utc(2026, 2, 16), {"USD": 0}),  # paused
        (utc(2026, 2, 18), {"USD": 0}),  # retry declined while paused
        (utc(2026, 2, 19), {"USD": 1600}),  # resumed, past_due
        (utc(2026, 2, 20), {"USD": 1600}),  # retry paid: recovered
        (utc(2026, 3, 19), {"USD": 1600}),  # renewal
        (utc(2026, 4, 1), {"USD": 2000}),  # the coupon ends, no event
        (utc(2026, 4, 10), {"USD": 0}),  # canceled
    ]
    assert [(m.kind, m.amount) for m in movements(points)] == [
        ("new", 1600), ("churn", 1600), ("reactivation", 1600), ("expansion", 400), ("churn", 2000),
    ]
