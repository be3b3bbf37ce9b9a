"""A subscriber's MRR timeline and its movements (docs/business-rules.md, MRR): new, reactivation,
expansion, contraction, churn; and MRR(end) = MRR(start) + new + expansion + reactivation -
contraction - churn for random histories. Expected figures are written by hand.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.factories import utc

from subledger.domain.movements import MOVEMENT_KINDS, bridge, movements
from subledger.domain.mrr import (
    MrrPoint,
    fold_subscription,
    mrr_as_of,
    mrr_at,
    mrr_before,
    mrr_timeline,
)
from subledger.domain.time import isoformat


class History:
    """Envelopes of one subscriber, each given the next position as it is written."""

    def __init__(self, subscriber_id: str = "subscriber-1") -> None:
        self.subscriber_id = subscriber_id
        self.envelopes: list[dict[str, Any]] = []
        self.versions: dict[str, int] = {}

    def add(self, subscription: str, kind: str, at: datetime, **data: Any) -> str:
        version = self.versions.get(subscription, 0) + 1
        self.versions[subscription] = version
        event_id = f"{subscription}/{version}"
        self.envelopes.append({
            "position": len(self.envelopes) + 1, "event_id": event_id, "type": kind,
            "schema_version": 1, "subscriber_id": self.subscriber_id,
            "aggregate_id": subscription, "aggregate_version": version,
            "recorded_at": "2030-01-01T00:00:00Z", "effective_at": isoformat(at), "data": data,
        })
        return event_id

    def start(self, subscription: str, at: datetime, amount: int = 1000, *, quantity: int = 1,
              interval: str = "month", currency: str = "USD", status: str = "active") -> str:
        return self.add(subscription, "SubscriptionStarted", at, plan_id="p", plan_version=1,
                        tier="t", amount=amount, currency=currency, interval=interval,
                        quantity=quantity, status=status, trial_end=None, billing_anchor=None,
                        current_period_start=isoformat(at), current_period_end=isoformat(at))

    def change(self, subscription: str, at: datetime, amount: int, *, quantity: int = 1,
               interval: str = "month", currency: str = "USD") -> str:
        return self.add(subscription, "SubscriptionChanged", at, timing="now", plan_id="p",
                        plan_version=1, tier="t", amount=amount, currency=currency,
                        interval=interval, quantity=quantity)

    def coupon(self, subscription: str, at: datetime, *, percent_off: str | None = None,
               amount_off: int | None = None, duration: str = "forever",
               ends_at: datetime | None = None) -> str:
        return self.add(subscription, "CouponApplied", at, coupon_id="c", percent_off=percent_off,
                        amount_off=amount_off, currency=None, duration=duration,
                        duration_in_months=None, ends_at=None if ends_at is None else isoformat(ends_at))

    def moves(self) -> list[tuple[datetime, str, Fraction]]:
        return [(m.at, m.kind, m.amount) for m in movements(mrr_timeline(self.envelopes))]


JAN, FEB, MAR, APR, MAY = (utc(2026, m, 1) for m in range(1, 6))


# -- one movement of each kind ---------------------------------------------------------------


def test_signup_upgrade_downgrade_pause_resume_cancel() -> None:
    h = History()
    signup = h.start("a", JAN, 1000)
    h.change("a", FEB, 3000)
    h.change("a", utc(2026, 2, 10), 1000, quantity=2)
    h.add("a", "SubscriptionPaused", MAR)
    h.add("a", "SubscriptionResumed", APR, status="active")
    cancel = h.add("a", "SubscriptionCanceled", MAY, reason="voluntary", comment=None)
    moves = movements(mrr_timeline(h.envelopes))
    assert [(m.at, m.kind, m.amount, m.mrr_before, m.mrr_after) for m in moves] == [
        (JAN, "new", 1000, 0, 1000),
        (FEB, "expansion", 2000, 1000, 3000),
        (utc(2026, 2, 10), "contraction", 1000, 3000, 2000),
        (MAR, "churn", 2000, 2000, 0),
        (APR, "reactivation", 2000, 0, 2000),
        (MAY, "churn", 2000, 2000, 0),
    ]
    assert moves[0].event_ids == (signup,)
    assert moves[-1].event_ids == (cancel,)
    assert {m.currency for m in moves} == {"USD"}


def test_a_trial_is_new_at_its_end_not_at_signup() -> None:
    h = History()
    h.start("a", JAN, 1000, status="trialing")
    h.add("a", "TrialEnded", utc(2026, 1, 15))
    assert h.moves() == [(utc(2026, 1, 15), "new", 1000)]


def test_a_trial_canceled_before_its_end_moves_nothing() -> None:
    h = History()
    h.start("a", JAN, 1000, status="trialing")
    h.add("a", "SubscriptionCanceled", utc(2026, 1, 10), reason="voluntary", comment=None)
    assert h.moves() == []


def test_past_due_moves_nothing_and_involuntary_cancel_is_churn() -> None:
    h = History()
    h.start("a", JAN, 1000)
    h.add("a", "SubscriptionPastDue", FEB, invoice_id="i")
    h.add("a", "SubscriptionCanceled", utc(2026, 2, 8), reason="involuntary", comment=None)
    assert h.moves() == [(JAN, "new", 1000), (utc(2026, 2, 8), "churn", 1000)]


def test_a_second_subscription_is_expansion_not_new() -> None:
    h = History()
    h.start("a", JAN, 1000)
    h.start("b", FEB, 500)
    assert h.moves() == [(JAN, "new", 1000), (FEB, "expansion", 500)]


def test_canceling_one_of_two_subscriptions_is_contraction() -> None:
    h = History()
    h.start("a", JAN, 1000)
    h.start("b", JAN, 500)
    h.add("b", "SubscriptionCanceled", MAR, reason="voluntary", comment=None)
    assert h.moves() == [(JAN, "new", 1500), (MAR, "contraction", 500)]


def test_a_backdated_second_subscription_goes_where_it_was_effective() -> None:
    """b is recorded after a's signup but effective before it: b is the new one."""
    h = History()
    h.start("a", FEB, 1000)
    b = h.start("b", utc(2026, 1, 15), 500)
    h.change("a", MAR, 2000)
    timeline = mrr_timeline(h.envelopes)
    assert [(p.at, p.mrr["USD"]) for p in timeline] == [
        (utc(2026, 1, 15), 500), (FEB, 1500), (MAR, 2500),
    ]
    assert timeline[0].event_ids == (b,)
    assert h.moves() == [(utc(2026, 1, 15), "new", 500), (FEB, "expansion", 1000),
                         (MAR, "expansion", 1000)]


