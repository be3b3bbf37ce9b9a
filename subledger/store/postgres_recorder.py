"""The library's PostgreSQL application recorder, extended with the ledger's side tables
(see :mod:`.recorders`), each call made once, without the library's retries
(:class:`.postgres.OneAttempt`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.sql import SQL, Identifier

from . import forgetting, key_table
from . import subscriber_lookup as lookup
from .data_keys import WrappedKey
from .postgres import OneAttempt
from .records import IdempotencyRecord, SubscriberLink
from .side_tables import keys_table_name, lookup_table_name, side_table_names


class LedgerPostgresRecorder(OneAttempt, PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        if datastore.schema != "public":
            # A schema named in the database URL is created with the tables; it must exist
            # before the library registers its composite type in it.
            with datastore.get_connection() as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                             (f"subledger-ddl-{datastore.schema}",))
                conn.execute(SQL("CREATE SCHEMA IF NOT EXISTS {}").format(Identifier(datastore.schema)))
        super().__init__(datastore, events_table_name=events_table_name)
        (self.idempotency_table, self.streams_table, self.due_table, self.charges_table,
         self.documents_table, self.migrations_table) = side_table_names(events_table_name)
        schema = Identifier(self.datastore.schema)
        self._documents = SQL("{}.{}").format(schema, Identifier(self.documents_table))
        self._migrations = SQL("{}.{}").format(schema, Identifier(self.migrations_table))
        self._due = SQL("{}.{}").format(schema, Identifier(self.due_table))
        self._charges = SQL("{}.{}").format(schema, Identifier(self.charges_table))
        self._idem = SQL("{}.{}").format(schema, Identifier(self.idempotency_table))
        self._streams = SQL("{}.{}").format(schema, Identifier(self.streams_table))
        self._events = SQL("{}.{}").format(schema, Identifier(self.events_table_name))
        self.lookup = lookup.LookupStatements(
            lookup_table_name(events_table_name), self.events_table_name, postgres=True,
            schema=self.datastore.schema)
        self.keys = key_table.KeyStatements(keys_table_name(events_table_name), postgres=True,
                                            schema=self.datastore.schema)
        self.sql_create_statements.extend([
            SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                " scope text NOT NULL, key text NOT NULL, fingerprint text NOT NULL,"
                " status_code integer NOT NULL, body text NOT NULL,"
                " created_at timestamptz NOT NULL, PRIMARY KEY (scope, key))"
            ).format(self._idem),
            SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                " subscriber_id uuid NOT NULL, originator_id uuid NOT NULL,"
                " PRIMARY KEY (subscriber_id, originator_id))"
            ).format(self._streams),
            # The billing clock's agenda: when each subscription next has something due.
            SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                " subscription_id uuid PRIMARY KEY, due_at timestamptz)"
            ).format(self._due),
            SQL("CREATE INDEX IF NOT EXISTS {} ON {} (due_at, subscription_id)").format(
                Identifier(f"{self.due_table}_idx"), self._due
            ),
            SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                " charge_id text PRIMARY KEY, subscription_id uuid NOT NULL)"
            ).format(self._charges),
            # Listing plans, subscribers, events of one type: keyset pages per topic.
            SQL("CREATE INDEX IF NOT EXISTS {} ON {} (topic, notification_id)").format(
                Identifier(f"{self.events_table_name}_topic_idx"), self._events
            ),
            SQL("CREATE TABLE IF NOT EXISTS {} (name text PRIMARY KEY,"
                " applied_at timestamptz NOT NULL)").format(self._migrations),
            # Last: its presence says the whole DDL ran (see _tables_exist).
            SQL("CREATE TABLE IF NOT EXISTS {} ("
                " document_id text PRIMARY KEY, subscription_id uuid NOT NULL)").format(self._documents),
        ])

    def create_table(self) -> None:
        if self._tables_exist():
            # No DDL at all when the tables are there: even an "IF NOT EXISTS" takes locks,
            # and a process starting while others write could deadlock with their inserts.
            self.datastore.register_type_adapters()
            return
        # Processes starting together (API, projector, relay, a billing run) would race on
        # the DDL ("tuple concurrently updated"): one creates, the others wait and find it.
        with self.datastore.get_connection() as conn:
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (f"subledger-ddl-{self.datastore.schema}",))
            try:
                super().create_table()
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))",
                             (f"subledger-ddl-{self.datastore.schema}",))

    def _tables_exist(self) -> bool:
        """Whether the last object the DDL creates exists (it runs in one transaction, so
        then everything before it does too)."""
        last = self.documents_table
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute("SELECT to_regclass(%s) IS NOT NULL AS present",
                         (f'"{self.datastore.schema}"."{last}"',))
            row = curs.fetchone()
        return bool(row and row["present"])

    def _insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        record: IdempotencyRecord | None = kwargs.get("idempotency")
        if record is not None:
            # Synced on its own (the nested pipeline's exit): a reused key fails here as the
            # IntegrityError it is. Left to the library's sync, its error could be read while a
            # later statement is queued, and the commit then fail as "pipeline aborted", an
            # OperationalError: a store outage to the API.
            with curs.connection.pipeline():
                curs.execute(
                    SQL("INSERT INTO {} (scope, key, fingerprint, status_code, body, created_at)"
                        " VALUES (%s, %s, %s, %s, %s, %s)").format(self._idem),
                    (record.scope, record.key, record.fingerprint, record.status_code, record.body,
                     record.created_at),
                )
        # executemany: one pipelined round trip per table, however many rows (a batch's save).
        links: Sequence[SubscriberLink] = kwargs.get("subscriber_links") or ()
        if links:
            curs.executemany(
                SQL("INSERT INTO {} (subscriber_id, originator_id) VALUES (%s, %s)"
                    " ON CONFLICT DO NOTHING").format(self._streams),
                [(link.subscriber_id, link.aggregate_id) for link in links],
            )
        if due := list(kwargs.get("billing_due") or ()):
            curs.executemany(
                SQL("INSERT INTO {} (subscription_id, due_at) VALUES (%s, %s)"
                    " ON CONFLICT (subscription_id) DO UPDATE SET due_at = EXCLUDED.due_at"
                    ).format(self._due),
                due,
            )
        if charges := list(kwargs.get("charge_links") or ()):
            curs.executemany(
                SQL("INSERT INTO {} (charge_id, subscription_id) VALUES (%s, %s)"
                    " ON CONFLICT DO NOTHING").format(self._charges),
                charges,
            )
        self._insert_documents(curs, kwargs.get("document_links") or ())
        lookup.write(curs, self.lookup, kwargs.get("subscriber_keys") or ())
        key_table.insert(curs, self.keys, kwargs.get("data_keys") or ())
        for subscriber_id, at in kwargs.get("forgotten") or ():
            forgetting.forget(curs, self.keys, lookup_table=self.lookup.table,
                              idempotency_table=f'"{self.datastore.schema}"."{self.idempotency_table}"',
                              subscriber_id=subscriber_id, at=at)
        super()._insert_events(curs, stored_events, **kwargs)

    def _insert_documents(self, curs: Any, links: Sequence[tuple[str, UUID]]) -> None:
        if links:
            curs.executemany(
                SQL("INSERT INTO {} (document_id, subscription_id) VALUES (%s, %s)"
                    " ON CONFLICT DO NOTHING").format(self._documents), list(links))

    def ensure_subscriber_lookup(self, mapper: Mapper[UUID]) -> None:
        """The subscriber lookup, created and filled from the log if this store has none."""
        lookup.ensure_postgres(self.datastore, self.lookup, mapper)

    def ensure_key_table(self) -> None:
        """The keys table, created if this store predates it (under the DDL lock)."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute("SELECT to_regclass(%s) IS NOT NULL AS present", (self.keys.table,))
            row = curs.fetchone()
        if row and row["present"]:
            return
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            curs.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                         (f"subledger-ddl-{self.datastore.schema}",))
            curs.execute(self.keys.create)

    def after_forgetting(self) -> None:
        """Nothing: the rows deleted or updated are gone from every query at once; their old
        versions stay in the data files until VACUUM reuses the space (docs/privacy.md)."""

    def select_data_key(self, subscriber_id: UUID) -> WrappedKey | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            return key_table.select(curs, self.keys, subscriber_id)

    def select_data_keys(self, after: UUID | None, limit: int) -> list[WrappedKey]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            return key_table.page(curs, self.keys, after, limit)

    def rewrap_data_keys(self, pairs: Sequence[tuple[WrappedKey, WrappedKey]]) -> int:
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            return key_table.rewrap(curs, self.keys, pairs)

    def select_subscribers(self, *, email: str | None, external_ref: str | None, after: int,
                           limit: int) -> list[tuple[int, UUID]]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            return lookup.select(curs, self.lookup, email=email, external_ref=external_ref,
                                 after=after, limit=limit)

    def select_idempotency(self, scope: str, key: str) -> IdempotencyRecord | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("SELECT * FROM {} WHERE scope = %s AND key = %s").format(self._idem),
                (scope, key),
            )
            row = curs.fetchone()
        return None if row is None else IdempotencyRecord(**row)

    def select_streams(self, subscriber_id: UUID) -> list[UUID]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("SELECT originator_id FROM {} WHERE subscriber_id = %s").format(self._streams),
                (subscriber_id,),
            )
            return [row["originator_id"] for row in curs.fetchall()]

    def select_due(
        self, until: datetime, after: tuple[datetime, UUID] | None, limit: int
    ) -> list[tuple[datetime, UUID]]:
        """Subscriptions with something due by ``until``, in (due_at, id) keyset order."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            if after is None:
                curs.execute(
                    SQL("SELECT due_at, subscription_id FROM {} WHERE due_at <= %s"
                        " ORDER BY due_at, subscription_id LIMIT %s").format(self._due),
                    (until, limit),
                )
            else:
                curs.execute(
                    SQL("SELECT due_at, subscription_id FROM {} WHERE due_at <= %s"
                        " AND (due_at, subscription_id) > (%s, %s)"
                        " ORDER BY due_at, subscription_id LIMIT %s").format(self._due),
                    (until, after[0], after[1], limit),
                )
            return [(row["due_at"], row["subscription_id"]) for row in curs.fetchall()]

    def count_due(self, until: datetime) -> int:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT count(*) AS n FROM {} WHERE due_at <= %s").format(self._due),
                         (until,))
            row = curs.fetchone()
        return int(row["n"]) if row else 0

    def select_charge_subscription(self, charge_id: str) -> UUID | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("SELECT subscription_id FROM {} WHERE charge_id = %s").format(self._charges),
                (charge_id,),
            )
            row = curs.fetchone()
        return None if row is None else row["subscription_id"]

    def select_document_subscription(self, document_id: str) -> UUID | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("SELECT subscription_id FROM {} WHERE document_id = %s").format(self._documents),
                (document_id,),
            )
            row = curs.fetchone()
        return None if row is None else row["subscription_id"]

    def migration_applied(self, name: str) -> bool:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT 1 FROM {} WHERE name = %s").format(self._migrations), (name,))
            return curs.fetchone() is not None

    def apply_document_migration(self, name: str, links: Sequence[tuple[str, UUID]]) -> None:
        """Index ``links`` and record migration ``name`` as applied, in one transaction."""
        with self.datastore.transaction(commit=True) as curs:
            self._insert_documents(curs, links)
            curs.execute(SQL("INSERT INTO {} (name, applied_at) VALUES (%s, now())"
                             " ON CONFLICT DO NOTHING").format(self._migrations), (name,))

    def ping(self) -> None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute("SELECT 1")
