"""The ledger's event store: the library's, with each aggregate's events opened in one read.

A sealed event's personal fields open with its subscriber's data key (:mod:`.sealing`). The
library maps the events of a load one by one, so each sealed event would read and open the
key again: a query per event. Here the events of one load are mapped inside the mapper's
:meth:`~subledger.store.sealing.SealingMapper.one_read`, so the key is read once per load.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from eventsourcing.persistence import EventStore

from .sealing import SealingMapper


class SealedEventStore(EventStore[UUID]):
    """``EventStore`` whose reads open each subscriber's data key once."""

    def get(self, originator_id: UUID, *, gt: int | None = None, lte: int | None = None,
            desc: bool = False, limit: int | None = None) -> Iterator[Any]:
        mapper = self.mapper
        assert isinstance(mapper, SealingMapper)
        stored = self.recorder.select_events(originator_id=originator_id, gt=gt, lte=lte,
                                             desc=desc, limit=limit)
        with mapper.one_read():
            return iter([mapper.to_domain_event(event) for event in stored])
