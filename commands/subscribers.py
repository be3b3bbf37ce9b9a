"""Subscribers: registration, their details and their payment method."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from uuid import UUID

from subledger.domain.errors import SubscriberNotFound, UnknownGateway
from subledger.domain.subscriber import Subscriber
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

    def subscription_ids(self, subscriber_id: UUID) -> list[UUID]:
        return [i for i in self.store.recorder.select_streams(subscriber_id) if i != subscriber_id]

    def change_details(
        self, subscriber_id: UUID, changes: dict[str, str | None], *,
        effective_at: datetime | None = None, idempotency: IdempotentRequest | None = None,
    ) -> Subscriber:
        subscriber = self.get(subscriber_id)
        effective, now = self.store.times(effective_at)
        subscriber.change_details(changes, effective_at=effective, recorded_at=now)
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


def check_gateway(gateway: str, configured: Collection[str]) -> str:
    if gateway not in configured:
        raise UnknownGateway(
            f"gateway {gateway!r} is not configured; configured: {', '.join(sorted(configured))}"
        )
    return gateway
