"""UTC instants. Every time in the ledger is timezone-aware and in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .errors import EffectiveAtInFuture, InvalidInput

UTC = UTC

FUTURE_TOLERANCE = timedelta(minutes=5)
"""How far past the server clock a client's ``effective_at`` may be (clock skew)."""


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""Times the ledger accepts: far enough for any history and any schedule, and far from the
ends of Python's calendar, where period arithmetic would overflow."""


def as_utc(instant: datetime) -> datetime:
    """The same instant in UTC; naive datetimes are refused (their zone is unknowable)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidInput("times must carry a UTC offset, e.g. 2026-01-31T00:00:00Z")
    try:
        utc = instant.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise InvalidInput("times must be from 1970-01-01 to 2199-12-31 UTC")
    return utc


def resolve_effective_at(requested: datetime | None, now: datetime) -> datetime:
    """The ``effective_at`` of a command: the client's, or the server clock's ``now``.

    A client may record past facts; one more than :data:`FUTURE_TOLERANCE` ahead of the
    server clock is refused.
    """
    if requested is None:
        return now
    if requested.tzinfo is not None and requested.utcoffset() is not None and (
        requested.year > now.year + 1
    ):
        requested_utc = None  # far ahead (and maybe beyond the calendar): too far ahead
    else:
        requested_utc = as_utc(requested)
    if requested_utc is None or requested_utc > now + FUTURE_TOLERANCE:
        raise EffectiveAtInFuture(
            f"effective_at {requested.isoformat()} is more than 5 minutes in the future"
        )
    return requested_utc


def parse_instant(value: str | datetime) -> datetime:
    """An envelope time (``2026-01-31T00:00:00Z``) as an aware UTC datetime."""
    instant = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"time without a UTC offset: {value!r}")
    return instant.astimezone(UTC)


def microseconds(delta: timedelta) -> int:
    """A duration in whole microseconds (exact: timedelta has no finer resolution)."""
    return delta // timedelta(microseconds=1)


def isoformat(instant: datetime) -> str:
    """ISO-8601 with a ``Z`` suffix, as every API answer and message writes times."""
    text = as_utc(instant).isoformat()
    return text.replace("+00:00", "Z")
