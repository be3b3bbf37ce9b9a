"""Everything a store holds, as bytes to search for a plaintext datum: the SQLite file with
its write-ahead log and journal, raw; or every value of every column of every table of the
PostgreSQL schema (read live, so what a query, a dump or a replica would see)."""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

from subledger.config import PostgresConfig, Settings, SQLiteConfig


def stored_bytes(settings: Settings) -> bytes:
    db = settings.database
    if isinstance(db, SQLiteConfig):
        path = Path(db.path)
        files = [path, *(path.with_name(path.name + s) for s in ("-wal", "-journal", "-shm"))]
        return b"".join(f.read_bytes() for f in files if f.exists())
    assert isinstance(db, PostgresConfig)
    return _postgres_bytes(db)


def _postgres_bytes(db: PostgresConfig) -> bytes:
    out: list[bytes] = []
    with psycopg.connect(db.conninfo(), autocommit=True) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
            " AND table_type = 'BASE TABLE'", (db.schema,)).fetchall()
        assert tables, f"no table in schema {db.schema}"
        for (table,) in tables:
            # every column as text (bytea as its escape form and as raw bytes)
            rows = conn.execute(sql.SQL("SELECT * FROM {}.{}").format(
                sql.Identifier(db.schema), sql.Identifier(table))).fetchall()
            for row in rows:
                for value in row:
                    if isinstance(value, (bytes, memoryview)):
                        out.append(bytes(value))
                    elif value is not None:
                        out.append(str(value).encode())
    return b"\n".join(out)


def holds(settings: Settings, *data: str) -> list[str]:
    """Which of ``data`` the store holds in clear, anywhere."""
    raw = stored_bytes(settings)
    return [datum for datum in data if datum.encode() in raw or datum.lower().encode() in raw]
