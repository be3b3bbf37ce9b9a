"""The public message of an event: the envelope of docs/events.md.

Internal event classes may evolve (a new ``class_version`` with an upcaster); the envelope
is what readers outside the code rely on: ``GET /events``, histories, and the Kafka topics.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from hashlib import sha1
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from subledger.domain.base import EVENT_ENVELOPE_FIELDS, LedgerAggregate
from subledger.domain.coupons import Coupon
from subledger.domain.plans import Plan
from subledger.domain.portal_session import PortalSession
from subledger.domain.reporting import ReportingPeriod
from subledger.domain.subscriber import Subscriber
from subledger.domain.subscription import Subscription
from subledger.domain.time import isoformat

MAX_POSITION = 2**53 - 1
"""The largest position a client may name (every JSON reader holds it exactly; the log will
not reach it)."""

AGGREGATES: tuple[type[LedgerAggregate], ...] = (Plan, Coupon, Subscriber, Subscription, ReportingPeriod,
                                                  PortalSession)


def _event_classes() -> dict[str, type[LedgerAggregate.Event]]:
    found: dict[str, type[LedgerAggregate.Event]] = {}
    for aggregate in AGGREGATES:
        for name, value in vars(aggregate).items():
            if (
                isinstance(value, type)
                and issubclass(value, LedgerAggregate.Event)
                and name not in ("Event", "Created")
            ):
                found[name] = value
    return dict(sorted(found.items()))


EVENT_TYPES: dict[str, type[LedgerAggregate.Event]] = _event_classes()
"""Every event type of the ledger by its public name (the envelope's ``type``)."""


def jsonable(value: Any) -> Any:
    """Event values as JSON: times ISO-8601 UTC, ids and decimals as strings."""
    kind = type(value)
    if kind in _AS_IS:  # most values: decided by one look-up instead of six isinstance checks
        return value
    if kind is dict:
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


_AS_IS = frozenset({str, int, bool, type(None), float})


def event_data(event: Aggregate.Event) -> dict[str, Any]:
    """The event-specific fields, as the envelope's ``data``."""
    return {
        name: jsonable(value)
        for name, value in vars(event).items()
        if name not in EVENT_ENVELOPE_FIELDS
    }


def to_envelope(position: int, event: LedgerAggregate.Event) -> dict[str, Any]:
    """The envelope of ``event`` at ``position`` in the ledger's global order."""
    subscriber_id = event.envelope_subscriber_id()
    return {
        "position": position,
        "event_id": event_id_text(event.originator_id, event.originator_version),
        "type": type(event).__name__,
        "schema_version": event.schema_version,
        "subscriber_id": None if subscriber_id is None else str(subscriber_id),
        "aggregate_id": str(event.originator_id),
        "aggregate_version": event.originator_version,
        "recorded_at": isoformat(event.recorded_at),
        "effective_at": isoformat(event.effective_at),
        "data": event_data(event),
    }


_EVENT_ID_NAMESPACE = UUID("5b1c2f64-6a43-5c1e-9a57-1f0d8c6b7e21")


def event_id(aggregate_id: UUID, version: int) -> UUID:
    """A stable id for an event: the same on every read, derived from its place in its
    aggregate's sequence (which the store keeps unique)."""
    from uuid import uuid5

    return uuid5(_EVENT_ID_NAMESPACE, f"{aggregate_id}/{version}")


def event_id_text(aggregate_id: UUID | str, version: int) -> str:
    """``str(event_id(aggregate_id, version))``, written straight from the hash: every
    envelope carries one, and making the ``UUID`` object first was a quarter of the cost
    of an envelope. ``aggregate_id`` may be given as its text, ``str(aggregate_id)``."""
    text = sha1(_NAMESPACE_BYTES + f"{aggregate_id}/{version}".encode()).hexdigest()
    # uuid5: the version nibble is 5, the variant's two high bits 10 (RFC 4122).
    return (f"{text[:8]}-{text[8:12]}-5{text[13:16]}-{_VARIANT[text[16]]}{text[17:20]}"
            f"-{text[20:32]}")


_NAMESPACE_BYTES = _EVENT_ID_NAMESPACE.bytes
_VARIANT = {digit: f"{int(digit, 16) & 0x3 | 0x8:x}" for digit in "0123456789abcdef"}
"""A hex digit with its two high bits set to 10."""
