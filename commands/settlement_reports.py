"""Asking a gateway what became of its payments after they were approved, and recording it.

Some providers tell the ledger nothing on their own when a payment it counted collected
fails to settle (Authorize.net: a settlement error, a returned eCheck, a void before the
batch, a chargeback). A gateway that can be asked (:class:`~.gateways.SettlementReports`)
is asked for a range of settlement dates; every notice it answers goes through the very
write a provider's webhook does (:class:`~.notice_writes.RecordGatewayNotice`), under the
key ``<transaction id>:<status>`` in the provider's scope, so asking again records nothing
twice and a charge this ledger did not make is ignored.

The provider is read in full before anything is recorded: unreachable, nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from subledger.domain.errors import GatewayUnavailableError, IdempotencyKeyReused, InvalidInput
from subledger.domain.time import isoformat

from .gateways import GatewayUnavailable, SettlementReports
from .idempotency import IdempotencyKey
from .notice_writes import RecordGatewayNotice

if TYPE_CHECKING:
    from .ledger import Ledger


@dataclass
class Reconciled:
    """What one reconciliation found and what became of each notice."""

    gateway: str
    since: datetime
    until: datetime
    counts: dict[str, int] = field(default_factory=lambda: {
        "recorded": 0, "already_recorded": 0, "ignored": 0})
    notices: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"gateway": self.gateway, "since": isoformat(self.since),
                "until": isoformat(self.until), "found": len(self.notices), **self.counts,
                "notices": self.notices}


def reportable(ledger: Ledger) -> list[str]:
    """The ledger's gateways that can be asked what became of their payments."""
    return sorted(name for name, gateway in ledger.payment_gateways.items()
                  if isinstance(gateway, SettlementReports))


def reconcile(ledger: Ledger, gateway: str, since: datetime, until: datetime | None = None) -> Reconciled:
    """Record what ``gateway`` reports about payments settled from ``since`` to ``until``
    (default: the ledger's clock)."""
    until = ledger.clock() if until is None else until
    source = ledger.payment_gateways.get(gateway)
    if not isinstance(source, SettlementReports):
        raise InvalidInput(f"gateway {gateway!r} cannot be asked for its settlements"
                           f" (these can: {', '.join(reportable(ledger)) or 'none'})")
    if since > until:
        raise InvalidInput(f"since ({isoformat(since)}) is after until ({isoformat(until)})")
    try:
        notices = source.settlement_notices(since, until)
    except GatewayUnavailable as error:
        raise GatewayUnavailableError(f"{gateway} could not be asked for its settlements"
                                      f" ({error}); nothing was recorded") from error
    done = Reconciled(gateway, since, until)
    for notice in notices:
        event_id = f"{notice.ref}:{notice.reason}"
        command = RecordGatewayNotice.of(gateway, event_id, f"transactionStatus.{notice.reason}",
                                         notice)
        try:
            answer = ledger.execute(command, IdempotencyKey(f"gateway:{gateway}", event_id[:255]))
        except IdempotencyKeyReused:
            # The same transaction and status, asked over another range: its time (when the
            # ledger learned it) differs, the notice does not.
            done.counts["already_recorded"] += 1
            done.notices.append({"gateway": gateway, "event_id": event_id,
                                 "event_type": command.event_type, "outcome": "already_recorded",
                                 "detail": "recorded by an earlier run"})
            continue
        outcome = "already_recorded" if answer.replayed else answer.body["outcome"]
        done.counts[outcome] += 1
        done.notices.append({**answer.body, "outcome": outcome})
    return done
