"""Properties of the subscription aggregate under random command sequences (the histories
of ``support.histories``). Any exception other than a refused command (a DomainError) fails
the property.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.factories import (
    PAYERS,
    RECORDED_AT,
    event_names,
    replay,
    start_subscription,
    state,
)
from support.histories import USD_PLANS, commands, play, signup_instants

from subledger.domain.lifecycle import (
    ACTIVE,
    BILLED_STATUSES,
    CANCELED,
    PAST_DUE,
    PAUSED,
    STATUSES,
    TRIALING,
)
from subledger.domain.periods import nth_period
from subledger.domain.plans import PlanTerms
from subledger.domain.subscription import Subscription

RETRY_DAYS = [3, 5, 7]
"""Dunning (docs/business-rules.md): retries 3, 5 and 7 days after the first failed attempt."""


def check_state_invariants(sub: Subscription, now: datetime) -> None:
    """``sub`` has just been caught up to ``now``."""
    last = sub.last_effective_at
    assert sub.status in STATUSES
    due = sub.next_due()
    assert due is None or due > now, "nothing due by now is left undone"
    in_dunning = any(i["first_failure_at"] is not None for i in sub.open_invoices.values())
    if sub.status in BILLED_STATUSES:
        assert (sub.status == PAST_DUE) == in_dunning
    if sub.status != CANCELED:
        for invoice in sub.open_invoices.values():
            assert invoice["amount_due"] > 0
            assert invoice["next_attempt_at"] is not None and invoice["next_attempt_at"] > now
            assert invoice["attempts"] <= len(RETRY_DAYS)
    assert sub.credit_balance >= 0
    if sub.status == TRIALING:
        assert sub.billing_anchor is None
        assert sub.trial_end is not None and sub.trial_end > last
    if sub.status in BILLED_STATUSES:
        assert sub.billing_anchor is not None
        period = nth_period(sub.billing_anchor, sub.interval, sub.period_number)
        assert (sub.current_period_start, sub.current_period_end) == (period.start, period.end)
        assert period.contains(last)
    if sub.status == PAUSED:
        assert sub.paused_at is not None and sub.paused_at <= last
    if sub.status == CANCELED:
        assert sub.canceled_at is not None and sub.next_due() is None
        assert sub.cancel_at is None and sub.scheduled_change is None
    elif sub.cancel_at is not None:
        assert sub.cancel_at > last
    if sub.scheduled_change is not None:
        assert sub.status != CANCELED


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    signup=signup_instants(),
    terms=st.sampled_from(USD_PLANS),
    trial_days=st.sampled_from([None, 0, 7, 30]),
    steps=st.lists(commands, min_size=3, max_size=25),
)
def test_random_command_sequences_keep_effective_order_and_replay_to_the_same_state(
    signup: datetime, terms: PlanTerms, trial_days: int | None, steps: list[tuple[Any, ...]]
) -> None:
    history = play(signup, terms, trial_days, steps, check=check_state_invariants)
    sub, events, now = history.subscription, history.events, history.now

    effective = [e.effective_at for e in events]
    assert effective == sorted(effective)
    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
    assert all(e.effective_at <= now for e in events)
    assert event_names(events)[0] == "SubscriptionStarted"
    assert event_names(events).count("SubscriptionCanceled") <= 1
    if sub.status == CANCELED:
        assert event_names(events)[-1] == "SubscriptionCanceled"
    check_charges(events)

    rebuilt = replay(events)
    assert state(rebuilt) == state(sub)


def check_charges(events: list[Any]) -> None:
    """Each invoice with an amount due is charged that amount, in attempts 1, 2, ... at its
    issue, then 3, 5 and 7 days after the first failure; a success ends the attempts; a
    failed 4th attempt cancels the subscription (involuntary). Past due on a first failure
    of an active subscription, recovered when no invoice is left in dunning."""
    invoices = {e.invoice_id: e for e in events if type(e).__name__ == "InvoiceIssued"}
    attempts: dict[str, list[Any]] = {}
    for i, event in enumerate(events):
        name = type(event).__name__
        if name not in ("ChargeSucceeded", "ChargeFailed"):
            continue
        invoice = invoices[event.invoice_id]
        assert invoice.amount_due > 0
        assert (event.amount, event.currency) == (invoice.amount_due, invoice.currency)
        tried = attempts.setdefault(event.invoice_id, [])
        assert not any(type(e).__name__ == "ChargeSucceeded" for e in tried), "no charge after a success"
        assert event.attempt == len(tried) + 1
        if event.attempt == 1:
            assert event.effective_at == invoice.effective_at
        else:
            first_failure = tried[0].effective_at
            assert event.effective_at == first_failure + timedelta(days=RETRY_DAYS[event.attempt - 2])
        tried.append(event)
        if name == "ChargeFailed" and event.attempt == len(RETRY_DAYS) + 1:
            assert event.next_attempt_at is None
            assert event_names(events[i + 1:i + 2]) == ["SubscriptionCanceled"]
            assert events[i + 1].reason == "involuntary"
            assert events[i + 1].effective_at == event.effective_at
        elif name == "ChargeFailed":
            retry = tried[0].effective_at + timedelta(days=RETRY_DAYS[event.attempt - 1])
            assert event.next_attempt_at == retry
    for invoice_id, invoice in invoices.items():
        if invoice.amount_due > 0 and invoice.reason != "manual":
            assert len(attempts.get(invoice_id, [])) <= len(RETRY_DAYS) + 1
    # Status events follow the charge they come from, at its instant.
    for i, event in enumerate(events):
        if type(event).__name__ in ("SubscriptionPastDue", "SubscriptionRecovered"):
            before = events[i - 1]
            expected = "ChargeFailed" if type(event).__name__ == "SubscriptionPastDue" else "ChargeSucceeded"
            assert type(before).__name__ == expected
            assert (before.invoice_id, before.effective_at) == (event.invoice_id, event.effective_at)


@settings(max_examples=100, deadline=None)
@given(
    signup=signup_instants(),
    terms=st.sampled_from(USD_PLANS),
    trial_days=st.sampled_from([None, 0, 7, 30]),
    hops=st.lists(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=200)), max_size=6),
    card=st.sampled_from(sorted(PAYERS)),
)
def test_advancing_in_hops_records_the_same_events_as_advancing_at_once(
    signup: datetime, terms: PlanTerms, trial_days: int | None, hops: list[timedelta], card: str,
) -> None:
    pay = PAYERS[card]
    stepwise = start_subscription(terms, at=signup, trial_days=trial_days)
    at_once = replay(stepwise.collect_events())
    target = signup
    stepwise_events: list[Any] = []
    for hop in [timedelta(0), *hops]:  # the first hop takes the signup's charge
        target += hop
        stepwise.advance_to(target, recorded_at=RECORDED_AT, pay=pay)
        stepwise_events.extend(stepwise.collect_events())

    at_once.advance_to(target, recorded_at=RECORDED_AT, pay=pay)
    at_once_events = at_once.collect_events()

    def summary(events: list[Any]) -> list[tuple[Any, ...]]:
        return [(type(e).__name__, e.effective_at, e.originator_version) for e in events]

    assert summary(stepwise_events) == summary(at_once_events)
    assert state(stepwise) == state(at_once)
    if card == "ok" or terms.amount == 0:
        assert stepwise.status in (TRIALING, ACTIVE)
    elif card == "fail_first":
        assert stepwise.status in (TRIALING, ACTIVE, PAST_DUE)
    else:
        assert stepwise.status in (TRIALING, PAST_DUE, CANCELED)
