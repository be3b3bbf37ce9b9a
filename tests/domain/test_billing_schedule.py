"""The billing schedule of one subscription, as the clock performs it (Subscription.start and
advance_to with a payer): service periods that tile time, and a clock whose result does not
depend on how often it ran."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.factories import (
    PAYERS,
    RECORDED_AT,
    SUBSCRIBER_ID,
    event_record,
    pay_ok,
    plan_terms,
    replay,
    utc,
)

from subledger.domain.coupons import CouponTerms
from subledger.domain.errors import DomainError
from subledger.domain.lifecycle import CANCELED
from subledger.domain.plans import PlanTerms
from subledger.domain.subscription import Subscription

PLANS = [
    plan_terms("basic", amount=1000),
    plan_terms("pro", amount=3000),
    plan_terms("team", amount=2700, interval="quarter"),
    plan_terms("annual", amount=10000, interval="year"),
]
COUPONS = [
    None,
    CouponTerms("once", Decimal(50), None, None, "once", None),
    CouponTerms("three", Decimal(20), None, None, "repeating", 3),
    CouponTerms("flat", None, 700, "USD", "forever", None),
]


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    """A signup instant in 2024-2026, on one of a month's last days half of the time."""
    year, month = draw(st.integers(2024, 2026)), draw(st.integers(1, 12))
    last = calendar.monthrange(year, month)[1]
    day = draw(st.one_of(st.integers(1, last), st.integers(last - 3, last)))
    return datetime(year, month, day, draw(st.integers(0, 23)), draw(st.sampled_from([0, 30])),
                    tzinfo=UTC)


gaps = st.one_of(
    st.just("due"),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)),
)
steps = st.one_of(
    st.tuples(st.just("advance"), gaps),
    st.tuples(st.just("schedule"), gaps, st.sampled_from(PLANS), st.integers(1, 4)),
    st.tuples(st.just("seats_now"), gaps, st.integers(1, 4)),
)


def start(terms: PlanTerms, at: datetime, trial_days: int, coupon: CouponTerms | None = None) -> Subscription:
    return Subscription.start(subscriber_id=SUBSCRIBER_ID, terms=terms, quantity=1,
                              trial_days=trial_days, effective_at=at, recorded_at=RECORDED_AT,
                              coupon=coupon)


def recurring_periods(events: list[Any]) -> list[tuple[datetime, datetime]]:
    return [
        (line["period_start"], line["period_end"])
        for event in events if isinstance(event, Subscription.InvoiceIssued)
        for line in event.lines if line["kind"] == "recurring"
    ]


def last_day_clamped(anchor: datetime, months: int) -> datetime:
    """``anchor`` plus ``months`` calendar months, the day clamped to the month's end (by hand)."""
    year = anchor.year + (anchor.month - 1 + months) // 12
    month = (anchor.month - 1 + months) % 12 + 1
    return anchor.replace(year=year, month=month,
                          day=min(anchor.day, calendar.monthrange(year, month)[1]))


# -- service periods ---------------------------------------------------------------------------


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    at=instants(), terms=st.sampled_from(PLANS), trial_days=st.sampled_from([0, 0, 7, 14, 30]),
    payer=st.sampled_from(sorted(PAYERS)), story=st.lists(steps, max_size=12),
)
def test_recurring_service_periods_never_overlap_and_leave_no_gaps_for_any_renewal_sequence(
    at: datetime, terms: PlanTerms, trial_days: int, payer: str, story: list[tuple[Any, ...]]
) -> None:
    pay = PAYERS[payer]
    subscription = start(terms, at, trial_days)
    subscription.advance_to(at, recorded_at=RECORDED_AT, pay=pay)
    now = at
    for kind, gap, *args in story:
        if gap == "due":
            now = max(now, subscription.next_due() or now)
        else:
            now = now + gap
        subscription.advance_to(now, recorded_at=RECORDED_AT, pay=pay)
        try:
            if kind == "schedule":
                subscription.change(terms=args[0], quantity=args[1], when="period_end",
                                    effective_at=now, recorded_at=RECORDED_AT)
            elif kind == "seats_now":
                subscription.change(terms=None, quantity=args[0], when="now",
                                    effective_at=now, recorded_at=RECORDED_AT)
                subscription.advance_to(now, recorded_at=RECORDED_AT, pay=pay)
        except DomainError:
            pass  # refused (e.g. no change, or canceled by dunning): nothing was recorded

    periods = recurring_periods(subscription.pending_events)
    first_paid = at + timedelta(days=trial_days)
    if first_paid <= now:
        assert periods, "the first paid period is invoiced"
        assert periods[0][0] == first_paid
    assert all(start < end for start, end in periods)
    for (_, end_a), (start_b, _) in zip(periods, periods[1:], strict=False):
        assert start_b == end_a, f"gap or overlap between {end_a} and {start_b}"
    if periods and subscription.status != CANCELED:
        assert periods[-1] == (subscription.current_period_start, subscription.current_period_end)
        assert subscription.current_period_end > now, "every period due by now is invoiced"


