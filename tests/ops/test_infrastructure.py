"""The database fixtures themselves: real PostgreSQL, real SQLite files."""

from __future__ import annotations

import sqlite3
from urllib.parse import parse_qs, urlsplit, urlunsplit

import psycopg


def _connect(schema_url: str) -> tuple[psycopg.Connection, str]:
    """Connect to the database of a `...?schema=NAME` URL; return the connection and NAME."""
    parts = urlsplit(schema_url)
    (schema,) = parse_qs(parts.query)["schema"]
    dsn = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return psycopg.connect(dsn, connect_timeout=10), schema


def test_pg_schema_url_connects_to_a_fresh_empty_schema(pg_schema_url: str) -> None:
    assert pg_schema_url.startswith("postgresql://subledger_test:subledger_test@127.0.0.1:")
    conn, schema = _connect(pg_schema_url)
    with conn:
        assert schema.startswith("t_")
        assert conn.execute(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s", [schema]
        ).fetchone() == (1,)
        assert conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s",
            [schema],
        ).fetchone() == (0,)


def test_pg_schema_url_tables_land_in_their_own_schema(pg_schema_url: str) -> None:
    conn, schema = _connect(pg_schema_url)
    with conn:
        conn.execute(f'SET search_path TO "{schema}"')
        conn.execute("CREATE TABLE probe (id int PRIMARY KEY)")
        conn.execute("INSERT INTO probe VALUES (1)")
        rows = conn.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'probe'"
        ).fetchall()
        assert rows == [(schema,)]


def test_database_url_runs_on_both_stores(database_url: str) -> None:
    if database_url.startswith("sqlite:"):
        assert database_url.startswith("sqlite:////")  # absolute path: four slashes
        path = database_url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    else:
        conn, _ = _connect(database_url)
        with conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
