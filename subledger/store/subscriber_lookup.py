"""The subscriber lookup: what subscribers are found by (their e-mail address as the ledger
compares it, their external reference), a side table written in the transaction that
appends a subscriber's events, so it never disagrees with the log.

A store whose log predates the table gets it filled from the log when a process first opens
it (:func:`ensure_postgres`, :func:`ensure_sqlite`): the table is created and filled in one
transaction, under the store's write lock on SQLite and the lock every process takes for
its tables on PostgreSQL, so no process sees the table before it is complete.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, Notification
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.utils import get_topic

from subledger.domain.subscriber import Subscriber
from subledger.domain.text import email_key

from .records import SubscriberKeys

BACKFILL_PAGE = 1000


class LookupStatements:
    """The lookup table's SQL in one dialect: PostgreSQL (``%s``, uuid ids, positions in
    ``notification_id``) or SQLite (``?``, hex ids, positions in ``rowid``)."""

    def __init__(self, table: str, events: str, *, postgres: bool, schema: str = "") -> None:
        self.postgres = postgres
        self.name = table
        self.table = f'"{schema}"."{table}"' if postgres else table
        events = f'"{schema}"."{events}"' if postgres else events
        mark = "%s" if postgres else "?"
        position = "e.notification_id" if postgres else "e.rowid"
        ids = "uuid" if postgres else "TEXT"
        self.create = [
            f"CREATE TABLE IF NOT EXISTS {self.table} (subscriber_id {ids} PRIMARY KEY,"
            " email_key TEXT NOT NULL, external_ref TEXT)",
            f"CREATE INDEX IF NOT EXISTS {table}_email ON {self.table} (email_key)",
            f"CREATE INDEX IF NOT EXISTS {table}_ref ON {self.table} (external_ref)",
        ]
        self.upsert = (
            f"INSERT INTO {self.table} (subscriber_id, email_key, external_ref)"
            f" VALUES ({mark}, {mark}, {mark}) ON CONFLICT (subscriber_id) DO UPDATE SET"
            " email_key = excluded.email_key, external_ref = excluded.external_ref")
        self.update = {column: f"UPDATE {self.table} SET {column} = {mark} WHERE subscriber_id = {mark}"
                       for column in ("email_key", "external_ref")}
        # A subscriber's position is its registration's: the first event of its aggregate.
        self._select = (
            f"SELECT {position} AS position, k.subscriber_id AS subscriber_id FROM {self.table} k"
            f" JOIN {events} e ON e.originator_id = k.subscriber_id AND e.originator_version = 1"
            f" WHERE {{filters}} {position} > {mark} ORDER BY {position} LIMIT {mark}")
        self.mark = mark
        self.page = (
            f"SELECT {position} AS position, e.originator_id AS originator_id,"
            " e.originator_version AS originator_version, e.topic AS topic, e.state AS state"
            f" FROM {events} e WHERE e.topic IN ({mark}, {mark}) AND {position} > {mark}"
            f" ORDER BY {position} LIMIT {mark}")

    def id(self, subscriber_id: UUID) -> Any:
        return subscriber_id if self.postgres else subscriber_id.hex

    def uuid(self, stored: Any) -> UUID:
        return stored if isinstance(stored, UUID) else UUID(stored)

    def select(self, *, by_email: bool, by_ref: bool) -> str:
        filters = [f"k.{column} = {self.mark} AND" for column, given in
                   (("email_key", by_email), ("external_ref", by_ref)) if given]
        return self._select.replace("{filters}", " ".join(filters))


def write(cursor: Any, sql: LookupStatements, rows: Sequence[SubscriberKeys]) -> None:
    """Record each subscriber's keys as they are after the events being appended."""
    if rows:
        cursor.executemany(sql.upsert, [(sql.id(row.subscriber_id), row.email_key, row.external_ref)
                                        for row in rows])


def select(cursor: Any, sql: LookupStatements, *, email: str | None, external_ref: str | None,
           after: int, limit: int) -> list[tuple[int, UUID]]:
    """(position, id) of the subscribers with this e-mail address (compared as
    :func:`email_key` does) and/or external reference, registered after ``after``."""
    params: list[Any] = []
    if email is not None:
        params.append(email_key(email))
    if external_ref is not None:
        params.append(external_ref)
    cursor.execute(sql.select(by_email=email is not None, by_ref=external_ref is not None),
                   (*params, after, limit))
    return [(int(row["position"]), sql.uuid(row["subscriber_id"])) for row in cursor.fetchall()]


def backfill(cursor: Any, sql: LookupStatements, mapper: Mapper[UUID]) -> int:
    """Fill the table from the log: each registration, then each change of details, in log
    order; the number of events read."""
    topics = (get_topic(Subscriber.SubscriberRegistered),
              get_topic(Subscriber.SubscriberDetailsChanged))
    after = read = 0
    while True:
        cursor.execute(sql.page, (*topics, after, BACKFILL_PAGE))
        rows = cursor.fetchall()
        if not rows:
            return read
        registered: list[tuple[Any, ...]] = []
        changed: list[tuple[str, tuple[Any, ...]]] = []
        for row in rows:
            event: Any = mapper.to_domain_event(Notification(
                id=row["position"], originator_id=sql.uuid(row["originator_id"]),
                originator_version=row["originator_version"], topic=row["topic"],
                state=bytes(row["state"])))
            subscriber = sql.id(event.originator_id)
            if isinstance(event, Subscriber.SubscriberRegistered):
                if event.email is not None:  # null: forgotten, never found again
                    registered.append((subscriber, email_key(event.email), event.external_ref))
                continue
            if not event.changes or event.changes.get("email", "") is None:
                continue
            if "email" in event.changes:
                changed.append(("email_key", (email_key(event.changes["email"]), subscriber)))
            if "external_ref" in event.changes:
                changed.append(("external_ref", (event.changes["external_ref"], subscriber)))
        # A subscriber's changes follow its registration in the log: registrations first.
        if registered:
            cursor.executemany(sql.upsert, registered)
        for column, params in changed:
            cursor.execute(sql.update[column], params)
        after, read = int(rows[-1]["position"]), read + len(rows)


def ensure_postgres(datastore: PostgresDatastore, sql: LookupStatements,
                    mapper: Mapper[UUID]) -> None:
    """Create and fill the table unless it exists, in one transaction under the lock that
    every process takes for the store's tables."""
    if _postgres_has(datastore, sql):
        return
    with datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
        curs.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                     (f"subledger-ddl-{datastore.schema}",))
        curs.execute("SELECT to_regclass(%s) IS NOT NULL AS present", (sql.table,))
        row = curs.fetchone()
        if row and row["present"]:
            return
        for statement in sql.create:
            curs.execute(statement)
        backfill(curs, sql, mapper)


def _postgres_has(datastore: PostgresDatastore, sql: LookupStatements) -> bool:
    with datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute("SELECT to_regclass(%s) IS NOT NULL AS present", (sql.table,))
        row = curs.fetchone()
    return bool(row and row["present"])


def ensure_sqlite(datastore: SQLiteDatastore, sql: LookupStatements, mapper: Mapper[UUID]) -> None:
    """Create and fill the table unless it exists, in one transaction that holds the
    database's write lock from its first statement."""
    with datastore.transaction(commit=False) as c:
        c.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (sql.name,))
        if c.fetchone() is not None:
            return
    with datastore.get_connection(commit=True) as conn:
        cursor = conn.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                           (sql.name,))
            if cursor.fetchone() is None:
                for statement in sql.create:
                    cursor.execute(statement)
                backfill(cursor, sql, mapper)
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
