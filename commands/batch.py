"""Many commands' saves in one transaction: the unit of work's batch mode.

Inside ``LedgerStore.batch()`` a command runs as it always does (load -> decide -> commit),
but its commit encodes its events and what moves with them (lookups, agenda, indexes, data
keys) into the batch instead of the store; ``flush`` appends them all in one transaction, in
the order the commands committed, so the log reads as if they had been saved one by one.
An aggregate a command saved is served from the batch to the next load until the batch closes
(no reload, no copy: the batch's process must be the only writer of what it touches). The
store's lookups a command reads (a document's or a charge's subscription, a subscriber's
streams, whether an aggregate exists) answer from the batch's rows before the store's; a read
the batch cannot answer (a listing, a save under an idempotency key) flushes it first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from subledger.domain.base import LedgerAggregate
from subledger.store.data_keys import KeyTable, WrappedKey

# What moves with events and is a list of rows to append, in order.
_APPENDED = ("subscriber_links", "charge_links", "document_links", "data_keys")
# What is one row per id, the last save's value winning (an upsert).
_LATEST = {"billing_due": lambda row: row[0], "subscriber_keys": lambda row: row.subscriber_id}


class PendingKeys:
    """The keys table as the batch sees it: each row read once, and the rows made in the
    batch (the batch's process is the only writer of its subscribers' keys)."""

    def __init__(self, table: KeyTable) -> None:
        self.table = table
        self.known: dict[UUID, WrappedKey | None] = {}

    def select_data_key(self, subscriber_id: UUID) -> WrappedKey | None:
        if subscriber_id not in self.known:
            self.known[subscriber_id] = self.table.select_data_key(subscriber_id)
        return self.known[subscriber_id]

    def new_streams(self, aggregates: tuple[LedgerAggregate, ...]) -> None:
        """A stream begun by this save has no key yet: no need to ask the table."""
        for aggregate in aggregates:
            pending = aggregate.pending_events
            if pending and pending[0].originator_version == 1:
                self.known.setdefault(aggregate.id, None)


class Batch:
    """The saves of the commands run since the last flush."""

    def __init__(self, keys: PendingKeys, aggregates: dict[UUID, LedgerAggregate]) -> None:
        self.keys = keys
        self.stored: list[StoredEvent] = []
        self.appended: dict[str, list[Any]] = {name: [] for name in _APPENDED}
        self.latest: dict[str, dict[Any, Any]] = {name: {} for name in _LATEST}
        self.forgotten: list[Any] = []
        # What the lookups would answer from this batch's rows, not yet in the store.
        self.documents: dict[str, UUID] = {}
        self.charges: dict[str, UUID] = {}
        self.streams: dict[UUID, list[UUID]] = {}
        # Kept across flushes, for the whole batch: the demo is the store's only writer, and
        # its aggregates saved are the state a load would fold again from the log.
        self.aggregates = aggregates

    def __len__(self) -> int:
        return len(self.stored)

    def empty(self) -> bool:
        # A billing decision that decided nothing still moves its agenda row.
        return not self.stored and not any(self.latest.values())

    def add(self, aggregates: tuple[LedgerAggregate, ...], encode: Callable[[Any], StoredEvent],
            kwargs: dict[str, Any]) -> None:
        """Take a command's save: its events encoded now (with the data keys its commit
        readied), and what moves with them."""
        for aggregate in aggregates:
            self.stored += [encode(event) for event in aggregate.collect_events()]
            self.aggregates[aggregate.id] = aggregate
        for name in _APPENDED:
            self.appended[name] += kwargs.get(name) or []
        for name, key in _LATEST.items():
            for row in kwargs.get(name) or []:
                self.latest[name].pop(key(row), None)  # re-inserted: written in commit order
                self.latest[name][key(row)] = row
        self.forgotten += kwargs.get("forgotten") or []
        for document_id, subscription_id in kwargs.get("document_links") or []:
            self.documents.setdefault(document_id, subscription_id)
        for charge_id, subscription_id in kwargs.get("charge_links") or []:
            self.charges.setdefault(charge_id, subscription_id)
        for link in kwargs.get("subscriber_links") or []:
            self.streams.setdefault(link.subscriber_id, []).append(link.aggregate_id)
        for row in kwargs.get("data_keys") or []:
            self.keys.known[row.subscriber_id] = row

    def cached(self, aggregate_id: UUID) -> LedgerAggregate | None:
        """The aggregate as the batch saved it; None if not in the batch, or if a refused
        command left undecided events on it (then it is loaded again)."""
        aggregate = self.aggregates.get(aggregate_id)
        if aggregate is None or aggregate.pending_events:
            return None
        return aggregate

    def insert_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {name: rows for name, rows in self.appended.items() if rows}
        kwargs.update({name: list(rows.values()) for name, rows in self.latest.items() if rows})
        if self.forgotten:
            kwargs["forgotten"] = self.forgotten
        return kwargs
