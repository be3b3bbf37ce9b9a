"""Realistic, reproducible history, made through the real commands and the billing clock.

Three tiers with monthly and yearly plans, trials, coupons, upgrades, downgrades, seat
changes, pauses, failed cards and dunning, refunds, corrections (voids, write-offs, retries,
credit notes, balance adjustments), voluntary churn and reactivation. The
same seed gives the same history (ids aside): every choice comes from one seeded
``random.Random``, and times are laid out from the end of the window backwards.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from subledger.domain.errors import DomainError
from subledger.domain.periods import add_months
from subledger.domain.subscription import Subscription
from subledger.store.collector import paused

from .billing import run_billing
from .demo_corrections import correct, dunning_followup
from .ledger import Ledger

PLANS = [
    # plan_id, name, tier, amount, interval, trial_days
    ("basic-m", "Basic monthly", "basic", 1900, "month", 14),
    ("basic-y", "Basic yearly", "basic", 19000, "year", 0),
    ("pro-m", "Pro monthly", "pro", 4900, "month", 14),
    ("pro-y", "Pro yearly", "pro", 49000, "year", 0),
    ("platinum-m", "Platinum monthly", "platinum", 14900, "month", 0),
    ("platinum-y", "Platinum yearly", "platinum", 149000, "year", 0),
]
UPGRADE = {"basic-m": "pro-m", "pro-m": "platinum-m", "basic-y": "pro-y", "pro-y": "platinum-y"}
DOWNGRADE = {v: k for k, v in UPGRADE.items()}
COUPONS = [
    {"coupon_id": "WELCOME20", "percent_off": 20, "duration": "repeating", "duration_in_months": 3},
    {"coupon_id": "LOYAL10", "percent_off": 10, "duration": "forever"},
    {"coupon_id": "FIRST5", "amount_off": 500, "currency": "USD", "duration": "once"},
]
TOKENS = [("tok_visa", 0.86), ("tok_fail_first", 0.09), ("tok_chargeDeclined", 0.05)]

Progress = Callable[[int, int], None]


@dataclass
class DemoSummary:
    subscribers: int = 0
    commands: int = 0
    refused: int = 0
    """Commands the ledger refused (e.g. pausing a subscription dunning just canceled)."""
    billing_runs: int = 0
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(order=True)
class _Action:
    at: datetime
    seq: int
    kind: str = field(compare=False)
    subscriber: int = field(compare=False)
    args: dict[str, Any] = field(compare=False, default_factory=dict)


def generate(
    ledger: Ledger, *, subscribers: int, months: int, seed: int = 1,
    progress: Progress | None = None, end: datetime | None = None, batched: bool = True,
) -> DemoSummary:
    """Make the book. ``batched`` (the default) saves each simulated day's commands in one
    transaction (:meth:`LedgerStore.batch`); without it every command saves on its own,
    the same book, about ten times slower."""
    # The collector off: the batch keeps every aggregate it saved, millions of objects at
    # full size, and a full pass over them inside a save's transaction outlasted the
    # library's 5-second idle-in-transaction timeout (100,000 subscribers x 24 months died
    # at about 3 million events; without it the run took 8.5 minutes, peak 1.9 GB).
    with ledger.store.batch() if batched else nullcontext(), paused():
        return _generate(ledger, subscribers, months, seed, progress, end)


def _generate(ledger: Ledger, subscribers: int, months: int, seed: int,
              progress: Progress | None, end: datetime | None) -> DemoSummary:
    rng = random.Random(seed)
    end = (end or ledger.clock()).replace(microsecond=0) - timedelta(minutes=1)
    start = add_months(end, -months)
    summary = DemoSummary()
    _open_catalog(ledger, start, summary)
    actions = _schedule(rng, subscribers, start, end)
    actions += _corrections(random.Random(seed * 7919 + 1), subscribers, start, end, len(actions))
    actions.sort()
    month_ends = [add_months(start, k) for k in range(1, months + 1)] + [end]
    state = _play(ledger, rng, seed, actions, month_ends, end, summary, progress)
    summary.subscribers = len(state)
    return summary


def _open_catalog(ledger: Ledger, start: datetime, summary: DemoSummary) -> None:
    for plan_id, name, tier, amount, interval, trial in PLANS:
        _try(summary, lambda p=plan_id, n=name, t=tier, a=amount, i=interval, d=trial:
             ledger.catalog.create_plan(plan_id=p, name=n, tier=t, currency="USD", amount=a,
                                interval=i, trial_days=d, effective_at=start))
    for coupon in COUPONS:
        _try(summary, lambda c=coupon: ledger.catalog.create_coupon(**c, effective_at=start))


def _schedule(rng: random.Random, subscribers: int, start: datetime,
              end: datetime) -> list[_Action]:
    """Each subscriber's signup and what happens to them after, in the order drawn."""
    actions: list[_Action] = []
    span = (end - start).total_seconds()
    for i in range(subscribers):
        at = start + timedelta(seconds=rng.uniform(0, span * 0.9))
        actions.append(_Action(at, len(actions), "signup", i))
        life = at
        for kind, chance in (("change", 0.35), ("quantity", 0.2), ("pause", 0.08),
                             ("refund", 0.05), ("cancel", 0.25)):
            if rng.random() < chance:
                life = life + timedelta(days=rng.uniform(5, 120))
                if life < end:
                    actions.append(_Action(life, len(actions), kind, i))
                    if kind == "pause":
                        resume = life + timedelta(days=rng.uniform(10, 60))
                        if resume < end:
                            actions.append(_Action(resume, len(actions), "resume", i))
                    if kind == "cancel" and rng.random() < 0.3:
                        back = life + timedelta(days=rng.uniform(20, 90))
                        if back < end:
                            actions.append(_Action(back, len(actions), "reactivate", i))
    return actions


