"""What every aggregate and event of the ledger shares: two times and a schema version."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from .errors import EffectiveAtOutOfOrder
from .time import isoformat


class LedgerAggregate(Aggregate):
    """An aggregate whose events carry ``effective_at`` in non-decreasing order.

    Every event's ``timestamp`` is its ``recorded_at`` (the server clock when the command
    ran, passed in by the application; never a client's), and ``effective_at`` is when it
    happened in the business.
    """

    last_effective_at: datetime

    def __init__(self) -> None:
        """State comes from the events' ``apply`` alone (the annotations above document it)."""

    class Event(Aggregate.Event):
        effective_at: datetime

        def __init_subclass__(cls, **kwargs: Any) -> None:
            super().__init_subclass__(**kwargs)
            # The library redefines a "created" event class declared in an aggregate as a
            # subclass of the same name, with no docstring: it keeps the one we wrote, which
            # the published schemas show (a dataclass without one is described by its
            # constructor's signature).
            if cls.__doc__ is None:
                cls.__doc__ = next(
                    (base.__doc__ for base in cls.__mro__[1:] if base.__name__ == cls.__name__), None
                )

        def apply(self, aggregate: Any) -> None:
            # Applying an event never raises: replay must not break on old events.
            aggregate.last_effective_at = self.effective_at
            self.evolve(aggregate)

        def evolve(self, aggregate: Any) -> None:
            """How the event changes its aggregate's state (none by default)."""

        @property
        def recorded_at(self) -> datetime:
            return self.timestamp

        @property
        def schema_version(self) -> int:
            return int(getattr(type(self), "class_version", 1))

        def envelope_subscriber_id(self) -> UUID | None:
            """The subscriber the event is about, if any (the Kafka key of its message)."""
            return None

    class Created(Event, Aggregate.Created):
        pass

    def check_effective_at(self, effective_at: datetime) -> None:
        """Refuse a command that would record an event earlier than the last one."""
        if effective_at < self.last_effective_at:
            raise EffectiveAtOutOfOrder(
                f"effective_at {isoformat(effective_at)} is earlier than this "
                f"{type(self).__name__.lower()}'s last event at "
                f"{isoformat(self.last_effective_at)}"
            )


EVENT_ENVELOPE_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "effective_at",
     "subscriber_id"}
)
"""Event attributes that live in the envelope, not in its ``data``."""
