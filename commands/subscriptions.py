"""Subscriptions: starting one, and the lifecycle commands on it.

A command on a subscription first performs what is due up to its ``effective_at`` (charges
included), then decides, then takes the charges its decision makes due (see
:mod:`.settlement`).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from subledger.domain.billing_schedule import caught_up_before
from subledger.domain.errors import NotYetAvailable
from subledger.domain.subscription import Subscription
from subledger.domain.time import isoformat
from subledger.store import SubscriberLink

from .catalog import Catalog
from .idempotency import IdempotentRequest
from .settlement import Decide, Decision, Settlement, load_subscription
from .store import LedgerStore
from .subscribers import Subscribers


class Subscriptions:
    def __init__(self, store: LedgerStore, catalog: Catalog, subscribers: Subscribers,
                 settlement: Settlement) -> None:
        self.store = store
        self.catalog = catalog
        self.subscribers = subscribers
        self.settlement = settlement

    def start(
        self, subscriber_id: UUID, *, plan_id: str, quantity: int = 1,
        trial_days: int | None = None, coupon: str | None = None,
        effective_at: datetime | None = None, idempotency: IdempotentRequest | None = None,
    ) -> Subscription:
        effective, now = self.store.times(effective_at)
        subscriber = self.subscribers.get(subscriber_id)
        subscriber.check_not_forgotten()
        plan = self.catalog.plan_reference(plan_id)
        # A coupon given is looked up even when empty: "" names no coupon (422), it is not
        # the absence of one, which would silently charge the full price.
        coupon_terms = (None if coupon is None
                        else self.catalog.coupon_reference(coupon).offered_at(effective))
        if effective < subscriber.registered_at:
            raise NotYetAvailable(
                f"subscriber {subscriber_id} was registered at {isoformat(subscriber.registered_at)},"
                f" after effective_at {isoformat(effective)}"
            )
        subscription = Subscription.start(
            subscriber_id=subscriber.id, terms=plan.offered_at(effective), quantity=quantity,
            trial_days=trial_days, effective_at=effective, recorded_at=now, coupon=coupon_terms,
        )
        decision = Decision(idempotency, links=(SubscriberLink(subscriber.id, subscription.id),))
        return self.settlement.settle(subscription, effective, now, decision=decision).answer

    def get(self, subscription_id: UUID) -> Subscription:
        return load_subscription(self.store, subscription_id)

    def change(
        self, subscription_id: UUID, *, plan_id: str | None = None, quantity: int | None = None,
        when: str = "now", effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Subscription:
        decide = self.change_decision(plan_id=plan_id, quantity=quantity, when=when)
        return self._decide(subscription_id, effective_at, idempotency, decide)

    def change_decision(self, *, plan_id: str | None, quantity: int | None, when: str) -> Decide:
        """The decision of a change (the plan it names is resolved now: an unknown one is
        refused before anything is loaded); its preview runs the same one."""
        plan = self.catalog.plan_reference(plan_id) if plan_id is not None else None

        def decide(sub: Subscription, effective: datetime, now: datetime) -> None:
            terms = plan.change_terms(sub.plan_id, effective) if plan is not None else None
            sub.change(terms=terms, quantity=quantity, when=when, effective_at=effective,
                       recorded_at=now)

        return decide

    def cancel(
        self, subscription_id: UUID, *, when: str = "now", at: datetime | None = None,
        reason: str | None = None, effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Subscription:
        def decide(sub: Subscription, effective: datetime, now: datetime) -> None:
            sub.cancel(when=when, at=at, comment=reason, effective_at=effective, recorded_at=now)

        return self._decide(subscription_id, effective_at, idempotency, decide, ends_service=True)

    def revoke_cancellation(
        self, subscription_id: UUID, *, effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Subscription:
        def decide(sub: Subscription, effective: datetime, now: datetime) -> None:
            sub.revoke_cancellation(effective_at=effective, recorded_at=now)

        return self._decide(subscription_id, effective_at, idempotency, decide)

    def pause(
        self, subscription_id: UUID, *, effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Subscription:
        def decide(sub: Subscription, effective: datetime, now: datetime) -> None:
            sub.pause(effective_at=effective, recorded_at=now)

        return self._decide(subscription_id, effective_at, idempotency, decide, ends_service=True)

    def resume(
        self, subscription_id: UUID, *, effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Subscription:
        def decide(sub: Subscription, effective: datetime, now: datetime) -> None:
            sub.resume(effective_at=effective, recorded_at=now)

        return self._decide(subscription_id, effective_at, idempotency, decide)

    def apply_coupon(
        self, subscription_id: UUID, *, coupon: str, effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Subscription:
        def decide(sub: Subscription, effective: datetime, now: datetime) -> None:
            terms = self.catalog.coupon_reference(coupon).offered_at(effective)
            sub.apply_coupon(terms, effective_at=effective, recorded_at=now)

        return self._decide(subscription_id, effective_at, idempotency, decide)

    def command_at(self, subscription_id: UUID,
                   effective_at: datetime | None) -> tuple[Subscription, datetime, datetime]:
        """The subscription a command is on, and the command's (effective_at, recorded_at),
        refused if effective_at is earlier than the subscription's last event."""
        subscription = self.get(subscription_id)
        # The clock is read after loading: a default effective_at is then never earlier than
        # the last event of the version loaded, and losing a race is a concurrent change.
        effective, now = self.store.times(effective_at)
        subscription.check_effective_at(effective)
        return subscription, effective, now

    def _decide(self, subscription_id: UUID, effective_at: datetime | None,
                idempotency: IdempotentRequest | None, decide: Decide,
                ends_service: bool = False) -> Subscription:
        """``ends_service``: the command ends the service at its instant (a cancellation, a
        pause), so it is caught up only to just before it, as the aggregate does."""
        subscription, effective, now = self.command_at(subscription_id, effective_at)
        before = caught_up_before(effective) if ends_service else None
        return self.settlement.decide(subscription, effective, now, decide, idempotency,
                                      catch_up_to=before)[0]
