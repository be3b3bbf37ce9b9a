"""PostgreSQL schemas for tests: emptied and handed on, rather than created and dropped.

Creating the ledger's and the read models' tables in a new schema, then dropping them, costs
about a quarter of a second of catalog work per test; deleting the rows of the same tables
costs a hundredth. So a test's schema is emptied after it and given to a later test, but only
when every object in it is one the product creates, exactly as it creates it: a schema holding
a table of a test's own, a column dropped, or a model in an older stored form is dropped, as
before. A later test therefore finds either nothing, or some of the product's tables, empty,
with their sequences restarted: what a product started once on an empty database leaves.
A test that must start from a schema with nothing in it says so with the ``fresh_schema``
marker.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

import psycopg
from psycopg import sql

Objects = dict[tuple[str, str], str]
"""A schema's objects: (kind, name) -> their definition, with the schema's name left out."""

_OBJECTS = """
SELECT 'relation', c.relname, c.relkind::text || ' ' || coalesce((
         SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                           || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                           || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), ''),
                           ', ' ORDER BY a.attnum)
         FROM pg_attribute a LEFT JOIN pg_attrdef d
           ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')
       || coalesce(' ' || pg_get_indexdef(c.oid), '')
FROM pg_class c WHERE c.relnamespace = %(schema)s::regnamespace
UNION ALL
SELECT 'constraint', co.conname, pg_get_constraintdef(co.oid)
FROM pg_constraint co WHERE co.connamespace = %(schema)s::regnamespace
UNION ALL
SELECT 'function', p.proname, pg_get_functiondef(p.oid)
FROM pg_proc p WHERE p.pronamespace = %(schema)s::regnamespace
"""


def schema_objects(conn: psycopg.Connection, schema: str) -> Objects:
    """Every table, index, sequence, type, constraint and function in ``schema``."""
    own = re.compile(r'\b"?' + re.escape(schema) + r'"?\.')
    rows = conn.execute(_OBJECTS, {"schema": schema}).fetchall()
    return {(kind, name): own.sub("", definition or "") for kind, name, definition in rows}


class SchemaPool:
    """Schemas for one test session's database, over one autocommit connection."""

    def __init__(self, conn: psycopg.Connection, product: Callable[[str], None]) -> None:
        """``product(schema)`` creates every object the product creates in ``schema``: the
        objects a schema may hold and still be handed on."""
        self._conn = conn
        self._emptied: list[str] = []
        self.created = self.handed_on = 0
        canonical = self._create()
        try:
            product(canonical)
            self._product = schema_objects(conn, canonical)
        finally:
            self._drop(canonical)

    def take(self, fresh: bool = False) -> str:
        """A schema for one test: an emptied one if there is one and ``fresh`` is not asked."""
        if self._emptied and not fresh:
            self.handed_on += 1
            return self._emptied.pop()
        self.created += 1
        return self._create()

    def give_back(self, schema: str) -> None:
        """Empties ``schema`` for a later test if it holds only the product's objects, as the
        product makes them; drops it otherwise (or if it cannot be emptied)."""
        objects = schema_objects(self._conn, schema)
        if any(self._product.get(key) != found for key, found in objects.items()):
            self._drop(schema)
            return
        try:
            self._empty(schema, [name for (kind, name), definition in objects.items()
                                 if kind == "relation" and definition.startswith(("r ", "S "))])
        except psycopg.Error:
            self._drop(schema)
            return
        self._emptied.append(schema)

    def close(self) -> None:
        while self._emptied:
            self._drop(self._emptied.pop())

    def _empty(self, schema: str, relations: list[str]) -> None:
        with self._conn.transaction():
            for name in relations:
                if self._product[("relation", name)].startswith("S "):
                    self._conn.execute("SELECT setval(%s::regclass, 1, false)",
                                       [sql.Identifier(schema, name).as_string(self._conn)])
                else:
                    self._conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(schema, name)))

    def _create(self) -> str:
        schema = f"t_{secrets.token_hex(6)}"
        self._conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        return schema

    def _drop(self, schema: str) -> None:
        self._conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
