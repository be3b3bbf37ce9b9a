"""Portal sessions: a subscriber's short-lived access to the self-service portal.

An admin or writer opens one for one subscriber; it lasts until ``expires_at`` unless it is
revoked first. What a subscriber does in the portal is recorded on their session
(``PortalActionTaken``), in the transaction of the events the action appended, so the log
says which events came from the portal and through which session.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from .base import LedgerAggregate
from .errors import InvalidInput, PortalSessionClosed
from .time import isoformat

MIN_TTL_SECONDS = 60
MAX_TTL_SECONDS = 7 * 86_400


def check_ttl(seconds: int) -> int:
    """A session's length in seconds: a minute to a week."""
    if isinstance(seconds, bool) or not isinstance(seconds, int) \
            or not MIN_TTL_SECONDS <= seconds <= MAX_TTL_SECONDS:
        raise InvalidInput(f"a portal session lasts from {MIN_TTL_SECONDS} to {MAX_TTL_SECONDS} seconds")
    return seconds


class PortalSession(LedgerAggregate):
    """A subscriber's session in the self-service portal."""

    subscriber_id: UUID
    opened_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    actions: int

    def __init__(self) -> None:
        """State comes from the events' ``apply`` alone (the annotations above document it)."""

    class Event(LedgerAggregate.Event):
        def envelope_subscriber_id(self) -> UUID | None:
            return getattr(self, "subscriber_id", None)

    class PortalSessionOpened(Event, LedgerAggregate.Created):
        """A portal session was opened for a subscriber (by an admin or writer key): its
        signed link lets them manage their own subscriptions until ``expires_at``."""

        subscriber_id: UUID
        expires_at: datetime

        def evolve(self, aggregate: Any) -> None:
            aggregate.subscriber_id = self.subscriber_id
            aggregate.opened_at = self.effective_at
            aggregate.expires_at = self.expires_at
            aggregate.revoked_at = None
            aggregate.actions = 0

    class PortalSessionRevoked(Event):
        """A portal session was revoked before it expired: its link no longer opens the
        portal and its pages refuse every request from then on."""

        subscriber_id: UUID

        def evolve(self, aggregate: Any) -> None:
            aggregate.revoked_at = self.effective_at

    class PortalActionTaken(Event):
        """The subscriber made a change through the portal: ``command`` names the write (as
        the API runs it) and ``events`` the events it appended in the same transaction, each
        by ``aggregate_id`` and ``aggregate_version``."""

        subscriber_id: UUID
        command: str
        events: list[dict[str, Any]]

        def evolve(self, aggregate: Any) -> None:
            aggregate.actions += 1

    @classmethod
    def open(cls, *, subscriber_id: UUID, ttl_seconds: int, effective_at: datetime,
             recorded_at: datetime) -> PortalSession:
        expires_at = effective_at + timedelta(seconds=check_ttl(ttl_seconds))
        return cls._create(cls.PortalSessionOpened, timestamp=recorded_at,
                           effective_at=effective_at, subscriber_id=subscriber_id,
                           expires_at=expires_at)

    def revoke(self, *, effective_at: datetime, recorded_at: datetime) -> None:
        """Revoke the session (refused once it is closed: revoked or expired)."""
        self.check_open(effective_at)
        self.trigger_event(self.PortalSessionRevoked, timestamp=recorded_at,
                           effective_at=max(effective_at, self.last_effective_at),
                           subscriber_id=self.subscriber_id)

    def record_action(self, command: str, events: list[dict[str, Any]], *,
                      recorded_at: datetime) -> None:
        self.trigger_event(self.PortalActionTaken, timestamp=recorded_at,
                           effective_at=max(recorded_at, self.last_effective_at),
                           subscriber_id=self.subscriber_id, command=command, events=events)

    def check_open(self, now: datetime) -> None:
        """Refuse a session that was revoked or has expired at ``now``."""
        if self.revoked_at is not None:
            raise PortalSessionClosed(f"this portal session was revoked at {isoformat(self.revoked_at)}")
        if now >= self.expires_at:
            raise PortalSessionClosed(f"this portal session expired at {isoformat(self.expires_at)}")
