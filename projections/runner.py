"""The one projection runner: follow the log in global order, catch up then stay live.

Each read model keeps a checkpoint: the last position it has applied. The runner reads the
log in pages after the lowest checkpoint and, for each model, applies the page's envelopes
it has not seen and moves its checkpoint, in one transaction. A crash anywhere loses
nothing and counts nothing twice: a transaction either happened (rows and checkpoint) or
did not. A model whose ``version`` changed (its definition did) is dropped and rebuilt
from position 0.

Live: on PostgreSQL the runner sleeps on LISTEN for the library's NOTIFY of new events, with
a timeout, so a LISTEN connection that dies (eventsourcing issue #305) only slows it down to
polling; SQLite has no notifications, so it polls.

``subledger rebuild VIEW`` drops one model and builds it again (:meth:`rebuild_model`);
``--verify`` builds it from position 0 into a scratch copy (:func:`scratch_views`: a
throwaway PostgreSQL schema, or a throwaway SQLite file) at the live model's position and
compares the two, table by table (:meth:`verify`), without touching the live model.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import psycopg
from psycopg import sql

from subledger.config import PostgresConfig, Settings, SQLiteConfig
from subledger.store.log import EventLog

from .follow import Follower
from .mrr import FOREVER
from .store import CHECKPOINTS, ViewCursor, ViewStore

logger = logging.getLogger(__name__)

PAGE_SIZE = 1000

Progress = Callable[[int, int], None]
"""``progress(done, total)``: the position reached, and the head of the log."""

INTERVAL = ("recorded_from", "recorded_to")
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    # A subscriber has at most one movement per currency, instant and kind at a time.
    "view_mrr_movements": ("subscriber_id", "currency", "at", "kind"),
}
"""Keys of tables without a primary key, to name a row in a difference (other tables:
their primary key, else every column: rows compared as a multiset)."""


class ReadModel(Protocol):
    name: str
    version: int
    tables: tuple[str, ...]

    def create(self, tx: ViewCursor) -> None: ...

    def apply(self, tx: ViewCursor, envelopes: list[dict[str, Any]]) -> None: ...


class ProjectionRunner:
    def __init__(
        self, log: EventLog, store: ViewStore, models: Sequence[ReadModel], *,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.log = log
        self.store = store
        self.models = list(models)
        self.page_size = page_size
        self._listener: psycopg.Connection[Any] | None = None
        self.setup()

    def setup(self) -> None:
        """Create missing tables; drop and rebuild models whose definition changed."""
        for model in self.models:
            checkpoint = self.store.checkpoint(model.name)
            with self.store.transaction() as tx:
                if checkpoint is not None and checkpoint[1] != model.version:
                    logger.warning("read model %s changed (v%s -> v%s): rebuilding",
                                   model.name, checkpoint[1], model.version)
                    self._drop(tx, model)
                    checkpoint = None
                model.create(tx)
                if checkpoint is None:
                    self.store.set_checkpoint(tx, model.name, 0, model.version)

    def rebuild(self, name: str) -> None:
        """Drop one read model and build it again from position 0."""
        model = self._model(name)
        with self.store.transaction() as tx:
            self._drop(tx, model)
            model.create(tx)
            self.store.set_checkpoint(tx, model.name, 0, model.version)
        self.run_once()

    def rebuild_model(self, name: str, *, progress: Progress | None = None) -> RebuildSummary:
        """Drop one read model and build it from position 0, leaving the others alone;
        ``progress(position reached, head)`` after each page."""
        model = self._model(name)
        started = time.monotonic()
        with self.store.transaction() as tx:
            self._drop(tx, model)
            model.create(tx)
            self.store.set_checkpoint(tx, model.name, 0, model.version)
        read = self._catch_up(self.store, [model], progress=progress)
        with self.store.transaction() as tx:
            rows = {t: int(tx.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index]
                    for t in model.tables}
        return RebuildSummary(view=name, position=(self.store.checkpoint(name) or (0, 0))[0],
                              events_read=read, rows=rows, seconds=time.monotonic() - started)

    def verify(self, name: str, scratch: ViewStore, *,
               progress: Progress | None = None) -> Verification:
        """Catch the live model up, build it from position 0 into ``scratch`` up to the live
        model's position, and compare the two; the live model is only read.

        Tables are compared row by row, named by their primary key (or
        :data:`NATURAL_KEYS`, or all their columns). A bitemporal table (``recorded_from``,
        ``recorded_to``) is compared twice: first its rows believed now (``recorded_to`` =
        :data:`FOREVER`), then every row. A belief is what a row says over its recorded
        interval, so rows are first normalised: an interval of no time is dropped (never
        believed) and the intervals of one row that meet are joined (a command whose events
        straddled two pages closes and reopens its rows at the same instant). Intervals that
        overlap are kept apart: two copies believed at once are a difference."""
        model = self._model(name)
        started = time.monotonic()
        self._catch_up(self.store, [model])
        with scratch.transaction() as tx:
            self._drop(tx, model)
            model.create(tx)
            scratch.set_checkpoint(tx, model.name, 0, model.version)
        target = (self.store.checkpoint(name) or (0, 0))[0]
        for _ in range(100):
            self._catch_up(scratch, [model], until=target, progress=progress)
            position, live = _snapshot(self.store, model)
            if position == target:
                break
            if position < target:
                raise VerifyError(f"read model {name} was reset while being verified")
            target = position  # another runner moved it on: follow
        else:  # pragma: no cover - a live model that never stands still
            raise VerifyError(f"read model {name} kept moving; verify it again")
        _, rebuilt = _snapshot(scratch, model)
        difference = None
        for table in model.tables:
            columns, key, live_rows = live[table]
            difference = _compare_table(table, columns, key, live_rows, rebuilt[table][2])
            if difference is not None:
                break
        return Verification(
            view=name, position=target, difference=difference,
            rows={t: {"live": len(live[t][2]), "rebuilt": len(rebuilt[t][2])} for t in model.tables},
            seconds=time.monotonic() - started,
        )

    def _model(self, name: str) -> ReadModel:
        for model in self.models:
            if model.name == name:
                return model
        raise KeyError(name)

    @staticmethod
    def _drop(tx: ViewCursor, model: ReadModel) -> None:
        for table in model.tables:
            tx.execute(f"DROP TABLE IF EXISTS {table}")

    def checkpoints(self) -> dict[str, int]:
        return {m.name: (self.store.checkpoint(m.name) or (0, 0))[0] for m in self.models}

    def run_once(self) -> int:
        """Catch every read model up with the log; returns the events read."""
        return self._catch_up(self.store, self.models)

    def _catch_up(
        self, store: ViewStore, models: Sequence[ReadModel], *, until: int | None = None,
        progress: Progress | None = None,
    ) -> int:
        """Apply the log to ``models`` in ``store``, page by page, up to ``until`` (the head
        if None); returns the events read. ``progress(done, total)`` after each page: the
        lowest checkpoint reached, and the head (or ``until``).

        Each page moves a model's checkpoint through :meth:`ViewStore.advance`: a second
        runner on the same views that moved or reset it meanwhile makes this one read again
        instead of applying a page twice."""
        read = 0
        total = until if until is not None else (self.log.max_position() if progress else 0)
        while True:
            checkpoints = {m.name: (store.checkpoint(m.name) or (0, 0))[0] for m in models}
            after = min(checkpoints.values(), default=0)
            if until is not None and after >= until:
                return read
            page = self.log.read(after, self.page_size)
            if page.last_position is None:
                return read
            items, last = page.items, page.last_position
            if until is not None and last > until:
                items = [e for e in items if e["position"] <= until]
                last = until
            read += len(items)
            for model in models:
                if checkpoints[model.name] < last:
                    _apply_page(store, model, checkpoints[model.name], last, items)
            if progress is not None:
                progress(last, max(total, last))

    def lag(self) -> dict[str, int]:
        """Events each read model has still to apply."""
        head = self.log.max_position()
        return {name: max(0, head - position) for name, position in self.checkpoints().items()}

    def follower(self, *, idle: float = 1.0) -> Follower:
        """The runner as :func:`follow` runs it: caught up, it waits up to ``idle`` seconds
        for the log's news."""
        return Follower("projection runner", self.run_once, idle=idle, wait=self._wait_for_news)

    def _wait_for_news(self, stop: threading.Event, timeout: float) -> None:
        if not self.store.postgres:
            stop.wait(min(timeout, 0.2))
            return
        try:
            if self._listener is None:
                self._listener = psycopg.connect(self.store.conninfo, autocommit=True)
                self._listener.execute(f"LISTEN {self.log.recorder.channel_name}")  # type: ignore[union-attr]
            for _ in self._listener.notifies(timeout=timeout, stop_after=1):
                pass
        except psycopg.Error:
            logger.warning("LISTEN connection lost; polling until it is back")
            self._listener = None
            time.sleep(min(timeout, 0.2))

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None


