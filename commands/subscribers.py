"""Subscribers: registration, their details and their payment method."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from uuid import UUID

from subledger.domain.errors import SubscriberNotFound, UnknownGateway
from subledger.domain.subscriber import Subscriber
from subledger.domain.text import check_email, check_reference
from subledger.store import SubscriberLink

from .idempotency import IdempotentRequest
from .store import LedgerStore


class Subscribers:
    def __init__(self, store: LedgerStore, gateways: Collection[str]) -> None:
        self.store = store
        self.gateways = gateways

    def register(
        self, *, email: str, name: str, external_ref: str | None = None,
        effective_at: datetime | None = None, idempotency: IdempotentRequest | None = None,
    ) -> Subscriber:
        effective, now = self.store.times(effective_at)
        subscriber = Subscriber.register(email=email, name=name, external_ref=external_ref,
                                         effective_at=effective, recorded_at=now)
        return self.store.commit(subscriber, result=subscriber, idempotency=idempotency,
                                 links=[SubscriberLink(subscriber.id, subscriber.id)])

    def get(self, subscriber_id: UUID) -> Subscriber:
        return self.store.load(subscriber_id, Subscriber,
                               SubscriberNotFound(f"no subscriber {subscriber_id}"))

    def registered(self, after: int, limit: int) -> tuple[list[Subscriber], int | None]:
        """Subscribers in the order they registered, a keyset page after ``after``."""
        return self.store.list_created("SubscriberRegistered", Subscriber, after, limit)

    def find(self, *, email: str | None = None, external_ref: str | None = None, after: int = 0,
             limit: int = 100) -> tuple[list[Subscriber], int | None]:
        """The subscribers with this e-mail address (whole, ignoring case) and/or external
        reference, in the order they registered: a keyset page after ``after``, and the
        cursor of the next page (None after the last). Read at once from the lookup written
        with their events."""
        if email is None and external_ref is None:
            return self.registered(after, limit)
        if email is not None:
            check_email(email)
        if external_ref is not None:
            check_reference(external_ref, "external_ref")
        rows = self.store.recorder.select_subscribers(
            email=email, external_ref=external_ref, after=after, limit=limit + 1)
        found = [self.get(subscriber_id) for _, subscriber_id in rows[:limit]]
        return found, rows[limit - 1][0] if len(rows) > limit else None

    def ids_with_email(self, email: str) -> list[UUID]:
        """Every subscriber with this e-mail address (whole, ignoring case)."""
        check_email(email)
        ids: list[UUID] = []
        after = 0
        while True:
            rows = self.store.recorder.select_subscribers(email=email, external_ref=None,
                                                          after=after, limit=1000)
            ids += [subscriber_id for _, subscriber_id in rows]
            if len(rows) < 1000:
                return ids
            after = rows[-1][0]

    def subscription_ids(self, subscriber_id: UUID) -> list[UUID]:
        return [i for i in self.store.streams(subscriber_id) if i != subscriber_id]

    def change_details(
        self, subscriber_id: UUID, changes: dict[str, str | None], *,
        effective_at: datetime | None = None, idempotency: IdempotentRequest | None = None,
    ) -> Subscriber:
        subscriber = self.get(subscriber_id)
        effective, now = self.store.times(effective_at)
        subscriber.change_details(changes, effective_at=effective, recorded_at=now)
        return self.store.commit(subscriber, result=subscriber, idempotency=idempotency)

    def set_marketing_consent(
        self, subscriber_id: UUID, *, consent: bool, effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Subscriber:
        """Record whether the subscriber accepts marketing messages (nothing is appended
        when it is their answer already)."""
        subscriber = self.get(subscriber_id)
        effective, now = self.store.times(effective_at)
        subscriber.change_marketing_consent(consent, effective_at=effective, recorded_at=now)
        return self.store.commit(subscriber, result=subscriber, idempotency=idempotency)

    def set_payment_method(
        self, subscriber_id: UUID, *, gateway: str, token: str,
        effective_at: datetime | None = None, idempotency: IdempotentRequest | None = None,
    ) -> Subscriber:
        check_gateway(gateway, self.gateways)
        subscriber = self.get(subscriber_id)
        effective, now = self.store.times(effective_at)
        subscriber.set_payment_method(gateway=gateway, token=token, effective_at=effective,
                                      recorded_at=now)
        return self.store.commit(subscriber, result=subscriber, idempotency=idempotency)


    def forget(self, subscriber_id: UUID, *, idempotency: IdempotentRequest | None = None,
               ) -> Subscriber:
        """Record ``SubscriberForgotten``; its transaction destroys the subscriber's data key,
        deletes their lookup rows and nulls their details in stored answers
        (``subledger.store.forgetting``)."""
        subscriber = self.get(subscriber_id)
        effective, now = self.store.times(None)
        subscriber.forget(effective_at=effective, recorded_at=now)
        return self.store.commit(subscriber, result=subscriber, idempotency=idempotency)


def check_gateway(gateway: str, configured: Collection[str]) -> str:
    if gateway not in configured:
        raise UnknownGateway(
            f"gateway {gateway!r} is not configured; configured: {', '.join(sorted(configured))}"
        )
    return gateway
