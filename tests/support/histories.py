"""Random histories of one subscription, for the domain's properties: hypothesis strategies
of commands and the instants they run at, and a player that runs them as the application
does.

A step is a command at an instant no earlier than the previous step's. As the application
does, a step first performs what is due up to its instant, taking every charge due to the
subscriber's card (which a step may replace by one that declines), then the command, then
the charges the command made due. A refused command (a DomainError) is handled as the
application does: the aggregate is discarded and reloaded from the events recorded so far.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from subledger.domain.billing_schedule import caught_up_before
from subledger.domain.charges import Payer
from subledger.domain.errors import DomainError
from subledger.domain.plans import PlanTerms
from subledger.domain.subscription import Subscription

from .factories import PAYERS, RECORDED_AT, pay_ok, plan_terms, replay, start_subscription

USD_PLANS = [
    plan_terms("basic", amount=1000),
    plan_terms("basic", version=2, amount=1500),
    plan_terms("pro", amount=3000, trial_days=14),
    plan_terms("team", amount=2700, interval="quarter"),
    plan_terms("annual", amount=10000, interval="year"),
    plan_terms("free", amount=0),
]
EUR_PLAN = plan_terms("euro", amount=1000, currency="EUR")


@st.composite
def signup_instants(draw: st.DrawFn) -> datetime:
    """An instant in 2024-2027, on a month-end day (28-31) half of the time."""
    year, month = draw(st.integers(2024, 2027)), draw(st.integers(1, 12))
    last = calendar.monthrange(year, month)[1]
    day = draw(st.one_of(st.integers(1, last), st.integers(last - 3, last)))
    return datetime(year, month, day, draw(st.integers(0, 23)), draw(st.sampled_from([0, 30])),
                    tzinfo=UTC)


# How far after the previous step a command runs; "due" means exactly at the next due instant.
gaps = st.one_of(
    st.just(timedelta(0)),
    st.just("due"),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=5)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=120)),
)

change_commands = st.tuples(
    st.just("change"), gaps,
    st.sampled_from([*USD_PLANS, EUR_PLAN, None]),
    st.one_of(st.none(), st.integers(1, 3)),
    st.sampled_from(["now", "period_end"]),
)
# Weighted by repetition: changes and the clock often, a cancel (which ends the story) rarely.
commands = st.one_of(
    change_commands,
    change_commands,
    st.tuples(st.just("advance"), gaps),
    change_commands,
    st.tuples(st.just("advance"), gaps),
    st.tuples(st.just("pause"), gaps),
    st.tuples(st.just("resume"), gaps),
    st.tuples(st.just("resume"), gaps),
    st.tuples(
        st.just("cancel"), gaps, st.sampled_from(["now", "period_end", "period_end", "at", "at"]),
        st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=90)),
    ),
    st.tuples(st.just("revoke"), gaps),
    # The subscriber's card is replaced: by one that pays, one that declines every charge,
    # or one that declines the first attempt at each invoice.
    st.tuples(st.just("card"), gaps, st.sampled_from(sorted(PAYERS))),
    st.tuples(st.just("card"), gaps, st.sampled_from(sorted(PAYERS))),
)


def change(sub: Subscription, command: tuple[Any, ...], at: datetime) -> None:
    """The command itself of a ``change`` step (what is due is performed already)."""
    _, _, terms, quantity, when = command
    sub.change(terms=terms, quantity=quantity, when=when, effective_at=at, recorded_at=RECORDED_AT)


def run(sub: Subscription, command: tuple[Any, ...], at: datetime, pay: Payer) -> None:
    kind = command[0]
    # The application catches up first (a cancellation or a pause to just before its instant).
    ends_service = kind in ("pause", "cancel")
    sub.advance_to(caught_up_before(at) if ends_service else at, recorded_at=RECORDED_AT, pay=pay)
    if kind == "advance":
        pass
    elif kind == "change":
        change(sub, command, at)
    elif kind == "pause":
        sub.pause(effective_at=at, recorded_at=RECORDED_AT)
    elif kind == "resume":
        sub.resume(effective_at=at, recorded_at=RECORDED_AT)
    elif kind == "cancel":
        _, _, when, later = command
        sub.cancel(when=when, at=at + later if when == "at" else None, comment=None,
                   effective_at=at, recorded_at=RECORDED_AT)
    else:
        sub.revoke_cancellation(effective_at=at, recorded_at=RECORDED_AT)
    sub.advance_to(at, recorded_at=RECORDED_AT, pay=pay)  # the charges the command made due


def next_instant(sub: Subscription, now: datetime, gap: Any) -> datetime:
    if gap == "due":
        due = sub.next_due()
        return due if due is not None and due > now else now
    return now + gap


@dataclass
class History:
    subscription: Subscription
    """As the last step left it, its events collected."""
    events: list[Any]
    """Every event recorded, in order."""
    now: datetime
    """The last step's instant."""
    pay: Payer
    """The subscriber's card after the last step."""


def play(signup: datetime, terms: PlanTerms, trial_days: int | None, steps: list[tuple[Any, ...]],
         *, check: Callable[[Subscription, datetime], None] | None = None) -> History:
    """A subscription started at ``signup`` with a card that pays, then ``steps`` (``check``
    is called after each step that was not refused)."""
    pay = pay_ok
    sub = start_subscription(terms, at=signup, trial_days=trial_days, pay=pay)
    events = sub.collect_events()
    now = signup
    for command in steps:
        now = next_instant(sub, now, command[1])
        if command[0] == "card":
            pay = PAYERS[command[2]]
            continue
        try:
            run(sub, command, now, pay)
        except DomainError:
            sub = replay(events)  # the application discards the aggregate
            continue
        events.extend(sub.collect_events())
        if check is not None:
            check(sub, now)
    return History(sub, events, now, pay)