def test_churn_come_back_and_churn_again_counts_each() -> None:
    h = History()
    h.start("a", JAN, 1000)
    h.add("a", "SubscriptionCanceled", utc(2026, 1, 10), reason="voluntary", comment=None)
    h.start("b", utc(2026, 1, 20), 2000)
    h.add("b", "SubscriptionCanceled", utc(2026, 1, 25), reason="voluntary", comment=None)
    assert h.moves() == [
        (JAN, "new", 1000), (utc(2026, 1, 10), "churn", 1000),
        (utc(2026, 1, 20), "reactivation", 2000), (utc(2026, 1, 25), "churn", 2000),
    ]
    january = bridge(mrr_timeline(h.envelopes), "USD", JAN, FEB)
    assert (january.mrr_start, january.new, january.reactivation, january.churn) == (0, 1000, 2000, 3000)
    assert january.churned_customers == 2
    assert january.mrr_end == 0


def test_events_at_one_instant_are_one_point_and_at_most_one_movement() -> None:
    """A swap from one subscription to another at the same instant: one contraction."""
    h = History()
    h.start("a", JAN, 3000)
    cancel = h.add("a", "SubscriptionCanceled", FEB, reason="voluntary", comment=None)
    start = h.start("b", FEB, 1000)
    timeline = mrr_timeline(h.envelopes)
    assert [(p.at, p.mrr["USD"], p.event_ids) for p in timeline][1] == (FEB, 1000, (cancel, start))
    assert h.moves() == [(JAN, "new", 3000), (FEB, "contraction", 2000)]


def test_a_swap_at_the_same_price_moves_nothing() -> None:
    h = History()
    h.start("a", JAN, 1000)
    h.add("a", "SubscriptionCanceled", FEB, reason="voluntary", comment=None)
    h.start("b", FEB, 12000, interval="year")
    assert h.moves() == [(JAN, "new", 1000)]


def test_movements_are_per_currency() -> None:
    h = History()
    h.start("usd", JAN, 1000)
    h.start("eur", FEB, 900, currency="EUR")
    h.add("usd", "SubscriptionCanceled", MAR, reason="voluntary", comment=None)
    moves = movements(mrr_timeline(h.envelopes))
    assert [(m.at, m.currency, m.kind, m.amount) for m in moves] == [
        (JAN, "USD", "new", 1000), (FEB, "EUR", "new", 900), (MAR, "USD", "churn", 1000),
    ]


