"""The honest baseline of a command: raw psycopg writing the rows the command wrote, of the
same tables' shapes and sizes, in as many transactions.

From a :class:`~bench.census.Census`: each table the command wrote gets a copy
(``CREATE TABLE ... (LIKE ... INCLUDING ALL)``: its columns, keys and indexes) in a schema of
its own; the rows written are copies of rows the command itself wrote (the events appended
in the measured run; a sample of the side tables), with fresh uuids and fresh values in the
unique text columns. The transactions that saved carry the inserts, updates and deletes,
spread evenly over them; the command's other transactions (loading an aggregate, reading a
key) are each one keyed ``SELECT`` of as many event rows as the command read per load.
No table lock, no ping, no ``NOTIFY``: what the ledger adds to PostgreSQL's own cost shows in
the ratio.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections import Counter, defaultdict
from typing import Any

import psycopg
from psycopg import sql

from .census import EVENTS_TABLE, Census

RAW = "bench_raw"
SAMPLE = 500


class _Table:
    """A copy of one ledger table, and how to make fresh rows like the sample's."""

    def __init__(self, conn: psycopg.Connection[Any], source: str, name: str, after_event: int) -> None:
        self.name = sql.Identifier(RAW, name)
        conn.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
            self.name, sql.Identifier(source, name)))
        columns = conn.execute(
            "SELECT column_name, data_type, coalesce(column_default, '') LIKE 'nextval%%'"
            " OR is_identity = 'YES' FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (source, name)).fetchall()
        unique = {row[0] for row in conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
            " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisunique",
            (f'"{source}"."{name}"',))}
        self.key = [row[0] for row in conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
            " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
            (f'"{source}"."{name}"',))]
        self.columns = [c for c, _, generated in columns if not generated]
        self.fresh = {c: kind for c, kind, _ in columns
                      if kind == "uuid" or (c in unique and kind == "text")}
        where = sql.SQL(" WHERE notification_id > {}").format(after_event) \
            if name == EVENTS_TABLE else sql.SQL("")
        self.sample = conn.execute(sql.SQL("SELECT {} FROM {}{} LIMIT {}").format(
            sql.SQL(", ").join(map(sql.Identifier, self.columns)), sql.Identifier(source, name),
            where, SAMPLE)).fetchall()
        if not self.sample:
            raise RuntimeError(f"no row of {name} to copy")
        self._next = 0

    def row(self) -> tuple[Any, ...]:
        """A new row like the next sampled one."""
        sample = self.sample[self._next % len(self.sample)]
        self._next += 1
        return tuple(self._fresh(c, v) if c in self.fresh else v
                     for c, v in zip(self.columns, sample, strict=True))

    def _fresh(self, column: str, value: Any) -> Any:
        if self.fresh[column] == "uuid":
            return uuid.uuid4()
        return secrets.token_hex(len(value) // 2 + 1)[:len(value)] if value else value

    def insert(self, curs: psycopg.Cursor[Any], rows: list[tuple[Any, ...]]) -> None:
        curs.executemany(sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            self.name, sql.SQL(", ").join(map(sql.Identifier, self.columns)),
            sql.SQL(", ").join(sql.Placeholder() * len(self.columns))), rows)

    def key_of(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(row[self.columns.index(c)] for c in self.key)

    def updates(self, keys: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Parameters of :meth:`update`: each row's other columns set as in a new row."""
        rest = [c for c in self.columns if c not in self.key]
        return [tuple(v for c, v in zip(self.columns, self.row(), strict=True) if c in rest) + key
                for key in keys]

    def update(self, curs: psycopg.Cursor[Any], params: list[tuple[Any, ...]]) -> None:
        rest = [c for c in self.columns if c not in self.key]
        curs.executemany(sql.SQL("UPDATE {} SET {} WHERE {}").format(
            self.name, sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in rest),
            sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in self.key)),
            params)

    def delete(self, curs: psycopg.Cursor[Any], keys: list[tuple[Any, ...]]) -> None:
        curs.executemany(sql.SQL("DELETE FROM {} WHERE {}").format(
            self.name, sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(c))
                                             for c in self.key)), keys)


def _spread(total: int, slots: int) -> list[int]:
    """``total`` items over ``slots`` as evenly as whole numbers allow."""
    return [(total * (i + 1)) // slots - (total * i) // slots for i in range(slots)]


def raw_rate(url: str, measured: Census, after_event: int, source: str = "public") -> float:
    """Commands per second of raw psycopg doing what ``measured`` says ``measured.commands``
    commands did (rows from ``source``; events appended after ``after_event``)."""
    n = measured.commands
    with psycopg.connect(url) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(RAW)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(RAW)))
        names = sorted({t for t, _ in measured.rows} | {EVENTS_TABLE})
        tables = {t: _Table(conn, source, t, after_event) for t in names}
        work = Counter({key: round(per * n) for key, per in measured.rows.items()})
        # Rows to update, delete and read exist beforehand, as they did for the commands.
        existing: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        with conn.cursor() as curs:
            for t, table in tables.items():
                count = work[(t, "update")] + work[(t, "delete")] + (SAMPLE if t == EVENTS_TABLE else 0)
                rows = [table.row() for _ in range(count)]
                table.insert(curs, rows)
                existing[t] = [table.key_of(r) for r in rows]
        conn.commit()
        streams = [k[0] for k in existing[EVENTS_TABLE][-SAMPLE:]]
        transactions = round(measured.transactions * n)
        saves = round(measured.saves * n)
        reads = transactions - saves
        per_read = max(1, round(measured.fetched / max(measured.loads, 1e-9)))
        plan = _plan(tables, work, existing, saves)
        start = time.perf_counter()
        with conn.cursor() as curs:
            for i in range(max(transactions, 1)):
                # A save every transactions/saves transactions, reads between them.
                if saves and (i + 1) * saves // max(transactions, 1) > i * saves // max(transactions, 1):
                    for step in plan.pop():
                        step(curs)
                elif reads:
                    curs.execute(sql.SQL("SELECT * FROM {} WHERE {} = ANY(%s) LIMIT %s").format(
                        tables[EVENTS_TABLE].name, sql.Identifier(tables[EVENTS_TABLE].key[0])),
                        (streams[i % len(streams):i % len(streams) + per_read], per_read))
                    curs.fetchall()
                conn.commit()
        seconds = time.perf_counter() - start
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(RAW)))
        conn.commit()
    return n / seconds if seconds > 0 else float("inf")


def _plan(tables: dict[str, _Table], work: Counter[tuple[str, str]],
          existing: dict[str, list[tuple[Any, ...]]], saves: int) -> list[list[Any]]:
    """The statements of each save (rows made beforehand, so the timing holds only SQL)."""
    steps: list[list[Any]] = [[] for _ in range(max(saves, 1))]
    for (t, kind), total in sorted(work.items()):
        table = tables[t]
        keys = existing[t]
        for slot, count in enumerate(_spread(total, len(steps))):
            if not count:
                continue
            if kind == "insert":
                rows = [table.row() for _ in range(count)]
                steps[slot].append(lambda c, table=table, rows=rows: table.insert(c, rows))
            else:
                chosen, keys[:] = keys[:count], keys[count:]
                if kind == "update":
                    params = table.updates(chosen)
                    steps[slot].append(lambda c, table=table, p=params: table.update(c, p))
                else:
                    steps[slot].append(lambda c, table=table, p=chosen: table.delete(c, p))
    return steps
