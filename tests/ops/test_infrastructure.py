"""The database fixtures themselves: real PostgreSQL, real SQLite files, and PostgreSQL
schemas emptied and handed on only when they hold nothing but the product's tables."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql
from support.schemas import SchemaPool


def _connect(schema_url: str) -> tuple[psycopg.Connection, str]:
    """Connect to the database of a `...?schema=NAME` URL; return the connection and NAME."""
    parts = urlsplit(schema_url)
    (schema,) = parse_qs(parts.query)["schema"]
    dsn = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return psycopg.connect(dsn, connect_timeout=10), schema


def _relations(conn: psycopg.Connection, schema: str) -> list[str]:
    return [name for (name,) in conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relkind = 'r'", [schema])]


@pytest.mark.fresh_schema
def test_a_test_marked_fresh_schema_gets_an_empty_schema_of_its_own(pg_schema_url: str) -> None:
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


def test_pg_schema_url_holds_no_row_of_an_earlier_test(pg_schema_url: str) -> None:
    conn, schema = _connect(pg_schema_url)
    with conn:
        for table in _relations(conn, schema):
            count = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
                sql.Identifier(schema, table))).fetchone()
            assert count == (0,), table


def _product(conn: psycopg.Connection) -> Callable[[str], None]:
    def make(schema: str) -> None:
        conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} (n BIGSERIAL PRIMARY KEY, v TEXT)")
                     .format(sql.Identifier(schema, "events")))
    return make


def test_a_schema_holding_only_the_products_tables_is_handed_on_emptied(
    _pg_database_conn: psycopg.Connection,
) -> None:
    make = _product(_pg_database_conn)
    pool = SchemaPool(_pg_database_conn, make)
    try:
        first = pool.take()
        make(first)
        _pg_database_conn.execute(sql.SQL("INSERT INTO {} (v) VALUES ('a'), ('b')").format(
            sql.Identifier(first, "events")))
        pool.give_back(first)

        again = pool.take()
        rows = _pg_database_conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
            sql.Identifier(again, "events"))).fetchone()
        (n,) = _pg_database_conn.execute(sql.SQL("INSERT INTO {} (v) VALUES ('c') RETURNING n")
                                         .format(sql.Identifier(again, "events"))).fetchone()
        assert (again, rows, n) == (first, (0,), 1)
        assert pool.take(fresh=True) != first
    finally:
        pool.close()


@pytest.mark.parametrize("change", [
    "CREATE TABLE {schema}.probe (id int)",
    "ALTER TABLE {schema}.events DROP COLUMN v",
    "ALTER TABLE {schema}.events ADD COLUMN w int",
    "CREATE INDEX events_v ON {schema}.events (v)",
])
def test_a_schema_a_test_changed_is_dropped_not_handed_on(
    _pg_database_conn: psycopg.Connection, change: str,
) -> None:
    make = _product(_pg_database_conn)
    pool = SchemaPool(_pg_database_conn, make)
    try:
        schema = pool.take()
        make(schema)
        _pg_database_conn.execute(change.format(schema=sql.Identifier(schema).as_string(_pg_database_conn)))
        pool.give_back(schema)

        gone = _pg_database_conn.execute(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s", [schema]
        ).fetchone()
        assert gone == (0,)
        assert pool.take() != schema
    finally:
        pool.close()


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