def test_a_jan_31_anchor_invoices_periods_ending_feb_28_mar_31_and_apr_30() -> None:
    subscription = start(PLANS[0], utc(2026, 1, 31), 0)

    subscription.advance_to(utc(2026, 4, 30), recorded_at=RECORDED_AT, pay=pay_ok)

    assert recurring_periods(subscription.pending_events) == [
        (utc(2026, 1, 31), utc(2026, 2, 28)),
        (utc(2026, 2, 28), utc(2026, 3, 31)),
        (utc(2026, 3, 31), utc(2026, 4, 30)),
        (utc(2026, 4, 30), utc(2026, 5, 31)),
    ]


def test_a_feb_29_yearly_anchor_renews_on_feb_28_until_the_next_leap_year() -> None:
    subscription = start(PLANS[3], utc(2024, 2, 29), 0)

    subscription.advance_to(utc(2028, 2, 29), recorded_at=RECORDED_AT, pay=pay_ok)

    ends = [end for _, end in recurring_periods(subscription.pending_events)]
    assert ends == [utc(2025, 2, 28), utc(2026, 2, 28), utc(2027, 2, 28), utc(2028, 2, 29),
                    utc(2029, 2, 28)]


@settings(max_examples=80, deadline=None)
@given(at=instants(), terms=st.sampled_from(PLANS), count=st.integers(1, 30))
def test_every_period_end_is_computed_from_the_anchor_not_from_the_previous_end(
    at: datetime, terms: PlanTerms, count: int
) -> None:
    subscription = start(terms, at, 0)
    months = terms.interval.months

    subscription.advance_to(last_day_clamped(at, months * count), recorded_at=RECORDED_AT, pay=pay_ok)

    periods = recurring_periods(subscription.pending_events)
    assert periods == [
        (last_day_clamped(at, months * n), last_day_clamped(at, months * (n + 1)))
        for n in range(count + 1)
    ]


# -- the clock: T1 then T2 is T2 ---------------------------------------------------------------


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    at=instants(), terms=st.sampled_from(PLANS), trial_days=st.sampled_from([0, 14]),
    coupon=st.sampled_from(COUPONS), payer=st.sampled_from(sorted(PAYERS)),
    setup=st.sampled_from(["none", "schedule_change", "cancel_at_period_end", "cancel_at"]),
    first=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=200)),
    second=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=200)),
)
def test_running_the_clock_to_t1_then_t2_records_what_running_it_to_t2_records(
    at: datetime, terms: PlanTerms, trial_days: int, coupon: CouponTerms | None, payer: str,
    setup: str, first: timedelta, second: timedelta,
) -> None:
    pay = PAYERS[payer]
    subscription = start(terms, at, trial_days, coupon)
    subscription.advance_to(at, recorded_at=RECORDED_AT, pay=pay)
    if setup == "schedule_change":
        subscription.change(terms=PLANS[1] if terms != PLANS[1] else PLANS[2], quantity=3,
                            when="period_end", effective_at=at, recorded_at=RECORDED_AT)
    elif setup == "cancel_at_period_end":
        subscription.cancel(when="period_end", at=None, comment=None, effective_at=at,
                            recorded_at=RECORDED_AT)
    elif setup == "cancel_at":
        subscription.cancel(when="at", at=at + timedelta(days=45), comment=None,
                            effective_at=at, recorded_at=RECORDED_AT)
    history = subscription.collect_events()
    t1, t2 = at + first, at + first + second
    stepwise, direct = replay(history), replay(history)

    stepwise.advance_to(t1, recorded_at=utc(2030, 1, 1), pay=pay)
    stepwise.advance_to(t2, recorded_at=utc(2030, 2, 1), pay=pay)
    direct.advance_to(t2, recorded_at=utc(2030, 3, 1), pay=pay)

    assert [event_record(e) for e in stepwise.pending_events] == [
        event_record(e) for e in direct.pending_events
    ]
    times = [e.effective_at for e in direct.pending_events]
    assert times == sorted(times) and all(t <= t2 for t in times)

    recorded = len(direct.pending_events)
    direct.advance_to(t2, recorded_at=utc(2030, 4, 1), pay=pay)
    assert len(direct.pending_events) == recorded, "the clock to the same T again adds nothing"
