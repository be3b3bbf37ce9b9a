"""A demo book made fast: the demo generator's subscriber lives, decided by the real domain
aggregates and saved through the ``Ledger`` application many subscribers to a transaction.

``subledger demo`` drives one command (one load, one transaction) per action and a billing
clock over the whole book every month: about 32 minutes for 100k subscribers here. This
generator lives each subscriber's whole year in memory instead, with the same aggregate
methods the commands call (``Subscription.start``, ``change``, ``pause``, ``advance_to`` for
what the billing clock would do, the sandbox gateway for charges and refunds), then saves
``batch`` subscribers with their subscriptions, their stream links, billing agenda and
charge index in one ``save()``. The actions and their odds are the demo's; the log is in
subscriber batches rather than in time order (``recorded_at`` is the generation's clock
either way), which the read models do not depend on.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from subledger.commands.demo import COUPONS, DOWNGRADE, PLANS, TOKENS, UPGRADE, refund_choice
from subledger.commands.gateways import ChargeRequest
from subledger.commands.ledger import Ledger
from subledger.domain.charges import ChargeIntent, ChargeOutcome
from subledger.domain.errors import DomainError
from subledger.domain.periods import add_months
from subledger.domain.subscriber import Subscriber
from subledger.domain.subscription import Subscription
from subledger.store import SubscriberLink

BATCH = 250
"""Subscribers saved per transaction (about 5,000 events)."""

ACTIONS = (("change", 0.35), ("quantity", 0.2), ("pause", 0.08), ("refund", 0.05), ("cancel", 0.25))


@dataclass
class BookSummary:
    subscribers: int = 0
    subscriptions: int = 0
    refused: int = 0
    """Decisions the aggregates refused (as the commands would have)."""


def _actions(rng: random.Random, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """One subscriber's actions, in time order, with the demo's odds and spacing."""
    span = (end - start).total_seconds()
    at = start + timedelta(seconds=rng.uniform(0, span * 0.9))
    actions = [(at, "signup")]
    life = at
    for kind, chance in ACTIONS:
        if rng.random() < chance:
            life = life + timedelta(days=rng.uniform(5, 120))
            if life < end:
                actions.append((life, kind))
                if kind == "pause":
                    resume = life + timedelta(days=rng.uniform(10, 60))
                    if resume < end:
                        actions.append((resume, "resume"))
                if kind == "cancel" and rng.random() < 0.3:
                    back = life + timedelta(days=rng.uniform(20, 90))
                    if back < end:
                        actions.append((back, "reactivate"))
    return sorted(actions)


class _Life:
    """One subscriber's year, decided in memory."""

    def __init__(self, book: FastBook, index: int, rng: random.Random) -> None:
        self.book = book
        self.rng = rng
        self.index = index
        self.subscriber: Subscriber | None = None
        self.subscriptions: list[Subscription] = []
        self.plan = ""

    def pay(self, intent: ChargeIntent) -> ChargeOutcome:
        """``Ledger.take_charge`` with the subscriber in hand (it is not saved yet)."""
        assert self.subscriber is not None
        method = self.subscriber.payment_method
        assert method is not None
        gateway = self.book.ledger.payment_gateways[method["gateway"]]
        result = gateway.charge(ChargeRequest(
            idempotency_key=f"subledger-{intent.charge_id}", amount=intent.amount,
            currency=intent.currency, token=method["token"],
            customer_ref=str(self.subscriber.id), description=f"invoice {intent.invoice_id}",
            attempt=intent.attempt, metadata={"invoice_id": intent.invoice_id},
        ))
        return ChargeOutcome(result.succeeded, gateway.name, result.gateway_ref, result.decline_code)

    def settle(self, subscription: Subscription, instant: datetime) -> None:
        """``Settlement.settle``: everything due up to ``instant``, charges and refunds taken."""
        now = self.book.now
        while True:
            subscription.advance_to(instant, recorded_at=now, pay=self.pay)
            refunds = subscription.pending_refund_intents()
            if not refunds:
                return
            self.book.ledger.settlement.take_refunds(subscription, refunds, now)

    def decide(self, subscription: Subscription, at: datetime,
               decision: Callable[[Subscription], Any]) -> None:
        """A command on a subscription: what was due first, the decision, what it made due."""
        self.settle(subscription, at)
        before = len(subscription.pending_events)
        try:
            subscription.check_effective_at(at)
            decision(subscription)
        except DomainError:
            # Refused before deciding anything, as the command's probe would have been.
            assert len(subscription.pending_events) == before
            self.book.summary.refused += 1
            return
        self.settle(subscription, at)

    def subscribe(self, at: datetime) -> None:
        rng, book = self.rng, self.book
        plan_id = rng.choices([p[0] for p in PLANS], [30, 10, 25, 8, 10, 4])[0]
        coupon = rng.choice([None, None, None, "WELCOME20", "LOYAL10", "FIRST5"])
        quantity = rng.choice([1, 1, 1, 2, 3, 5, 10])
        assert self.subscriber is not None
        subscription = Subscription.start(
            subscriber_id=self.subscriber.id, terms=book.plans[plan_id].terms_at(at),
            quantity=quantity, trial_days=None, effective_at=at, recorded_at=book.now,
            coupon=book.coupons[coupon].terms() if coupon else None,
        )
        self.settle(subscription, at)
        self.subscriptions.append(subscription)
        self.plan = plan_id

    def live(self, start: datetime, end: datetime) -> None:
        rng, now = self.rng, self.book.now
        for at, kind in _actions(rng, start, end):
            if kind == "signup":
                self.subscriber = Subscriber.register(
                    email=f"subscriber{self.index}@example.com", name=f"Subscriber {self.index}",
                    external_ref=f"demo-{self.index}", effective_at=at, recorded_at=now)
                token = rng.choices([t for t, _ in TOKENS], [w for _, w in TOKENS])[0]
                self.subscriber.set_payment_method(gateway="sandbox", token=token,
                                                   effective_at=at, recorded_at=now)
                self.subscribe(at)
            elif kind == "reactivate":
                self.subscribe(at)
            else:
                self.act(self.subscriptions[-1], at, kind)
        for subscription in self.subscriptions:
            self.settle(subscription, end)  # the billing clock's last run

    def act(self, subscription: Subscription, at: datetime, kind: str) -> None:
        rng, now, plans = self.rng, self.book.now, self.book.plans
        if kind == "change":
            target = UPGRADE.get(self.plan) if rng.random() < 0.7 else DOWNGRADE.get(self.plan)
            if target:
                when = "now" if rng.random() < 0.6 else "period_end"
                self.decide(subscription, at, lambda s: s.change(
                    terms=plans[target].terms_at(at), quantity=None, when=when,
                    effective_at=at, recorded_at=now))
                if when == "now":
                    self.plan = target
        elif kind == "quantity":
            quantity, when = rng.randint(2, 25), rng.choice(["now", "period_end"])
            self.decide(subscription, at, lambda s: s.change(
                terms=None, quantity=quantity, when=when, effective_at=at, recorded_at=now))
        elif kind == "pause":
            self.decide(subscription, at, lambda s: s.pause(effective_at=at, recorded_at=now))
        elif kind == "resume":
            self.decide(subscription, at, lambda s: s.resume(effective_at=at, recorded_at=now))
        elif kind == "refund":
            self.settle(subscription, at)
            refund = refund_choice(rng, subscription)
            if refund is not None:
                charge_id, amount = refund
                self.decide(subscription, at, lambda s: s.request_refund(
                    charge_id, amount, reason="requested_by_customer", effective_at=at,
                    recorded_at=now))
        elif kind == "cancel":
            when = rng.choice(["now", "period_end", "period_end"])
            self.decide(subscription, at, lambda s: s.cancel(
                when=when, at=None, comment="demo churn", effective_at=at, recorded_at=now))