def test_a_repeating_coupon_end_is_an_expansion_at_that_instant() -> None:
    h = History()
    h.start("a", JAN, 1000, quantity=2)
    applied = h.coupon("a", JAN, percent_off="25", duration="repeating", ends_at=APR)
    moves = movements(mrr_timeline(h.envelopes))
    assert [(m.at, m.kind, m.amount) for m in moves] == [(JAN, "new", 1500), (APR, "expansion", 500)]
    assert moves[1].event_ids == (applied,)


def test_an_amount_coupon_taking_mrr_to_zero_is_churn_and_its_end_reactivation() -> None:
    h = History()
    h.start("a", JAN, 1000)
    h.coupon("a", FEB, amount_off=1000, duration="repeating", ends_at=APR)
    assert h.moves() == [(JAN, "new", 1000), (FEB, "churn", 1000), (APR, "reactivation", 1000)]


def test_opening_and_closing_mrr_of_a_period() -> None:
    """A period [start, end) opens with the MRR before start and closes with the MRR before
    end, so a movement exactly at start belongs to it and one exactly at end to the next."""
    h = History()
    h.start("a", FEB, 1000)
    h.change("a", MAR, 3000)
    timeline = mrr_timeline(h.envelopes)
    assert mrr_before(timeline, FEB) == {} and mrr_as_of(timeline, FEB) == {"USD": 1000}
    february = bridge(timeline, "USD", FEB, MAR)
    assert (february.mrr_start, february.new, february.expansion, february.mrr_end) == (0, 1000, 0, 1000)
    march = bridge(timeline, "USD", MAR, APR)
    assert (march.mrr_start, march.expansion, march.mrr_end) == (1000, 2000, 3000)


def test_a_history_of_several_subscribers_is_refused() -> None:
    h = History()
    h.start("a", JAN)
    other = History("subscriber-2")
    other.start("b", JAN)
    with pytest.raises(ValueError, match="one subscriber"):
        mrr_timeline(h.envelopes + [{**other.envelopes[0], "position": 99}])


def test_events_of_the_subscriber_itself_are_skipped() -> None:
    h = History()
    h.add("subscriber-1", "SubscriberRegistered", JAN, email="a@example.com", name="A", external_ref=None)
    h.start("a", FEB)
    assert [p.at for p in mrr_timeline(h.envelopes)] == [FEB]
    assert mrr_timeline([]) == []


# -- random histories ------------------------------------------------------------------------

BASE = utc(2026, 1, 1)
PRICES = [(0, "month"), (1000, "month"), (2500, "month"), (2700, "quarter"), (10000, "year"), (9999, "year")]


@st.composite
def subscription_stream(draw: st.DrawFn, name: str) -> list[tuple[str, datetime, dict[str, Any]]]:
    """A valid event sequence of one subscription: (type, effective_at, data)."""
    at = BASE + timedelta(hours=draw(st.integers(0, 24 * 90)))
    currency = draw(st.sampled_from(["USD", "USD", "EUR"]))

    def terms() -> dict[str, Any]:
        amount, interval = draw(st.sampled_from(PRICES))
        return {"plan_id": "p", "plan_version": 1, "tier": "t", "amount": amount,
                "currency": currency, "interval": interval, "quantity": draw(st.integers(1, 4))}

    status = draw(st.sampled_from(["active", "trialing"]))
    events = [("SubscriptionStarted", at, {**terms(), "status": status, "trial_end": None})]
    for _ in range(draw(st.integers(0, 10))):
        if status == "canceled":
            break
        at += timedelta(hours=draw(st.sampled_from([0, 1, 24, 24 * 7, 24 * 30, 24 * 45])))
        options = ["SubscriptionCanceled", "CouponApplied", "InvoiceIssued"]
        options += {
            "trialing": ["TrialEnded", "SubscriptionChanged"],
            "active": ["SubscriptionChanged", "SubscriptionPaused", "SubscriptionPastDue",
                       "SubscriptionRenewed"],
            "past_due": ["SubscriptionRecovered", "SubscriptionPaused", "SubscriptionChanged"],
            "paused": ["SubscriptionResumed"],
        }[status]
        kind = draw(st.sampled_from(options))
        data: dict[str, Any] = {}
        if kind == "SubscriptionChanged":
            data = {**terms(), "timing": "now"}
        elif kind == "CouponApplied":
            duration = draw(st.sampled_from(["once", "repeating", "forever"]))
            percent = draw(st.sampled_from(["10", "12.5", "100", None]))
            ends = at + timedelta(hours=draw(st.integers(1, 24 * 120)))
            data = {"coupon_id": "c", "percent_off": percent,
                    "amount_off": None if percent else draw(st.sampled_from([1, 500, 5000])),
                    "currency": None, "duration": duration, "duration_in_months": None,
                    "ends_at": isoformat(ends) if duration == "repeating" else None}
        elif kind == "InvoiceIssued":
            data = {"invoice_id": "i", "total": 0, "currency": currency, "lines": [], "amount_due": 0}
        elif kind == "SubscriptionResumed":
            data = {"status": "active"}
        status = {
            "TrialEnded": "active", "SubscriptionPaused": "paused", "SubscriptionResumed": "active",
            "SubscriptionPastDue": "past_due", "SubscriptionRecovered": "active",
            "SubscriptionCanceled": "canceled",
        }.get(kind, status)
        events.append((kind, at, data))
    return events