def _apply_page(store: ViewStore, model: ReadModel, seen: int, last: int,
                items: list[dict[str, Any]]) -> None:
    """Apply the envelopes of a page the model has not seen, and move its checkpoint to the
    page's end, together (or neither, when another runner moved the model meanwhile)."""
    fresh = [e for e in items if e["position"] > seen]

    def write(tx: ViewCursor) -> None:
        model.apply(tx, fresh)

    store.advance(model.name, seen, last, model.version, write if fresh else None)


class VerifyError(RuntimeError):
    """The live model could not be compared (it was reset meanwhile)."""


@dataclass(frozen=True)
class RebuildSummary:
    view: str
    position: int
    events_read: int
    rows: dict[str, int]
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {"view": self.view, "rebuilt": True, "position": self.position,
                "events_read": self.events_read, "rows": self.rows,
                "seconds": round(self.seconds, 3),
                "events_per_second": round(self.events_read / self.seconds) if self.seconds else None}


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


@dataclass(frozen=True)
class Verification:
    view: str
    position: int
    difference: Difference | None
    rows: dict[str, dict[str, int]]
    seconds: float

    @property
    def identical(self) -> bool:
        return self.difference is None

    def as_dict(self) -> dict[str, Any]:
        return {"view": self.view, "identical": self.identical, "position": self.position,
                "rows": self.rows, "seconds": round(self.seconds, 3),
                "difference": None if self.difference is None else self.difference.as_dict()}


