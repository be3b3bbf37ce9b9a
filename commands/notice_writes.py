"""A payment provider's notice as a write (see :mod:`.writes`): run by
:meth:`Ledger.execute` under the provider's event id as its idempotency key, so a provider
that sends the same event again (they retry until answered, and may send twice) appends
nothing and gets the first answer."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .gateway_notices import NoticeOutcome
from .gateways.notices import GatewayNotice
from .writes import Idem, Write

if TYPE_CHECKING:
    from .ledger import Ledger


@dataclass(frozen=True)
class RecordGatewayNotice(Write):
    """The fields of :class:`GatewayNotice`, flat (a command is fingerprinted field by
    field), with the provider's name and event id."""

    gateway: str
    event_id: str
    event_type: str
    kind: str
    occurred_at: datetime
    ref: str | None = None
    charge_refs: tuple[str, ...] = ()
    amount: int | None = None
    currency: str | None = None
    outcome: str | None = None
    reason: str | None = None
    tokens: tuple[str, ...] = ()
    expires_at: datetime | None = None

    @classmethod
    def of(cls, gateway: str, event_id: str, event_type: str,
           notice: GatewayNotice) -> RecordGatewayNotice:
        return cls(gateway, event_id, event_type, **dataclasses.asdict(notice))

    def notice(self) -> GatewayNotice:
        names = {f.name for f in dataclasses.fields(GatewayNotice)}
        return GatewayNotice(**{n: getattr(self, n) for n in names})

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.gateway_notices.record(self.gateway, self.notice(), idempotency)

    def answer(self, ledger: Ledger, result: NoticeOutcome) -> Any:
        return notice_body(self.gateway, self.event_id, self.event_type, result)


def notice_body(gateway: str, event_id: str, event_type: str,
                result: NoticeOutcome) -> dict[str, Any]:
    """The answer to a provider's event (``GatewayEventOut``)."""
    return {"gateway": gateway, "event_id": event_id, "event_type": event_type,
            "outcome": result.outcome, "detail": result.detail,
            "subscription_id": result.subscription_id, "subscriber_id": result.subscriber_id}
