"""The write side's unit of work: load an aggregate, save what a command decided, in one
transaction with what must move with it.

Optimistic concurrency comes from the store: two commands that load the same version of an
aggregate cannot both append the next one; the second fails with
:class:`~subledger.domain.errors.ConcurrentModification` and nothing of it is kept. What
moves with the events, in their transaction: the command's idempotency answer, the index of
a subscriber's streams, what subscribers are found by, the billing clock's agenda and the
index of charges and of documents.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from subledger.domain.base import LedgerAggregate
from subledger.domain.charges import ChargeSucceeded
from subledger.domain.errors import (
    ConcurrentModification,
    DomainError,
    IdempotencyKeyReused,
    NotFound,
)
from subledger.domain.subscriber import Subscriber
from subledger.domain.subscription import Subscription
from subledger.domain.text import email_key
from subledger.domain.time import resolve_effective_at
from subledger.store import IdempotencyRecord, SubscriberKeys, SubscriberLink
from subledger.store.log import EventLog
from subledger.store.recorders import LedgerPostgresRecorder, LedgerSQLiteRecorder
from subledger.store.sealed_answers import open_answer, seal_answer
from subledger.store.sealing import SealingMapper

from .batch import Batch, PendingKeys
from .document_index import document_links, gateway_links, index_existing_documents
from .idempotency import IdempotentRequest
from .sources import witnesses

A = TypeVar("A", bound=LedgerAggregate)
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class LedgerStore:
    """Loads and saves the ledger's aggregates through the ``eventsourcing`` application."""

    def __init__(self, app: Application, clock: Clock) -> None:
        recorder = app.recorder
        assert isinstance(recorder, (LedgerPostgresRecorder, LedgerSQLiteRecorder))
        self._app = app
        self.clock = clock
        self.recorder = recorder
        assert isinstance(app.mapper, SealingMapper)
        self.mapper = app.mapper
        recorder.ensure_key_table()
        self.mapper.table = recorder
        self.event_log = EventLog(recorder, app.mapper)
        index_existing_documents(recorder, self.event_log)
        recorder.ensure_subscriber_lookup(app.mapper)
        self._batches = threading.local()  # a batch is its own thread's: a server's stay apart

    @property
    def _batch(self) -> Batch | None:
        return getattr(self._batches, "open", None)

    @_batch.setter
    def _batch(self, batch: Batch | None) -> None:
        self._batches.open = batch

    @contextmanager
    def batch(self) -> Iterator[LedgerStore]:
        """Commits inside are appended together by :meth:`flush` (see :mod:`.batch`), and
        once more on leaving; an error leaves what was not flushed unsaved."""
        if self._batch is not None:
            raise RuntimeError("a batch is already open")
        keys = PendingKeys(self.recorder)
        self._batch = Batch(keys, {})
        self.mapper.table = keys
        try:
            yield self
            self.flush()
        finally:
            self._batch = None
            self.mapper.table = self.recorder

    def flush(self) -> int:
        """Append the open batch's saves in one transaction; the number of events."""
        batch = self._batch
        if batch is None or batch.empty():
            return 0
        self.recorder.insert_events(batch.stored, **batch.insert_kwargs())
        if batch.forgotten:
            self.recorder.after_forgetting()
        self._batch = Batch(batch.keys, batch.aggregates)
        return len(batch)

    def _read_barrier(self) -> None:
        # A read the batch cannot answer sees every save before it: flush them first.
        if self._batch is not None:
            self.flush()

    def times(self, effective_at: datetime | None) -> tuple[datetime, datetime]:
        """(effective_at, recorded_at) of a command; read after loading what it changes."""
        now = self.clock()
        return resolve_effective_at(effective_at, now), now

    def load(self, aggregate_id: UUID, cls: type[A], not_found: DomainError,
             version: int | None = None) -> A:
        """The aggregate (as of ``version``, if given), or ``not_found`` raised (also when
        the id names another kind)."""
        if self._batch is not None and aggregate_id in self._batch.aggregates:
            # A refused command's undecided events are dropped by loading it again, saved;
            # an earlier version is read from the store.
            cached = self._batch.cached(aggregate_id) if version is None else None
            if cached is not None:
                if not isinstance(cached, cls):
                    raise not_found
                return cached  # type: ignore[return-value]
            del self._batch.aggregates[aggregate_id]
            self.flush()
        try:
            aggregate = self._app.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            raise not_found from None
        if not isinstance(aggregate, cls):
            raise not_found
        return aggregate

    def locate(self, document_id: str) -> UUID | None:
        """The subscription an invoice, a credit note or a failed charge attempt is on."""
        if self._batch is not None and document_id in self._batch.documents:
            return self._batch.documents[document_id]
        return self.recorder.select_document_subscription(document_id)

    def exists(self, aggregate_id: UUID) -> bool:
        if self._batch is not None and aggregate_id in self._batch.aggregates:
            return True
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def commit(
        self, *aggregates: LedgerAggregate, result: Any, idempotency: IdempotentRequest | None,
        links: Iterable[SubscriberLink] = (), on_conflict: DomainError | None = None,
    ) -> Any:
        """Save the aggregates' pending events and what moves with them; returns ``result``
        (whose answer is stored under the idempotency key, if any). A save that lost a race
        raises ``on_conflict`` (by default :class:`ConcurrentModification`), or
        :class:`IdempotencyKeyReused` when what won was another request with the key."""
        aggregates = (*aggregates, *witnesses(aggregates, self.clock()))
        kwargs: dict[str, Any] = {}
        if idempotency is not None:
            kwargs["idempotency"] = idempotency.record(result, self.clock())
        links = list(links)
        if links:
            kwargs["subscriber_links"] = links
        subscriptions = [a for a in aggregates if isinstance(a, Subscription)]
        if subscriptions:
            kwargs["billing_due"] = [(s.id, s.agenda_due()) for s in subscriptions]
            kwargs["charge_links"] = [
                (event.charge_id, s.id) for s in subscriptions for event in s.pending_events
                if isinstance(event, ChargeSucceeded)
            ]
            kwargs["document_links"] = kwargs.get("document_links", []) + [
                link for s in subscriptions for link in document_links(s.id, s.pending_events)]
        if self._batch is not None:
            self._batch.keys.new_streams(aggregates)
        self._personal_rows(aggregates, kwargs)
        if self._batch is not None and idempotency is None:
            try:
                self._batch.add(aggregates, self.mapper.to_stored_event, kwargs)
            finally:
                self.mapper.finish()
            return result
        self._read_barrier()
        try:
            self._app.save(*aggregates, **kwargs)
        except IntegrityError:
            if idempotency is not None and self.find_idempotency(idempotency.scope, idempotency.key):
                raise IdempotencyKeyReused(
                    f"Idempotency-Key {idempotency.key!r} was used by a request recorded first"
                ) from None
            raise (on_conflict or ConcurrentModification(
                "another change to the same record was saved first; reload and retry"
            )) from None
        finally:
            self.mapper.finish()
        if kwargs.get("forgotten"):
            self.recorder.after_forgetting()
        return result

    def _personal_rows(self, aggregates: tuple[LedgerAggregate, ...], kwargs: dict[str, Any]) -> None:
        """What moves with a save because of personal data: the subscribers' lookup keys (a
        forgotten one's rows go), the data keys made for the events to seal (the mapper is
        readied for them here), and the stored answer of a write about one subscriber (their
        own, or one of their subscriptions') sealed with their key."""
        subscribers = [a for a in aggregates if isinstance(a, Subscriber)]
        if subscribers:
            kwargs["subscriber_keys"] = [SubscriberKeys(s.id, email_key(s.email), s.external_ref)
                                         for s in subscribers if s.forgotten_at is None]
            kwargs["document_links"] = [link for s in subscribers
                                        for link in gateway_links(s.id, s.pending_events)]
            kwargs["forgotten"] = [(e.originator_id, e.timestamp) for s in subscribers
                                   for e in s.pending_events
                                   if isinstance(e, Subscriber.SubscriberForgotten)]
        kwargs["data_keys"] = self.mapper.prepare(e for a in aggregates for e in a.pending_events)
        record = kwargs.get("idempotency")
        owners = {s.id for s in subscribers} | {
            a.subscriber_id for a in aggregates if isinstance(a, Subscription)}
        if record is not None and len(owners) == 1:
            [owner] = owners
            key = self.mapper.writing_key(owner)
            if key is not None:
                kwargs["idempotency"] = replace(record, body=seal_answer(record.body, owner, key))

    def list_created(self, type_name: str, cls: type[A], after: int, limit: int,
                     keep: Callable[[A], bool] | None = None) -> tuple[list[A], int | None]:
        """Aggregates in the order they were created (those ``keep`` keeps, if given), a
        keyset page after position ``after``; the cursor of the next page (None after the
        last)."""
        self._read_barrier()
        items: list[A] = []
        while True:
            rows = self.event_log.originators(type_name, after, limit)
            for position, aggregate_id in rows:
                aggregate = self.load(aggregate_id, cls, NotFound(f"aggregate {aggregate_id} vanished"))
                if keep is None or keep(aggregate):
                    items.append(aggregate)
                    if len(items) == limit:
                        return items, position
            if len(rows) < limit:
                return items, None
            after = rows[-1][0]

    def charge_subscription(self, charge_id: str) -> UUID | None:
        """The subscription a succeeded charge was taken on."""
        if self._batch is not None and charge_id in self._batch.charges:
            return self._batch.charges[charge_id]
        return self.recorder.select_charge_subscription(charge_id)

    def streams(self, subscriber_id: UUID) -> list[UUID]:
        """The subscriber's own stream and their subscriptions'."""
        pending = [] if self._batch is None else self._batch.streams.get(subscriber_id, [])
        stored = self.recorder.select_streams(subscriber_id)
        return stored + [i for i in pending if i not in stored]

    def find_idempotency(self, scope: str, key: str) -> IdempotencyRecord | None:
        # No barrier: a save with a key is never left in a batch.
        found = self.recorder.select_idempotency(scope, key)
        if found is None:
            return None
        return replace(found, body=open_answer(found.body, self.mapper.data_key))
