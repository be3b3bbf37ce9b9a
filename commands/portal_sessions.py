"""Portal sessions: opened for one subscriber, revoked, checked on every portal request."""

from __future__ import annotations

from uuid import UUID

from subledger.domain.errors import PortalSessionNotFound
from subledger.domain.portal_session import PortalSession

from .idempotency import IdempotentRequest
from .store import LedgerStore
from .subscribers import Subscribers


class PortalSessions:
    def __init__(self, store: LedgerStore, subscribers: Subscribers) -> None:
        self.store = store
        self.subscribers = subscribers

    def open(self, subscriber_id: UUID, *, ttl_seconds: int,
             idempotency: IdempotentRequest | None = None) -> PortalSession:
        """A session for the subscriber, from now until ``ttl_seconds`` later; none for a
        subscriber who was forgotten (409 ``subscriber-forgotten``): there is nobody left to
        manage anything, and their pages would show erased details."""
        subscriber = self.subscribers.get(subscriber_id)
        subscriber.check_not_forgotten()
        effective, now = self.store.times(None)
        session = PortalSession.open(subscriber_id=subscriber.id, ttl_seconds=ttl_seconds,
                                     effective_at=effective, recorded_at=now)
        return self.store.commit(session, result=session, idempotency=idempotency)

    def revoke(self, session_id: UUID, *,
               idempotency: IdempotentRequest | None = None) -> PortalSession:
        """Close the session now (409 ``portal-session-closed`` if it already is)."""
        session = self.get(session_id)
        effective, now = self.store.times(None)
        session.revoke(effective_at=effective, recorded_at=now)
        return self.store.commit(session, result=session, idempotency=idempotency)

    def get(self, session_id: UUID) -> PortalSession:
        return self.store.load(session_id, PortalSession,
                               PortalSessionNotFound(f"no portal session {session_id}"))

    def usable(self, session_id: UUID) -> PortalSession:
        """The session, refused (``PortalSessionClosed``) when revoked or expired now."""
        session = self.get(session_id)
        session.check_open(self.store.clock())
        return session