def _play(ledger: Ledger, rng: random.Random, seed: int, actions: list[_Action],
          month_ends: list[datetime], end: datetime, summary: DemoSummary,
          progress: Progress | None) -> dict[int, dict[str, Any]]:
    """Perform the actions in time order, the billing clock run at each month's end and
    the dunning follow-ups queued as signups meet them; returns each subscriber's state."""
    state: dict[int, dict[str, Any]] = {}
    total = len(actions) + len(month_ends)
    done = 0
    heapq.heapify(actions)
    day = None
    while actions:
        action = heapq.heappop(actions)
        if action.at.date() != day:
            ledger.store.flush()  # one transaction per simulated day
            day = action.at.date()
        while month_ends and month_ends[0] <= action.at:
            _bill(ledger, month_ends.pop(0))
            summary.billing_runs += 1
            done += 1
        _perform(ledger, rng, action, state, summary)
        if action.kind == "signup" and state[action.subscriber]["sub"] is not None:
            follow = dunning_followup(ledger, state[action.subscriber]["sub"],
                                      random.Random(seed * 31 + action.subscriber))
            if follow is not None and follow[0] < end:
                heapq.heappush(actions, _Action(follow[0], total, "correction",
                                                action.subscriber, {"seed": follow[1]}))
                total += 1
        done += 1
        if progress is not None:
            progress(done, total)
    for boundary in month_ends:
        _bill(ledger, boundary)
        summary.billing_runs += 1
        done += 1
        if progress is not None:
            progress(done, total)
    return state


def _bill(ledger: Ledger, until: datetime) -> None:
    # The billing clock reads its agenda from the store: everything before it is saved first.
    ledger.store.flush()
    run_billing(ledger, until)


def _corrections(rng: random.Random, subscribers: int, start: datetime, end: datetime,
                 seq: int) -> list[_Action]:
    """A correction for about one subscriber in three, drawn from a generator of its own so
    that the rest of the book is drawn as before."""
    span = (end - start).total_seconds()
    return [_Action(start + timedelta(seconds=rng.uniform(span * 0.1, span)), seq + k,
                    "correction", i, {"seed": rng.getrandbits(32)})
            for k, i in enumerate(i for i in range(subscribers) if rng.random() < 0.3)]


