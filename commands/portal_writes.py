"""Portal sessions as writes (see :mod:`.writes`): run by :meth:`Ledger.execute` under their
idempotency key like every other write."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from subledger.contract.portal_bodies import portal_session_body
from subledger.domain.portal_session import PortalSession

from .writes import Idem, Write

if TYPE_CHECKING:
    from .ledger import Ledger


class _PortalSessionWrite(Write):
    def answer(self, ledger: Ledger, result: PortalSession) -> Any:
        return portal_session_body(result)


@dataclass(frozen=True)
class OpenPortalSession(_PortalSessionWrite):
    creates: ClassVar[bool] = True
    subscriber_id: UUID
    ttl_seconds: int

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.portal_sessions.open(self.subscriber_id, ttl_seconds=self.ttl_seconds,
                                           idempotency=idempotency)


@dataclass(frozen=True)
class RevokePortalSession(_PortalSessionWrite):
    portal_session_id: UUID

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.portal_sessions.revoke(self.portal_session_id, idempotency=idempotency)
