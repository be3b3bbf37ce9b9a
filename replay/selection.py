"""Which events a replay reads: the filters an analyst names, checked once.

- positions: ``(after, until]`` in the log's global order;
- ``recorded``, ``effective``: ranges of ``recorded_at`` and ``effective_at``, each bound
  inclusive (a day given on the command line is read as its first or last instant);
- ``types``: event types by their public names (the envelope's ``type``);
- ``subscriber_id``: the subscriber's own events and their subscriptions';
- ``as_known_at``: only what the ledger knew at K: the longest prefix of the log whose events
  had all been recorded by K, the prefix the reports answer from (see ``docs/reports.md``,
  "as known at"). An event recorded by K that follows one recorded after K is not in it:
  its writer read its clock first and committed later, and at K nobody could have read it.

Positions, types and the subscriber are asked of the store (an index answers them);
times are read from each decoded event, since the store keeps them inside the event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from subledger.contract.envelope import EVENT_TYPES, MAX_POSITION
from subledger.domain.errors import InvalidInput, InvalidPosition, UnknownEventTypeName
from subledger.domain.time import as_utc


@dataclass(frozen=True)
class TimeRange:
    """Instants from ``start`` to ``end``, both inclusive; None leaves a side open."""

    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, as_utc(value))
        if self.start is not None and self.end is not None and self.end < self.start:
            raise InvalidInput("a time range must not end before it starts")

    def holds(self, instant: datetime) -> bool:
        return (self.start is None or instant >= self.start) and (self.end is None or instant <= self.end)

    @property
    def open(self) -> bool:
        return self.start is None and self.end is None


EVERY_TIME = TimeRange()


@dataclass(frozen=True)
class Selection:
    after: int = 0
    """Read events after this position (0: from the first)."""
    until: int | None = None
    """... up to and including this position (None: to the log's end when the read starts)."""
    recorded: TimeRange = EVERY_TIME
    effective: TimeRange = EVERY_TIME
    types: tuple[str, ...] = ()
    subscriber_id: UUID | None = None
    as_known_at: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("after", "until"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or not 0 <= value <= MAX_POSITION):
                raise InvalidPosition(f"{name} must be a position from 0 to {MAX_POSITION}")
        if self.until is not None and self.until < self.after:
            raise InvalidPosition("the last position must not be before the first")
        unknown = [name for name in self.types if name not in EVENT_TYPES]
        if unknown:
            raise UnknownEventTypeName(f"unknown event type {unknown[0]!r}; known: {', '.join(EVENT_TYPES)}")
        object.__setattr__(self, "types", tuple(dict.fromkeys(self.types)))
        if self.as_known_at is not None:
            object.__setattr__(self, "as_known_at", as_utc(self.as_known_at))

    @property
    def narrowed_in_store(self) -> bool:
        """Whether the store leaves events out (by position, type or subscriber)."""
        return self.after > 0 or bool(self.types) or self.subscriber_id is not None

    @property
    def timed(self) -> bool:
        """Whether a time range narrows the selection (else every event's times hold)."""
        return any(bound is not None for bound in (self.recorded.start, self.recorded.end,
                                                   self.effective.start, self.effective.end))

    def times_hold(self, recorded_at: datetime, effective_at: datetime) -> bool:
        return self.recorded.holds(recorded_at) and self.effective.holds(effective_at)