@st.composite
def subscriber_history(draw: st.DrawFn) -> list[dict[str, Any]]:
    """1-3 subscriptions of one subscriber, their events interleaved at random in the log
    (each subscription's own events in order; across subscriptions, effective times are
    independent, so the log is often out of effective order)."""
    names = ["a", "b", "c"][: draw(st.integers(1, 3))]
    streams = {name: draw(subscription_stream(name)) for name in names}
    order = draw(st.permutations([name for name in names for _ in streams[name]]))
    h = History()
    cursor = dict.fromkeys(names, 0)
    for name in order:
        kind, at, data = streams[name][cursor[name]]
        cursor[name] += 1
        h.add(name, kind, at, **data)
    return h.envelopes


def instants(envelopes: list[dict[str, Any]], timeline: list[MrrPoint]) -> list[datetime]:
    found = {datetime.fromisoformat(e["effective_at"]) for e in envelopes}
    found |= {p.at for p in timeline}
    found |= {datetime.fromisoformat(e["data"]["ends_at"]) for e in envelopes if e["data"].get("ends_at")}
    found.add(utc(2100, 1, 1))
    return sorted(found | {t + d for t in found for d in (timedelta(seconds=-1), timedelta(seconds=1))})


def oracle(envelopes: list[dict[str, Any]], instant: datetime) -> dict[str, Fraction]:
    """The subscriber's MRR as of ``instant``, from each subscription's events folded on their
    own (in the log's order, which is each subscription's effective order)."""
    states: dict[str, Any] = {}
    for e in envelopes:
        if datetime.fromisoformat(e["effective_at"]) <= instant:
            states[e["aggregate_id"]] = fold_subscription(states.get(e["aggregate_id"]), e)
    total: dict[str, Fraction] = {}
    for state in states.values():
        total[state.currency] = total.get(state.currency, Fraction(0)) + mrr_at(state, instant)
    return total


@settings(max_examples=150, deadline=None)
@given(subscriber_history(), st.data())
def test_mrr_bridges_for_random_histories(envelopes: list[dict[str, Any]], data: st.DataObject) -> None:
    timeline = mrr_timeline(envelopes)
    moves = movements(timeline)
    times = instants(envelopes, timeline)

    # The timeline is in effective order and is the MRR as of every instant.
    assert [p.at for p in timeline] == sorted({p.at for p in timeline})
    for t in times:
        expected = oracle(envelopes, t)
        assert mrr_as_of(timeline, t) == expected

    # Each movement explains its step; kinds follow docs/business-rules.md.
    for currency in {c for p in timeline for c in p.mrr}:
        own = [m for m in moves if m.currency == currency]
        assert all(m.amount > 0 and m.kind in MOVEMENT_KINDS for m in own)
        assert [m.kind for m in own[:1]] in ([], ["new"])
        assert sum(m.kind == "new" for m in own) == (1 if own else 0)
        for m in own:
            assert m.mrr_after - m.mrr_before == (m.amount if m.kind in ("new", "reactivation", "expansion") else -m.amount)
            assert (m.mrr_before == 0) == (m.kind in ("new", "reactivation"))
            assert (m.mrr_after == 0) == (m.kind == "churn")
        for before, after in zip(own, own[1:], strict=False):
            assert before.mrr_after == after.mrr_before

    # MRR(end) = MRR(start) + new + expansion + reactivation - contraction - churn, for any period.
    start = data.draw(st.sampled_from(times))
    end = data.draw(st.sampled_from([t for t in times if t >= start]))
    for currency in {c for p in timeline for c in p.mrr}:
        b = bridge(timeline, currency, start, end)
        assert b.mrr_end == b.mrr_start + b.new + b.expansion + b.reactivation - b.contraction - b.churn
        assert b.churned_customers == sum(
            1 for m in moves if m.currency == currency and m.kind == "churn" and start <= m.at < end
        )
        assert b.mrr_start == oracle(envelopes, start - timedelta(microseconds=1)).get(currency, 0)
