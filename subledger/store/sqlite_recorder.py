"""The library's SQLite application recorder, extended with the ledger's side tables (see
:mod:`.recorders`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from . import forgetting, key_table
from . import subscriber_lookup as lookup
from .data_keys import WrappedKey
from .records import IdempotencyRecord
from .side_tables import keys_table_name, lookup_table_name, side_table_names, sortable


class LedgerSQLiteRecorder(SQLiteApplicationRecorder):
    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name)
        (self.idempotency_table, self.streams_table, self.due_table, self.charges_table,
         self.documents_table, self.migrations_table) = side_table_names(events_table_name)
        self.lookup = lookup.LookupStatements(
            lookup_table_name(events_table_name), events_table_name, postgres=False)
        self.keys = key_table.KeyStatements(keys_table_name(events_table_name), postgres=False)

    def construct_create_table_statements(self) -> list[str]:
        idem, streams, due, charges, documents, migrations = side_table_names(self.events_table_name)
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {idem} (scope TEXT NOT NULL, key TEXT NOT NULL,"
            " fingerprint TEXT NOT NULL, status_code INTEGER NOT NULL, body TEXT NOT NULL,"
            " created_at TEXT NOT NULL, PRIMARY KEY (scope, key))",
            f"CREATE TABLE IF NOT EXISTS {streams} (subscriber_id TEXT NOT NULL,"
            " originator_id TEXT NOT NULL, PRIMARY KEY (subscriber_id, originator_id))",
            # due_at as ISO-8601 UTC text, so that text order is time order
            f"CREATE TABLE IF NOT EXISTS {due} (subscription_id TEXT PRIMARY KEY, due_at TEXT)",
            f"CREATE INDEX IF NOT EXISTS {due}_idx ON {due} (due_at, subscription_id)",
            f"CREATE TABLE IF NOT EXISTS {charges} (charge_id TEXT PRIMARY KEY,"
            " subscription_id TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {self.events_table_name}_topic_idx"
            f" ON {self.events_table_name} (topic)",
            f"CREATE TABLE IF NOT EXISTS {documents} (document_id TEXT PRIMARY KEY,"
            " subscription_id TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {migrations} (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)",
            key_table.KeyStatements(keys_table_name(self.events_table_name), postgres=False).create,
        ]

    def _insert_events(
        self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        record: IdempotencyRecord | None = kwargs.get("idempotency")
        if record is not None:
            c.execute(
                f"INSERT INTO {self.idempotency_table}"
                " (scope, key, fingerprint, status_code, body, created_at) VALUES (?,?,?,?,?,?)",
                (record.scope, record.key, record.fingerprint, record.status_code, record.body,
                 record.created_at.isoformat()),
            )
        for link in kwargs.get("subscriber_links") or ():
            c.execute(
                f"INSERT OR IGNORE INTO {self.streams_table} (subscriber_id, originator_id)"
                " VALUES (?, ?)",
                (link.subscriber_id.hex, link.aggregate_id.hex),
            )
        for subscription_id, due_at in kwargs.get("billing_due") or ():
            c.execute(
                f"INSERT INTO {self.due_table} (subscription_id, due_at) VALUES (?, ?)"
                " ON CONFLICT (subscription_id) DO UPDATE SET due_at = excluded.due_at",
                (subscription_id.hex, sortable(due_at)),
            )
        for charge_id, subscription_id in kwargs.get("charge_links") or ():
            c.execute(
                f"INSERT OR IGNORE INTO {self.charges_table} (charge_id, subscription_id)"
                " VALUES (?, ?)",
                (charge_id, subscription_id.hex),
            )
        self._insert_documents(c, kwargs.get("document_links") or ())
        if kwargs.get("subscriber_keys") or kwargs.get("forgotten"):
            # An e-mail or reference replaced or deleted is overwritten, not left in the page.
            c.execute("PRAGMA secure_delete = ON")
        lookup.write(c, self.lookup, kwargs.get("subscriber_keys") or ())
        key_table.insert(c, self.keys, kwargs.get("data_keys") or ())
        for subscriber_id, at in kwargs.get("forgotten") or ():
            forgetting.forget(c, self.keys, lookup_table=self.lookup.table,
                              idempotency_table=self.idempotency_table,
                              subscriber_id=subscriber_id, at=at)
        return super()._insert_events(c, stored_events, **kwargs)

    def _insert_documents(self, c: Any, links: Sequence[tuple[str, UUID]]) -> None:
        c.executemany(f"INSERT OR IGNORE INTO {self.documents_table} (document_id, subscription_id)"
                      " VALUES (?, ?)", [(document_id, sub.hex) for document_id, sub in links])

    def select_document_subscription(self, document_id: str) -> UUID | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT subscription_id FROM {self.documents_table} WHERE document_id = ?",
                      (document_id,))
            row = c.fetchone()
        return None if row is None else UUID(row["subscription_id"])

    def migration_applied(self, name: str) -> bool:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT 1 FROM {self.migrations_table} WHERE name = ?", (name,))
            return c.fetchone() is not None

    def apply_document_migration(self, name: str, links: Sequence[tuple[str, UUID]]) -> None:
        """Index ``links`` and record migration ``name`` as applied, in one transaction."""
        with self.datastore.transaction(commit=True) as c:
            self._insert_documents(c, links)
            c.execute(f"INSERT OR IGNORE INTO {self.migrations_table} (name, applied_at)"
                      " VALUES (?, ?)", (name, datetime.now(UTC).isoformat()))

    def ensure_subscriber_lookup(self, mapper: Mapper[UUID]) -> None:
        """The subscriber lookup, created and filled from the log if this store has none."""
        lookup.ensure_sqlite(self.datastore, self.lookup, mapper)

    def ensure_key_table(self) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(self.keys.create)

    def after_forgetting(self) -> None:
        """Move the write-ahead log into the database file and truncate it: its older frames
        still hold the pages as they were before the forgetting's deletes."""
        with self.datastore.transaction(commit=False) as c:
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def select_data_key(self, subscriber_id: UUID) -> WrappedKey | None:
        with self.datastore.transaction(commit=False) as c:
            return key_table.select(c, self.keys, subscriber_id)

    def select_data_keys(self, after: UUID | None, limit: int) -> list[WrappedKey]:
        with self.datastore.transaction(commit=False) as c:
            return key_table.page(c, self.keys, after, limit)

    def rewrap_data_keys(self, pairs: Sequence[tuple[WrappedKey, WrappedKey]]) -> int:
        with self.datastore.transaction(commit=True) as c:
            return key_table.rewrap(c, self.keys, pairs)

    def select_subscribers(self, *, email: str | None, external_ref: str | None, after: int,
                           limit: int) -> list[tuple[int, UUID]]:
        with self.datastore.transaction(commit=False) as c:
            return lookup.select(c, self.lookup, email=email, external_ref=external_ref,
                                 after=after, limit=limit)

    def select_idempotency(self, scope: str, key: str) -> IdempotencyRecord | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT * FROM {self.idempotency_table} WHERE scope = ? AND key = ?", (scope, key)
            )
            row = c.fetchone()
        if row is None:
            return None
        values = dict(row)
        values["created_at"] = datetime.fromisoformat(values["created_at"])
        return IdempotencyRecord(**values)

    def select_streams(self, subscriber_id: UUID) -> list[UUID]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT originator_id FROM {self.streams_table} WHERE subscriber_id = ?",
                (subscriber_id.hex,),
            )
            return [UUID(row["originator_id"]) for row in c.fetchall()]

    def select_due(
        self, until: datetime, after: tuple[datetime, UUID] | None, limit: int
    ) -> list[tuple[datetime, UUID]]:
        with self.datastore.transaction(commit=False) as c:
            if after is None:
                c.execute(
                    f"SELECT due_at, subscription_id FROM {self.due_table} WHERE due_at <= ?"
                    " ORDER BY due_at, subscription_id LIMIT ?",
                    (sortable(until), limit),
                )
            else:
                c.execute(
                    f"SELECT due_at, subscription_id FROM {self.due_table} WHERE due_at <= ?"
                    " AND (due_at > ? OR (due_at = ? AND subscription_id > ?))"
                    " ORDER BY due_at, subscription_id LIMIT ?",
                    (sortable(until), sortable(after[0]), sortable(after[0]), after[1].hex, limit),
                )
            return [(datetime.fromisoformat(row["due_at"]), UUID(row["subscription_id"]))
                    for row in c.fetchall()]

    def count_due(self, until: datetime) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT count(*) AS n FROM {self.due_table} WHERE due_at <= ?",
                      (sortable(until),))
            return int(c.fetchone()["n"])

    def select_charge_subscription(self, charge_id: str) -> UUID | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT subscription_id FROM {self.charges_table} WHERE charge_id = ?",
                      (charge_id,))
            row = c.fetchone()
        return None if row is None else UUID(row["subscription_id"])

    def ping(self) -> None:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT 1")
