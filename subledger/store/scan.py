"""Scanning the log in global order for a long read: every stored notification in a range of
positions, in batches, with memory flat whatever the log's size.

PostgreSQL streams one query through a server-side cursor (a ``READ ONLY`` transaction, one
snapshot, binary results: bytea arrives as bytes without hex decoding), which waits up to
:data:`IDLE_BETWEEN_BATCHES` for its consumer between two batches. SQLite reads keyset
pages (``rowid > last``), each in a short read transaction of its own, so a long scan never
holds the writer back; the log is append-only and the scan stops at a position fixed before
it started, so the pages add up to one consistent prefix.

:func:`read_page` is one such page, one query on either database: what the log's paged
readers (``EventLog.read``, a projection runner's catch-up) ask for, ``limit`` rows after a
position.

Each row is a :class:`StoredRow`, which has what the library's mapper reads of a stored
event (a plain tuple: a scan makes one per event, and the library's frozen dataclass costs
several times more to build); decoding them into events is the mapper's
(:class:`subledger.store.log.EventLog`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple
from uuid import UUID

from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier

from .recorders import LedgerPostgresRecorder, LedgerRecorder, LedgerSQLiteRecorder


class StoredRow(NamedTuple):
    """A stored event at its position, as the mapper's ``to_domain_event`` reads it."""

    id: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


IDLE_BETWEEN_BATCHES = "15min"
"""How long a PostgreSQL scan waits for its consumer between two batches before the server
ends it."""


@dataclass(frozen=True)
class ScanRange:
    """Which notifications a scan reads: positions in ``(after, until]`` (``until`` None: to
    the end of the log), optionally only of some stored topics, or only of one subscriber's
    streams (their own and their subscriptions')."""

    after: int
    until: int | None
    topics: Sequence[str] = ()
    subscriber_id: UUID | None = None


def scan(recorder: LedgerRecorder, selection: ScanRange, batch: int) -> Iterator[list[StoredRow]]:
    """The notifications of ``selection`` in position order, ``batch`` at a time."""
    if selection.until is not None and selection.until <= selection.after:
        return iter(())
    if isinstance(recorder, LedgerPostgresRecorder):
        return _scan_postgres(recorder, selection, batch)
    assert isinstance(recorder, LedgerSQLiteRecorder)
    return _scan_sqlite(recorder, selection, batch)


def read_page(recorder: LedgerRecorder, selection: ScanRange, limit: int) -> list[StoredRow]:
    """The first ``limit`` notifications of ``selection``, in position order."""
    if isinstance(recorder, LedgerPostgresRecorder):
        query, params = _postgres_query(recorder, selection)
        with recorder.datastore.get_connection() as conn, \
                conn.cursor(binary=True, row_factory=tuple_row) as cursor:
            cursor.execute(query + SQL(" LIMIT %s"), [*params, limit], prepare=True)
            return [StoredRow._make(row) for row in cursor.fetchall()]
    assert isinstance(recorder, LedgerSQLiteRecorder)
    return _sqlite_page(recorder, selection, selection.after, limit)


def _postgres_query(recorder: LedgerPostgresRecorder, selection: ScanRange) -> tuple[Composed, list[object]]:
    schema = Identifier(recorder.datastore.schema)
    query = SQL("SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state"
                " FROM {}.{} e").format(schema, Identifier(recorder.events_table_name))
    params: list[object] = []
    if selection.subscriber_id is not None:
        query += SQL(" JOIN {}.{} s ON s.originator_id = e.originator_id AND s.subscriber_id = %s").format(
            schema, Identifier(recorder.streams_table))
        params.append(selection.subscriber_id)
    query += SQL(" WHERE e.notification_id > %s")
    params.append(selection.after)
    if selection.until is not None:
        query += SQL(" AND e.notification_id <= %s")
        params.append(selection.until)
    if selection.topics:
        query += SQL(" AND e.topic = ANY(%s)")
        params.append(list(selection.topics))
    return query + SQL(" ORDER BY e.notification_id"), params


def _scan_postgres(recorder: LedgerPostgresRecorder, selection: ScanRange,
                   batch: int) -> Iterator[list[StoredRow]]:
    query, params = _postgres_query(recorder, selection)
    with recorder.datastore.get_connection() as conn, conn.transaction():
        conn.execute("SET TRANSACTION READ ONLY")
        # The pool's sessions end a transaction idle for 5 s; a reader's consumer may take
        # longer over a batch (a fold, a Parquet row group). Bounded still: an abandoned
        # scan must not hold its snapshot (and vacuum) back for ever.
        conn.execute(f"SET LOCAL idle_in_transaction_session_timeout = '{IDLE_BETWEEN_BATCHES}'")
        with conn.cursor(name="subledger_replay", binary=True, row_factory=tuple_row) as cursor:
            cursor.itersize = batch
            cursor.execute(query, params)
            while rows := cursor.fetchmany(batch):
                yield [StoredRow._make(row) for row in rows]


def _scan_sqlite(recorder: LedgerSQLiteRecorder, selection: ScanRange,
                 batch: int) -> Iterator[list[StoredRow]]:
    after = selection.after
    while rows := _sqlite_page(recorder, selection, after, batch):
        yield rows
        after = rows[-1].id


def _sqlite_page(recorder: LedgerSQLiteRecorder, selection: ScanRange, after: int,
                 limit: int) -> list[StoredRow]:
    """A keyset page of ``selection`` after ``after``, in a read transaction of its own."""
    table = recorder.events_table_name
    join, params = "", []
    if selection.subscriber_id is not None:
        join = (f" JOIN {recorder.streams_table} s ON s.originator_id = e.originator_id"
                " AND s.subscriber_id = ?")
        params.append(selection.subscriber_id.hex)
    clauses = ["e.rowid > ?"]
    params.append(after)
    if selection.until is not None:
        clauses.append("e.rowid <= ?")
        params.append(selection.until)
    if selection.topics:
        clauses.append(f"e.topic IN ({', '.join('?' * len(selection.topics))})")
        params += selection.topics
    statement = (f"SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state"
                 f" FROM {table} e{join} WHERE {' AND '.join(clauses)} ORDER BY e.rowid LIMIT ?")
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(statement, (*params, limit))
        rows = cursor.fetchall()
    return [StoredRow(row[0], UUID(row[1]), row[2], row[3], row[4]) for row in rows]
