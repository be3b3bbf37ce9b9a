"""The ``<app>_subscriber_keys`` table: each subscriber's wrapped data key, outside the log.

A row is written in the transaction of the first events it seals; forgetting overwrites it
with no key (``wrapped`` null, ``forgotten_at`` set) in the transaction of
``SubscriberForgotten``, so a forgotten subscriber keeps a row that says so (and a personal
field written about them afterwards is stored as null). Rotation updates ``wrapped`` and
``kek`` only where the row is still wrapped by the old key, so it never revives a shredded
key.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from .data_keys import WrappedKey


class KeyStatements:
    """The table's SQL in one dialect (PostgreSQL ``%s`` and uuid/bytea, SQLite ``?``)."""

    def __init__(self, table: str, *, postgres: bool, schema: str = "") -> None:
        self.postgres = postgres
        self.table = f'"{schema}"."{table}"' if postgres else table
        mark = "%s" if postgres else "?"
        ids, blob, time = ("uuid", "bytea", "timestamptz") if postgres else ("TEXT", "BLOB", "TEXT")
        self.create = (
            f"CREATE TABLE IF NOT EXISTS {self.table} (subscriber_id {ids} PRIMARY KEY,"
            f" wrapped {blob}, kek TEXT, forgotten_at {time})")
        self.insert = (f"INSERT INTO {self.table} (subscriber_id, wrapped, kek)"
                       f" VALUES ({mark}, {mark}, {mark})")
        self.shred = (
            f"INSERT INTO {self.table} (subscriber_id, wrapped, kek, forgotten_at)"
            f" VALUES ({mark}, NULL, NULL, {mark}) ON CONFLICT (subscriber_id) DO UPDATE SET"
            " wrapped = NULL, kek = NULL, forgotten_at = excluded.forgotten_at")
        self.select = (f"SELECT subscriber_id, wrapped, kek FROM {self.table}"
                       f" WHERE subscriber_id = {mark}")
        self.page = (f"SELECT subscriber_id, wrapped, kek FROM {self.table}"
                     f" WHERE wrapped IS NOT NULL AND subscriber_id > {mark}"
                     f" ORDER BY subscriber_id LIMIT {mark}")
        self.rewrap = (f"UPDATE {self.table} SET wrapped = {mark}, kek = {mark}"
                       f" WHERE subscriber_id = {mark} AND kek = {mark} AND wrapped IS NOT NULL"
                       " RETURNING subscriber_id")

    def id(self, subscriber_id: UUID) -> Any:
        return subscriber_id if self.postgres else subscriber_id.hex

    def row(self, found: Any) -> WrappedKey:
        stored = found["subscriber_id"]
        wrapped = found["wrapped"]
        return WrappedKey(stored if isinstance(stored, UUID) else UUID(stored),
                          None if wrapped is None else bytes(wrapped), found["kek"])

    def lowest(self) -> Any:
        return UUID(int=0) if self.postgres else ""


def insert(cursor: Any, sql: KeyStatements, rows: Sequence[WrappedKey]) -> None:
    """New keys; a second key for the same subscriber fails the transaction (its events
    would be sealed with a key that is not kept)."""
    for row in rows:
        cursor.execute(sql.insert, (sql.id(row.subscriber_id), row.wrapped, row.kek))


def shred(cursor: Any, sql: KeyStatements, subscriber_id: UUID, at: datetime) -> None:
    when: Any = at if sql.postgres else at.isoformat()
    cursor.execute(sql.shred, (sql.id(subscriber_id), when))


def select(cursor: Any, sql: KeyStatements, subscriber_id: UUID) -> WrappedKey | None:
    cursor.execute(sql.select, (sql.id(subscriber_id),))
    found = cursor.fetchone()
    return None if found is None else sql.row(found)


def page(cursor: Any, sql: KeyStatements, after: Any, limit: int) -> list[WrappedKey]:
    """Wrapped (not shredded) keys after ``after`` in id order."""
    cursor.execute(sql.page, (sql.lowest() if after is None else sql.id(after), limit))
    return [sql.row(found) for found in cursor.fetchall()]


def rewrap(cursor: Any, sql: KeyStatements,
           pairs: Sequence[tuple[WrappedKey, WrappedKey]]) -> int:
    """Each (old, new) row replaced where it is still ``old``'s wrapping; the number
    replaced (a row forgotten meanwhile is left shredded)."""
    done = 0
    for old, new in pairs:
        cursor.execute(sql.rewrap, (new.wrapped, new.kek, sql.id(old.subscriber_id), old.kek))
        done += len(cursor.fetchall())
    return done
