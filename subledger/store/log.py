"""Reading the log in global order, as public envelopes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from subledger.contract.envelope import EVENT_TYPES, to_envelope

from .envelopes import EnvelopeMaker
from .recorders import LedgerPostgresRecorder, LedgerSQLiteRecorder
from .scan import ScanRange, StoredRow, read_page
from .sealing import SealingMapper


class UnknownEventType(ValueError):
    pass


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    last_position: int | None
    """Position of the last notification scanned (None if the page is empty)."""


def topics_for(types: Sequence[str]) -> list[str]:
    """Stored topics of the named public event types."""
    topics = []
    for name in types:
        cls = EVENT_TYPES.get(name)
        if cls is None:
            raise UnknownEventType(name)
        topics.append(get_topic(cls))
    return topics


class EventLog:
    """The ledger's log, read-only: pages of envelopes in global order."""

    def __init__(self, recorder: LedgerPostgresRecorder | LedgerSQLiteRecorder, mapper: SealingMapper):
        self.recorder = recorder
        self.mapper = mapper
        self.envelopes = EnvelopeMaker(mapper)

    def envelope(self, notification: StoredRow | Notification) -> dict[str, Any]:
        """The public envelope of a stored event (made straight from its stored state, see
        :mod:`.envelopes`)."""
        return self.envelopes.envelope(notification)

    def read_with_events(self, after: int, limit: int) -> tuple[Page, list[Any]]:
        """Like :meth:`read`, with each envelope's domain event alongside (same order)."""
        notifications = read_page(self.recorder, ScanRange(after, None), limit)
        with self.mapper.one_read():
            events = [self.mapper.to_domain_event(n) for n in notifications]
        items = [to_envelope(n.id, e) for n, e in zip(notifications, events, strict=True)]  # type: ignore[arg-type]
        return Page(items=items, last_position=notifications[-1].id if notifications else None), events

    def aggregate(self, aggregate_id: UUID, version: int) -> Any:
        """The aggregate as it stood at ``version``, folded from its stored events (None if
        it has no event up to there)."""
        state = None
        with self.mapper.one_read():
            for stored in self.recorder.select_events(aggregate_id, lte=version):
                state = self.mapper.to_domain_event(stored).mutate(state)
        return state

    def read(self, after: int, limit: int, types: Sequence[str] = ()) -> Page:
        """Up to ``limit`` events after ``after``, optionally only of some types."""
        return self._page(read_page(self.recorder, ScanRange(after, None, topics_for(types)), limit))

    def history(self, subscriber_id: UUID, after: int, limit: int) -> Page:
        """Every event of the subscriber and their subscriptions, in global order."""
        return self._page(read_page(self.recorder, ScanRange(after, None, subscriber_id=subscriber_id), limit))

    def originators(self, type_name: str, after: int, limit: int) -> list[tuple[int, UUID]]:
        """(position, aggregate id) of events of one type: e.g. every plan ever created."""
        rows = read_page(self.recorder, ScanRange(after, None, topics_for([type_name])), limit)
        return [(n.id, UUID(str(n.originator_id))) for n in rows]

    def count_by_type(self, after: int, page: int = 10_000) -> dict[str, int]:
        """How many events of each type follow position ``after`` (read raw, not decoded)."""
        counts: dict[str, int] = {}
        while notifications := read_page(self.recorder, ScanRange(after, None), page):
            for notification in notifications:
                name = notification.topic.rpartition(":")[2].rpartition(".")[2]
                counts[name] = counts.get(name, 0) + 1
            after = notifications[-1].id
        return dict(sorted(counts.items()))

    def max_position(self) -> int:
        return int(self.recorder.max_notification_id() or 0)

    def _page(self, notifications: Sequence[StoredRow]) -> Page:
        with self.mapper.one_read():
            items = [self.envelope(n) for n in notifications]
        return Page(items=items, last_position=notifications[-1].id if notifications else None)
