"""Comparing a read model with its rebuild, table by table: what ``subledger rebuild VIEW
--verify`` reports as the first difference.

Tables are compared row by row, named by their primary key (or :data:`NATURAL_KEYS`, or all
their columns). A bitemporal table (``recorded_from``, ``recorded_to``) is compared twice:
first its rows believed now (``recorded_to`` = :data:`FOREVER`), then every row. A belief is
what a row says over its recorded interval, so rows are first normalised: an interval of no
time is dropped (never believed) and the intervals of one row that meet are joined (a command
whose events straddled two pages closes and reopens its rows at the same instant). Intervals
that overlap are kept apart: two copies believed at once are a difference.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from subledger.projections.mrr import FOREVER
from subledger.projections.runner import ReadModel
from subledger.projections.store import ViewCursor, ViewStore

INTERVAL = ("recorded_from", "recorded_to")
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    # A subscriber has at most one movement per currency, instant and kind at a time.
    "view_mrr_movements": ("subscriber_id", "currency", "at", "kind"),
}
"""Keys of tables without a primary key, to name a row in a difference (other tables:
their primary key, else every column: rows compared as a multiset)."""


@dataclass(frozen=True)
class Difference:
    """The first difference between a live table and its rebuild. ``column`` is
    ``(rows)`` when one side has a row (with this key) the other has not: then ``live`` and
    ``rebuilt`` are the numbers of such rows."""

    table: str
    scope: str
    """``current`` (rows believed now), ``history`` (every row of a bitemporal table) or
    ``rows``."""
    key: dict[str, Any]
    column: str
    live: Any
    rebuilt: Any

    def describe(self) -> str:
        key = ", ".join(f"{k}={v}" for k, v in self.key.items())
        return (f"{self.table} ({self.scope}) [{key}] {self.column}: live {self.live!r},"
                f" rebuilt {self.rebuilt!r}")

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "scope": self.scope, "key": self.key,
                "column": self.column, "live": self.live, "rebuilt": self.rebuilt}


Table = tuple[list[str], list[str], list[tuple[Any, ...]]]
"""(columns, primary key, rows) of a table."""


def snapshot(store: ViewStore, model: ReadModel) -> tuple[int, dict[str, Table]]:
    """The model's checkpoint and tables, read in one snapshot (without the model's
    ``volatile`` columns, if it names any)."""
    with store.transaction() as tx:
        if store.postgres:
            tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        found = tx.checkpoint(model.name)
        tables: dict[str, Table] = {}
        volatile: dict[str, tuple[str, ...]] = getattr(model, "volatile", {})
        for table in model.tables:
            columns, key = _columns(store, tx, table)
            columns = [c for c in columns if c not in volatile.get(table, ())]
            rows = tx.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
            tables[table] = (columns, key, rows)
    return found or 0, tables


def _columns(store: ViewStore, tx: ViewCursor, table: str) -> tuple[list[str], list[str]]:
    """A table's columns in order, and its primary key."""
    if store.postgres:
        columns = [r[0] for r in tx.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = ? ORDER BY ordinal_position", (table,)).fetchall()]
        key = [r[0] for r in tx.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
            " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass(?) AND i.indisprimary"
            " ORDER BY array_position(i.indkey::smallint[], a.attnum)", (table,)).fetchall()]
        return columns, key
    info = tx.execute(f"PRAGMA table_info({table})").fetchall()
    return [r[1] for r in info], [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]]


def first_difference(tables: Sequence[str], live: dict[str, Table],
                     rebuilt: dict[str, Table]) -> Difference | None:
    """The first difference between two snapshots of a model, in the order of its tables."""
    for table in tables:
        columns, key, rows = live[table]
        difference = _compare_table(table, columns, key, rows, rebuilt[table][2])
        if difference is not None:
            return difference
    return None


def _compare_table(table: str, columns: list[str], primary_key: list[str],
                   live: list[tuple[Any, ...]], rebuilt: list[tuple[Any, ...]]) -> Difference | None:
    if not set(INTERVAL) <= set(columns):
        key = primary_key or columns
        return _compare(table, "rows", columns, key, live, rebuilt)
    live, rebuilt = _normalise(columns, live), _normalise(columns, rebuilt)
    key = list(NATURAL_KEYS.get(table) or [c for c in columns if c not in INTERVAL])
    to = columns.index("recorded_to")
    difference = _compare(table, "current", columns, key, [r for r in live if r[to] == FOREVER],
                          [r for r in rebuilt if r[to] == FOREVER])
    return difference or _compare(table, "history", columns, [*key, "recorded_from"], live, rebuilt)


def _normalise(columns: list[str], rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows of a bitemporal table with empty intervals dropped and meeting ones joined."""
    start, end = columns.index("recorded_from"), columns.index("recorded_to")
    spans: dict[tuple[Any, ...], list[tuple[Any, Any]]] = defaultdict(list)
    for row in rows:
        if row[start] < row[end]:
            spans[tuple(v for i, v in enumerate(row) if i not in (start, end))].append((row[start], row[end]))
    out = []
    for rest, intervals in spans.items():
        intervals.sort()
        joined = [list(intervals[0])]
        for begin, finish in intervals[1:]:
            if begin == joined[-1][1]:
                joined[-1][1] = finish
            else:
                joined.append([begin, finish])
        for begin, finish in joined:
            values = iter(rest)
            out.append(tuple(begin if i == start else finish if i == end else next(values)
                             for i in range(len(columns))))
    return out


def _order(values: Sequence[Any]) -> tuple[Any, ...]:
    """A total order over rows of one table (None first, numbers before text)."""
    return tuple((0, 0, "") if v is None else (2, 0, v) if isinstance(v, str) else (1, v, "")
                 for v in values)


def _compare(table: str, scope: str, columns: list[str], key: Sequence[str],
             live: list[tuple[Any, ...]], rebuilt: list[tuple[Any, ...]]) -> Difference | None:
    """The first difference (in key order) between two sets of rows."""
    where = [columns.index(k) for k in key]

    def by_key(rows: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], list[tuple[Any, ...]]]:
        found: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)
        for row in rows:
            found[tuple(row[i] for i in where)].append(row)
        return found

    mine, theirs = by_key(live), by_key(rebuilt)
    for k in sorted(mine.keys() | theirs.keys(), key=_order):
        ours, other = sorted(mine.get(k, []), key=_order), sorted(theirs.get(k, []), key=_order)
        if ours == other:
            continue
        named = dict(zip(key, k, strict=True))
        if len(ours) != len(other):
            return Difference(table, scope, named, "(rows)", len(ours), len(other))
        for a, b in zip(ours, other, strict=True):
            for column, x, y in zip(columns, a, b, strict=True):
                if x != y:
                    return Difference(table, scope, named, column, x, y)
    return None