class FastBook:
    def __init__(self, ledger: Ledger, *, months: int, end: datetime, seed: int) -> None:
        self.ledger = ledger
        self.now = ledger.clock()
        self.end = end.replace(microsecond=0) - timedelta(minutes=1)
        self.start = add_months(self.end, -months)
        self.rng = random.Random(seed)
        self.summary = BookSummary()
        for plan_id, name, tier, amount, interval, trial in PLANS:
            try:
                ledger.catalog.create_plan(plan_id=plan_id, name=name, tier=tier, currency="USD",
                                   amount=amount, interval=interval, trial_days=trial,
                                   effective_at=self.start)
            except DomainError:
                pass  # made by an earlier step of the same book
        for coupon in COUPONS:
            try:
                ledger.catalog.create_coupon(**coupon, effective_at=self.start)
            except DomainError:
                pass
        self.plans = {p[0]: ledger.catalog.get_plan(p[0]) for p in PLANS}
        self.coupons = {c["coupon_id"]: ledger.catalog.get_coupon(c["coupon_id"]) for c in COUPONS}

    def add(self, subscribers: int, *, first: int, batch: int = BATCH) -> BookSummary:
        """``subscribers`` more subscribers (numbered from ``first``), ``batch`` a save."""
        for offset in range(0, subscribers, batch):
            lives = []
            for index in range(first + offset, first + min(offset + batch, subscribers)):
                life = _Life(self, index, self.rng)
                life.live(self.start, self.end)
                lives.append(life)
            self._save(lives)
        return self.summary

    def _save(self, lives: list[_Life]) -> None:
        aggregates: list[Any] = []
        links = []
        for life in lives:
            assert life.subscriber is not None
            aggregates += [life.subscriber, *life.subscriptions]
            links += [SubscriberLink(life.subscriber.id, a.id) for a in (life.subscriber, *life.subscriptions)]
            self.summary.subscribers += 1
            self.summary.subscriptions += len(life.subscriptions)
        # The commands' own save (``Ledger._commit``): events, stream links, billing agenda and
        # charge index in one transaction, as one command would, for many subscribers at once.
        self.ledger.store.commit(*aggregates, result=None, idempotency=None, links=links)
