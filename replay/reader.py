"""The log read as an analyst reads it: every selected event in global order, decoded into
the domain's own event classes (the library's mapper runs the upcasters, so an event stored
by an old version reads as the current one), in batches, memory flat.

``Replay(log, selection)`` is iterable (one :class:`LoggedEvent` at a time) and re-iterable
(each pass reads the log again); :meth:`Replay.batches` hands out lists as the store reads
them. A replay only reads: the PostgreSQL scan runs in a read-only transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.utils import resolve_topic

from subledger.contract.envelope import to_envelope
from subledger.domain.base import LedgerAggregate
from subledger.store.collector import relaxed
from subledger.store.log import EventLog, topics_for
from subledger.store.scan import ScanRange, StoredRow, scan

from .selection import Selection

if TYPE_CHECKING:
    import pandas
    import pyarrow

Decode = Callable[[StoredRow], "LedgerAggregate.Event"]
"""The mapper's ``to_domain_event``."""

Progress = Callable[[int, int], None]
"""``progress(done, total)``: positions read so far of those to read."""

BATCH = 10_000
"""Events a batch holds: what the server-side cursor fetches in one round trip."""


class LoggedEvent:
    """An event of the log at its position: the typed domain event, and what the envelope
    says of it, read straight from the event (``envelope()`` builds the public envelope).

    The stored state is decoded into the event the first time anything needs it: a fold
    that looks only at some types (``logged.type`` comes from the stored topic) pays for
    decoding only those."""

    __slots__ = ("position", "_row", "_decode", "_event", "_envelope")

    def __init__(self, position: int, row: StoredRow, decode: Decode) -> None:
        self.position = position
        self._row = row
        self._decode = decode
        self._event: LedgerAggregate.Event | None = None
        self._envelope: dict[str, Any] | None = None

    @property
    def event(self) -> LedgerAggregate.Event:
        """The domain event (its class's upcasters applied)."""
        if self._event is None:
            self._event = self._decode(self._row)
        return self._event

    @property
    def type(self) -> str:
        return type_of(self._row.topic)

    @property
    def recorded_at(self) -> datetime:
        return self.event.timestamp

    @property
    def effective_at(self) -> datetime:
        return self.event.effective_at

    @property
    def subscriber_id(self) -> UUID | None:
        return self.event.envelope_subscriber_id()

    @property
    def aggregate_id(self) -> UUID:
        return self.event.originator_id  # type: ignore[no-any-return]

    def envelope(self) -> dict[str, Any]:
        """The public envelope (``docs/events.md``), as ``GET /events`` answers it; built
        once (an export's rows and the figures beside them share it), so read, never change."""
        if self._envelope is None:
            self._envelope = to_envelope(self.position, self.event)
        return self._envelope

    def __repr__(self) -> str:
        return f"<{self.type} at {self.position}>"


class Replay:
    """The events of ``selection`` in ``log``, in global order."""

    def __init__(self, log: EventLog, selection: Selection | None = None, *, batch: int = BATCH,
                 progress: Progress | None = None) -> None:
        if batch < 1:
            raise ValueError("a batch holds at least one event")
        self.log = log
        self.selection = selection if selection is not None else Selection()
        self.batch = batch
        self.progress = progress
        self.position = 0
        """After a pass: the log position it read up to (the last event of an as-known-at
        prefix, or the end of the log or of the selection's positions)."""

    def __iter__(self) -> Iterator[LoggedEvent]:
        for batch in self.batches():
            yield from batch

    def batches(self) -> Iterator[list[LoggedEvent]]:
        """The selected events, a list per batch the store read (lists may be empty when
        every event of a batch was filtered out by time)."""
        selection = self.selection
        head = self.log.max_position()
        until = head if selection.until is None else min(selection.until, head)
        # As known at K, the prefix ends at the first event recorded after K, whatever the
        # selection: the store must then hand out every event from the start to find it.
        whole = selection.as_known_at is not None and selection.narrowed_in_store
        scanned = ScanRange(after=0, until=until) if whole else ScanRange(
            after=selection.after, until=until, topics=topics_for(selection.types),
            subscriber_id=selection.subscriber_id)
        self.position = scanned.after
        to_event = self.log.mapper.to_domain_event
        # A batch's decoded events outlive the young collections and were a third of a
        # replay's time in full passes of the collector (see subledger.store.collector).
        with relaxed():
            for notifications in scan(self.log.recorder, scanned, self.batch):
                events = [LoggedEvent(row.id, row, to_event) for row in notifications]
                kept, ended = self._keep(events, narrow=whole)
                if self.progress is not None:
                    self.progress(self.position - scanned.after, until - scanned.after)
                yield kept
                if ended:
                    return
        self.position = until

    def _keep(self, events: list[LoggedEvent], *, narrow: bool) -> tuple[list[LoggedEvent], bool]:
        """The events of a batch the selection keeps, and whether the prefix known at K
        ended in it. Moves :attr:`position` along."""
        selection = self.selection
        known_at = selection.as_known_at
        timed = selection.timed
        if known_at is None and not narrow and not timed:  # the store selected them all
            if events:
                self.position = events[-1].position
            return events, False
        kept = []
        for logged in events:
            if known_at is not None and logged.event.timestamp > known_at:
                return kept, True
            self.position = logged.position
            if narrow and not _in_store_selection(selection, logged):
                continue
            if not timed or selection.times_hold(logged.event.timestamp, logged.event.effective_at):
                kept.append(logged)
        return kept, False

    def fold(self, fold: Any) -> Any:
        """``run_fold(self, fold)``: the fold's answer over these events."""
        from .folds import run_fold

        return run_fold(self, fold)

    def to_arrow(self, *, personal_data: bool = False) -> pyarrow.Table:
        """The events as an Arrow table, the columns of the ``events`` export."""
        from .event_rows import events_table

        return events_table(self, personal_data=personal_data)

    def to_pandas(self, *, personal_data: bool = False) -> pandas.DataFrame:
        """The events as a pandas frame (integer columns as ``Int64``, never floats)."""
        from .arrow import to_pandas

        return to_pandas(self.to_arrow(personal_data=personal_data))


@functools.cache
def type_of(topic: str) -> str:
    """The event type a stored topic names: its class's name (the mapper decodes a stored
    event into the class its topic resolves to)."""
    return resolve_topic(topic).__name__


def _in_store_selection(selection: Selection, logged: LoggedEvent) -> bool:
    """What the store would have selected: positions, types, the subscriber."""
    if logged.position <= selection.after:
        return False
    if selection.types and logged.type not in selection.types:
        return False
    return selection.subscriber_id is None or logged.subscriber_id == selection.subscriber_id