def _try(summary: DemoSummary, command: Callable[[], Any]) -> Any:
    summary.commands += 1
    try:
        return command()
    except DomainError:
        summary.refused += 1
        return None


def _perform(ledger: Ledger, rng: random.Random, action: _Action,
             state: dict[int, dict[str, Any]], summary: DemoSummary) -> None:
    at = action.at
    summary.counts[action.kind] = summary.counts.get(action.kind, 0) + 1
    if action.kind == "signup":
        subscriber = ledger.subscribers.register(
            email=f"subscriber{action.subscriber}@example.com",
            name=f"Subscriber {action.subscriber}", external_ref=f"demo-{action.subscriber}",
            effective_at=at,
        )
        summary.commands += 1
        token = rng.choices([t for t, _ in TOKENS], [w for _, w in TOKENS])[0]
        _try(summary, lambda: ledger.subscribers.set_payment_method(subscriber.id, gateway="sandbox",
                                                        token=token, effective_at=at))
        state[action.subscriber] = {"id": subscriber.id, "sub": None}
        _subscribe(ledger, rng, state[action.subscriber], at, summary)
        return
    entry = state.get(action.subscriber)
    if entry is None:
        return
    sub_id: UUID | None = entry["sub"]
    if action.kind == "reactivate":
        _subscribe(ledger, rng, entry, at, summary)
        return
    if sub_id is None:
        return
    if action.kind == "change":
        plan_id = entry["plan"]
        target = UPGRADE.get(plan_id) if rng.random() < 0.7 else DOWNGRADE.get(plan_id)
        if target:
            when = "now" if rng.random() < 0.6 else "period_end"
            if _try(summary, lambda: ledger.subscriptions.change(sub_id, plan_id=target, when=when,
                                                                 effective_at=at)) and when == "now":
                entry["plan"] = target
    elif action.kind == "quantity":
        _try(summary, lambda: ledger.subscriptions.change(sub_id, quantity=rng.randint(2, 25),
                                                         when=rng.choice(["now", "period_end"]),
                                                         effective_at=at))
    elif action.kind == "pause":
        _try(summary, lambda: ledger.subscriptions.pause(sub_id, effective_at=at))
    elif action.kind == "resume":
        _try(summary, lambda: ledger.subscriptions.resume(sub_id, effective_at=at))
    elif action.kind == "refund":
        refund = refund_choice(rng, ledger.subscriptions.get(sub_id))
        if refund is not None:
            charge_id, amount = refund
            _try(summary, lambda: ledger.payments.refund_charge(charge_id, amount=amount,
                                                       reason="requested_by_customer", effective_at=at))
    elif action.kind == "correction":
        _try(summary, lambda: correct(ledger, random.Random(action.args["seed"]), sub_id, at))
    elif action.kind == "cancel":
        when = rng.choice(["now", "period_end", "period_end"])
        _try(summary, lambda: ledger.subscriptions.cancel(sub_id, when=when, reason="demo churn",
                                                         effective_at=at))


def refund_choice(rng: random.Random, subscription: Subscription) -> tuple[str, int] | None:
    """The demo's refund: the last charge with something left to refund, in full or half."""
    refundable = [(c, left) for c in subscription.charges if (left := subscription.refundable(c)) > 0]
    if not refundable:
        return None
    charge_id, amount = refundable[-1]
    if rng.random() < 0.5:
        amount = max(1, amount // 2)
    return charge_id, amount


def _subscribe(ledger: Ledger, rng: random.Random, entry: dict[str, Any], at: datetime,
               summary: DemoSummary) -> None:
    plan_id = rng.choices([p[0] for p in PLANS], [30, 10, 25, 8, 10, 4])[0]
    coupon = rng.choice([None, None, None, "WELCOME20", "LOYAL10", "FIRST5"])
    quantity = rng.choice([1, 1, 1, 2, 3, 5, 10])
    subscription = _try(summary, lambda: ledger.subscriptions.start(
        entry["id"], plan_id=plan_id, quantity=quantity, coupon=coupon, effective_at=at))
    if subscription is not None:
        entry["sub"], entry["plan"] = subscription.id, plan_id