@contextmanager
def scratch_views(settings: Settings) -> Iterator[ViewStore]:
    """A throwaway views' database next to the configured one: a new schema in the same
    PostgreSQL database, or a new SQLite file beside the ledger's; removed afterwards."""
    db = settings.database
    if isinstance(db, PostgresConfig):
        schema = f"subledger_scratch_{secrets.token_hex(6)}"
        with psycopg.connect(db.conninfo(), autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            store = ViewStore(replace(settings, database=replace(db, schema=schema)))
            try:
                yield store
            finally:
                store.close()
        finally:
            with psycopg.connect(db.conninfo(), autocommit=True) as admin:
                admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        return
    assert isinstance(db, SQLiteConfig)
    with tempfile.TemporaryDirectory(prefix="subledger-scratch-",
                                     dir=Path(db.path).resolve().parent) as directory:
        store = ViewStore(replace(settings, database=SQLiteConfig(os.path.join(directory, "views.db"))))
        try:
            yield store
        finally:
            store.close()


Table = tuple[list[str], list[str], list[tuple[Any, ...]]]
"""(columns, primary key, rows) of a table."""


def _snapshot(store: ViewStore, model: ReadModel) -> tuple[int, dict[str, Table]]:
    """The model's checkpoint and tables, read in one snapshot (without the model's
    ``volatile`` columns, if it names any)."""
    with store.transaction() as tx:
        if store.postgres:
            tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        found = tx.execute(f"SELECT position FROM {CHECKPOINTS} WHERE name = ?", (model.name,)).fetchone()
        tables: dict[str, Table] = {}
        volatile: dict[str, tuple[str, ...]] = getattr(model, "volatile", {})
        for table in model.tables:
            columns, key = _columns(store, tx, table)
            columns = [c for c in columns if c not in volatile.get(table, ())]
            rows = tx.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
            tables[table] = (columns, key, rows)
    return (0 if found is None else int(found[0])), tables


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
