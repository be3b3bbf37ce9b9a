"""UTC instants. Every time in the ledger is timezone-aware and in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .errors import EffectiveAtInFuture, InvalidInput

UTC = UTC

FUTURE_TOLERANCE = timedelta(minutes=5)
"""How far past the server clock a client's ``effective_at`` may be (clock skew)."""


def as_utc(instant: datetime) -> datetime:
    """The same instant in UTC; naive datetimes are refused (their zone is unknowable)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidInput("times must carry a UTC offset, e.g. 2026-01-31T00:00:00Z")
    return instant.astimezone(UTC)


def resolve_effective_at(requested: datetime | None, now: datetime) -> datetime:
    """The ``effective_at`` of a command: the client's, or the server clock's ``now``.

    A client may record past facts; one more than :data:`FUTURE_TOLERANCE` ahead of the
    server clock is refused.
    """
    if requested is None:
        return now
    requested = as_utc(requested)
    if requested > now + FUTURE_TOLERANCE:
        raise EffectiveAtInFuture(
            f"effective_at {requested.isoformat()} is more than 5 minutes in the future"
        )
    return requested


def isoformat(instant: datetime) -> str:
    """ISO-8601 with a ``Z`` suffix, as every API answer and message writes times."""
    text = as_utc(instant).isoformat()
    return text.replace("+00:00", "Z")
