"""Rows the store keeps beside the events, in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True)
class IdempotencyRecord:
    """The first successful answer to a request made with an ``Idempotency-Key``."""

    scope: str
    key: str
    fingerprint: str
    status_code: int
    body: str
    created_at: datetime


@dataclass(frozen=True)
class SubscriberLink:
    """``aggregate_id``'s events belong to ``subscriber_id``'s history."""

    subscriber_id: UUID
    aggregate_id: UUID


@dataclass(frozen=True)
class SubscriberKeys:
    """What a subscriber is found by: their e-mail address as compared (case-folded, see
    ``subledger.domain.text.email_key``) and their external reference."""

    subscriber_id: UUID
    email_key: str
    external_ref: str | None
