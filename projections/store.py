"""The views' database: the same database as the log, tables of their own.

A tiny portable layer over psycopg and sqlite3: SQL is written with ``?`` placeholders and
run in explicit transactions; each read model's rows and its checkpoint commit together.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from subledger.config import PostgresConfig, Settings, SQLiteConfig
from subledger.store.timeouts import connection_params, ping

CHECKPOINTS = "subledger_projections"
COPY_ROWS = 1000
"""Rows from which :meth:`ViewCursor.upsert` copies them in on PostgreSQL (fewer: one
``INSERT`` each, without a staging table)."""
IN_KEYS = 500
"""Keys per statement of :meth:`ViewCursor.select_in` (SQLite allows 999 parameters in the
oldest versions still met)."""
WORKERS = "subledger_workers"
"""The last status each background worker reported (e.g. the relay: broker unavailable)."""


_CREATE_INDEX = re.compile(r"\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+IF\s+NOT\s+EXISTS\s+(\w+)\s", re.IGNORECASE)


class ViewCursor:
    """Executes ``?``-placeholder SQL on either database."""

    def __init__(self, raw: Any, postgres: bool, store: object = None) -> None:
        self._raw = raw
        self._postgres = postgres
        self.store = store
        """The views' database the transaction is in (what a model's kept state belongs to)."""

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self._postgres else statement

    def overwrite_deleted(self) -> None:
        """Have this transaction overwrite what it deletes or replaces (personal data being
        erased), rather than leave it in a free page of a SQLite file. PostgreSQL keeps old row
        versions until VACUUM whatever is asked (docs/privacy.md)."""
        if not self._postgres:
            self._raw.execute("PRAGMA secure_delete = ON")

    def execute(self, statement: str, params: Sequence[Any] = ()) -> ViewCursor:
        if self._postgres and (index := _CREATE_INDEX.match(statement)) and self._exists(index[1]):
            # PostgreSQL locks the table against writes before it finds the index exists: a
            # process starting (creating every model's indexes in one transaction) beside a
            # projector writing a page to several tables would take their locks in opposite
            # orders and deadlock. An index already there is not asked for.
            return self
        self._raw.execute(self._sql(statement), params)
        return self

    def column_names(self, table: str) -> set[str]:
        """The columns ``table`` has (one made by an older version may lack newer ones)."""
        self._raw.execute(f"SELECT * FROM {table} WHERE 1 = 0")
        return {column[0] for column in self._raw.description}

    def _exists(self, relation: str) -> bool:
        self._raw.execute("SELECT to_regclass(%s) IS NOT NULL", (relation,))
        return bool(self._raw.fetchone()[0])

    def checkpoint(self, name: str) -> int | None:
        """The position of checkpoint ``name`` as this transaction sees it (None: never set):
        where a page applied in this transaction starts."""
        row = self.execute(f"SELECT position FROM {CHECKPOINTS} WHERE name = ?", (name,)).fetchone()
        return None if row is None else int(row[0])

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._raw.executemany(self._sql(statement), rows)

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Add ``rows`` (values of ``columns``) to ``table``. On PostgreSQL more than one row
        is copied in (``COPY``): one statement, where ``executemany`` binds and runs one
        ``INSERT`` per row (an ``mrr`` rebuild a few percent shorter, and the revenue lines
        of a page added at once: docs/performance.md)."""
        if not rows:
            return
        names = ", ".join(columns)
        if self._postgres and len(rows) > 1:
            self._copy(table, names, rows)
        else:
            self.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})",
                             rows)

    def _copy(self, table: str, names: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def select_in(self, query: str, keys: Sequence[Any], params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of ``query`` for each of ``keys``: ``query`` ends in ``IN ({marks})``, run
        once per :data:`IN_KEYS` keys with ``params`` before them (a page's rows read back by
        key, in a few statements rather than one per key)."""
        found: list[tuple[Any, ...]] = []
        for start in range(0, len(keys), IN_KEYS):
            chunk = keys[start:start + IN_KEYS]
            statement = query.replace("{marks}", ", ".join("?" * len(chunk)))
            found += self.execute(statement, (*params, *chunk)).fetchall()
        return found

    def upsert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
               keys: int = 1) -> None:
        """Write ``rows`` (values of ``columns``, the first ``keys`` of them the table's
        primary key, each key once) into ``table``, each replacing the row of its key if
        there is one."""
        if not rows:
            return
        names = ", ".join(columns)
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns[keys:])
        conflict = f" ON CONFLICT ({', '.join(columns[:keys])}) DO UPDATE SET {updates}"
        if not self._postgres or len(rows) < COPY_ROWS:
            insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' for _ in columns)}){conflict}"
            if len(rows) == 1:
                self.execute(insert, rows[0])
            else:
                self.executemany(insert, rows)
            return
        # COPY into a table of the same shape, then one INSERT ... SELECT: about half the
        # time of as many INSERTs (docs/performance.md). The staging table is made for this
        # one upsert (so it has the table's shape of now) and is gone after it.
        staging = f"{table}_incoming"
        self._raw.execute(f"CREATE TEMP TABLE {staging} (LIKE {table}) ON COMMIT DROP")
        self._copy(staging, names, rows)
        self._raw.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging}{conflict}")
        self._raw.execute(f"DROP TABLE {staging}")

    @property
    def rowcount(self) -> int:
        """Rows changed by the last statement (an ``UPDATE ... WHERE`` that claims a row)."""
        return int(self._raw.rowcount)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._raw.fetchall()]

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._raw.fetchone()
        return None if row is None else tuple(row)


class ViewStore:
    """One connection to the views' database, used by one runner (a lock serialises
    transactions from the runner's thread and readers such as ``/readyz``)."""

    def __init__(self, settings: Settings) -> None:
        db = settings.database
        self.postgres = isinstance(db, PostgresConfig)
        self._lock = threading.RLock()
        self.session = 0
        """Counts PostgreSQL sessions: session state (an advisory lock) was lost when it moved."""
        self.timeout = settings.store_timeout
        self._unreachable_at: float | None = None
        """When the database last could not be reached (None once it answered again)."""
        if isinstance(db, PostgresConfig):
            self.conninfo = db.conninfo()
            self.schema = db.schema
            self._conn: Any = self._connect()
        else:
            assert isinstance(db, SQLiteConfig)
            self._conn = sqlite3.connect(db.path, isolation_level=None, check_same_thread=False,
                                         timeout=30)
            self._conn.execute("PRAGMA journal_mode=WAL")
        with self.creating_tables() as tx:
            tx.execute(f"CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (name TEXT PRIMARY KEY,"
                       " position BIGINT NOT NULL, version INTEGER NOT NULL)")
            tx.execute(f"CREATE TABLE IF NOT EXISTS {WORKERS} (name TEXT PRIMARY KEY,"
                       " status TEXT NOT NULL, detail TEXT, updated_at TEXT NOT NULL)")

    def connect(self) -> psycopg.Connection[Any]:
        """A new autocommit connection to the views' PostgreSQL database, bounded by the
        store timeout (a worker's second connection, e.g. to LISTEN, is one too)."""
        return psycopg.connect(self.conninfo, autocommit=True, **connection_params(self.timeout))

    def _connect(self) -> Any:
        conn = self.connect()
        if self.schema:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
        self.session += 1
        return conn

    @contextmanager
    def transaction(self) -> Iterator[ViewCursor]:
        """A transaction on the one connection. On PostgreSQL a connection that broke (the
        server restarted, the session was killed) is replaced on the next transaction, so a
        long-running worker recovers once the database is back; the failed transaction
        itself raises, and its caller retries."""
        asked = time.monotonic()
        with self._lock:
            if self.postgres:
                self._make_answering(asked)
                with self._conn.transaction(), self._conn.cursor() as cursor:
                    yield ViewCursor(cursor, True, self)
            else:
                cursor = self._conn.cursor()
                cursor.execute("BEGIN IMMEDIATE")
                try:
                    yield ViewCursor(cursor, False, self)
                except BaseException:
                    cursor.execute("ROLLBACK")
                    raise
                cursor.execute("COMMIT")

    def _make_answering(self, asked: float) -> None:
        """Before a transaction: reconnect if the connection broke, else ping it within the
        store timeout (a statement sent to a server that went silent would wait, holding the
        lock, until the kernel gave up). While the database cannot be reached, the callers
        that were waiting for the lock when that was found fail at once, rather than each
        spending another store timeout to find the same."""
        if self._unreachable_at is not None and self._unreachable_at >= asked:
            raise psycopg.OperationalError("the database could not be reached a moment ago")
        try:
            if self._conn.closed or self._conn.broken:
                self._conn.close()
                self._conn = self._connect()
            else:
                ping(self._conn, self.timeout)
        except psycopg.OperationalError:
            self._unreachable_at = time.monotonic()
            raise
        self._unreachable_at = None

    @contextmanager
    def creating_tables(self) -> Iterator[ViewCursor]:
        """A transaction that creates (or drops) tables: on PostgreSQL, one process at a
        time. Two concurrent ``CREATE TABLE IF NOT EXISTS`` of one table can fail on the
        catalog's unique index, so processes starting together on a fresh database (two
        servers, a server and a projector) would otherwise crash."""
        with self.transaction() as tx:
            if self.postgres:
                tx.execute("SELECT pg_advisory_xact_lock(hashtext(?))",
                           (f"subledger-views-ddl-{self.schema or ''}",))
            yield tx

    def checkpoint(self, name: str) -> tuple[int, int] | None:
        """(position, version) of a read model, or None if it was never built."""
        with self.transaction() as tx:
            return tx.execute(f"SELECT position, version FROM {CHECKPOINTS} WHERE name = ?",
                              (name,)).fetchone()

    def positions(self) -> dict[str, int]:
        """Every checkpoint: read models and relay streams, whichever process runs them."""
        with self.transaction() as tx:
            return {name: int(position) for name, position in
                    tx.execute(f"SELECT name, position FROM {CHECKPOINTS} ORDER BY name").fetchall()}

    def workers(self) -> dict[str, dict[str, str | None]]:
        """The last status each background worker reported."""
        with self.transaction() as tx:
            rows = tx.execute(f"SELECT name, status, detail, updated_at FROM {WORKERS}"
                              " ORDER BY name").fetchall()
        return {name: {"status": status, "detail": detail, "since": since}
                for name, status, detail, since in rows}

    @staticmethod
    def set_checkpoint(tx: ViewCursor, name: str, position: int, version: int) -> None:
        tx.upsert(CHECKPOINTS, ("name", "position", "version"), [(name, position, version)])

    def advance(self, name: str, seen: int, position: int, version: int,
                write: Callable[[ViewCursor], None] | None = None) -> bool:
        """Move a checkpoint from ``seen`` (the position a batch was read after) to
        ``position``, with ``write(tx)``, the batch's output, in the same transaction; returns
        whether it moved. The row is locked first, so a second worker on the same checkpoint
        (``subledger rebuild`` next to ``subledger serve``, a relay taking over) that moved or
        reset it meanwhile makes this one read again instead of applying a batch twice. A
        missing checkpoint counts as position 0.

        ``write`` runs before the checkpoint moves: a read model may read its own checkpoint
        while it applies a page (the ``mrr`` history cache does)."""
        with self.transaction() as tx:
            # SQLite's BEGIN IMMEDIATE already holds the database's one write lock.
            lock = " FOR UPDATE" if self.postgres else ""
            row = tx.execute(f"SELECT position FROM {CHECKPOINTS} WHERE name = ?{lock}",
                             (name,)).fetchone()
            if (0 if row is None else int(row[0])) != seen:
                return False
            if write is not None:
                write(tx)
            self.set_checkpoint(tx, name, position, version)
            return True

    def truncate_wal(self) -> None:
        """On SQLite, move the write-ahead log into the file and truncate it: its frames hold
        pages as they were before the last transactions (nothing to do on PostgreSQL)."""
        if not self.postgres:
            with self._lock:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
