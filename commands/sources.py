"""Where a write comes from, recorded in the transaction of its events.

Events carry no source of their own. A write made through the self-service portal runs
inside :func:`through_portal`: every save it makes also appends a ``PortalActionTaken`` to
the portal session, naming the write and the events saved with it, so the log itself says
which events a subscriber made in the portal (and through which session), atomically with
them. A write from the API or the command line records nothing more.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from subledger.domain.base import LedgerAggregate
from subledger.domain.portal_session import PortalSession


@dataclass(frozen=True)
class _Source:
    session: PortalSession
    command: str


_acting: ContextVar[_Source | None] = ContextVar("subledger_write_source", default=None)


@contextmanager
def through_portal(session: PortalSession, command: str) -> Iterator[None]:
    """Record every save made inside as ``command`` taken through ``session``."""
    token = _acting.set(_Source(session, command))
    try:
        yield
    finally:
        _acting.reset(token)


def witnesses(aggregates: Sequence[LedgerAggregate], now: datetime) -> tuple[LedgerAggregate, ...]:
    """What to save with ``aggregates``: the portal session, with its record of the events
    they are about to append, when the save is made through the portal; else nothing."""
    source = _acting.get()
    if source is None or any(a is source.session for a in aggregates):
        return ()
    events = [{"aggregate_id": str(event.originator_id),
               "aggregate_version": event.originator_version}
              for aggregate in aggregates for event in aggregate.pending_events]
    if not events:
        return ()
    source.session.record_action(source.command, events, recorded_at=now)
    return (source.session,)
