"""UTC instants. Every time in the ledger is timezone-aware and in UTC."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from .errors import EffectiveAtInFuture, InvalidAsOf, InvalidInput

UTC = UTC

FUTURE_TOLERANCE = timedelta(minutes=5)
"""How far past the server clock a client's ``effective_at`` may be (clock skew)."""


FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2199, 12, 31)
"""Days the ledger accepts (a time is written with one of them): far enough for any history
and any schedule, and far from the ends of Python's calendar, where period arithmetic and
report buckets would overflow."""

FIRST_INSTANT = datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day, tzinfo=UTC)
END_INSTANT = datetime(LAST_DAY.year + 1, 1, 1, tzinfo=UTC)
"""The instants a client may write: from the first day's first one to the last day's last,
in UTC (the offset an instant is written with does not move it out of those days)."""

EARLIEST = datetime(1969, 12, 31, tzinfo=UTC)
LATEST = datetime(2200, 1, 2, tzinfo=UTC)
"""The instants the ledger reads, a day wider than a client may write either way: an
instant written on the first or last day with an offset that took it out of the range was
accepted before the range was judged in UTC, and the log that holds it must stay readable."""

_YEAR = "(19[7-9][0-9]|2[01][0-9]{2})"
_DAY = f"{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
DATE = f"^{_DAY}$"
"""A day as clients write it: YYYY-MM-DD, from 1970 to 2199 (a calendar day: the format
``date`` of JSON Schema says which)."""
INSTANT = (f"^{_DAY}[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{{1,6}})?"
           "([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")
"""An instant as clients write it: RFC 3339 with seconds and a UTC offset (``Z`` or
``+hh:mm``), at most microseconds, on a day from 1970 to 2199."""
_DATE = re.compile(DATE)
_INSTANT = re.compile(INSTANT)


def as_utc(instant: datetime) -> datetime:
    """The same instant in UTC; naive datetimes are refused (their zone is unknowable)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidInput("times must carry a UTC offset, e.g. 2026-01-31T00:00:00Z")
    try:
        utc = instant.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise InvalidInput("times must be on a day from 1970-01-01 to 2199-12-31")
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


def report_as_of(requested: datetime | None, as_known_at: datetime | None, now: datetime) -> datetime:
    """The instant a report is as of: the client's, or the report's own present, which is
    the ledger's clock ``now``, or ``as_known_at`` when that is given and earlier.

    A later ``as_of`` is refused rather than clamped: what the ledger knew at K cannot be
    judged as of a time after K, and a report as of a time not yet come would read as final
    figures that are not (unlike ``effective_at``, no clock skew is tolerated: nothing is
    recorded, so a client just asks again)."""
    present = now if as_known_at is None else min(now, as_known_at)
    if requested is None:
        return present
    requested = as_utc(requested)
    if as_known_at is not None and requested > as_known_at:
        raise InvalidAsOf(f"as_of {isoformat(requested)} is after as_known_at {isoformat(as_known_at)}:"
                          " what the ledger knew then can be judged as of that instant or earlier")
    if requested > now:
        raise InvalidAsOf(f"as_of {isoformat(requested)} is after the ledger's clock ({isoformat(now)}):"
                          " a report counts what has happened")
    return requested


def written_day(text: object) -> date:
    """A day a client wrote (:data:`DATE`), or :class:`InvalidInput`."""
    if not isinstance(text, str) or not _DATE.fullmatch(text):
        raise InvalidInput("a day is written YYYY-MM-DD, from 1970-01-01 to 2199-12-31")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text} is not a day of the calendar") from None


def written_instant(text: object) -> datetime:
    """An instant a client wrote (:data:`INSTANT`), in UTC, or :class:`InvalidInput`. The
    range is judged in UTC: ``1970-01-01T00:00:00+14:00`` is 1969-12-31T10:00:00Z, refused as
    that instant written with ``Z`` is."""
    if not isinstance(text, str) or not _INSTANT.fullmatch(text):
        raise InvalidInput("an instant is written like 2026-01-31T00:00:00Z or with an offset"
                           " (+01:00), on a day from 1970-01-01 to 2199-12-31")
    try:
        instant = datetime.fromisoformat(text.upper())
    except ValueError:
        raise InvalidInput(f"{text} is not an instant of the calendar") from None
    utc = as_utc(instant)
    if not FIRST_INSTANT <= utc < END_INSTANT:
        raise InvalidInput(f"{text} is {isoformat(utc)}: an instant must fall, in UTC, on a day"
                           " from 1970-01-01 to 2199-12-31")
    return utc


def parse_instant(value: str | datetime) -> datetime:
    """An envelope time (``2026-01-31T00:00:00Z``) as an aware UTC datetime."""
    if isinstance(value, str):
        return _parse_instant_text(value)
    return _utc(value, value)


@lru_cache(maxsize=1 << 16)
def _parse_instant_text(text: str) -> datetime:
    # A fold reads the same few instants again and again (each event's, each period's):
    # a datetime is immutable, so one parse per text serves them all.
    return _utc(datetime.fromisoformat(text), text)


def _utc(instant: datetime, value: str | datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"time without a UTC offset: {value!r}")
    return instant.astimezone(UTC)


def microseconds(delta: timedelta) -> int:
    """A duration in whole microseconds (exact: timedelta has no finer resolution)."""
    return delta // timedelta(microseconds=1)


def isoformat(instant: datetime) -> str:
    """ISO-8601 with a ``Z`` suffix, as every API answer and message writes times."""
    # Nearly every instant is already in UTC (the store reads them back so): written without
    # the conversion, which was most of the cost of writing an envelope's times.
    if instant.tzinfo is UTC and EARLIEST <= instant < LATEST:
        return instant.isoformat().replace("+00:00", "Z")
    return as_utc(instant).isoformat().replace("+00:00", "Z")
