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
``--verify`` is the analysts' side (``subledger.replay.verify``): it builds the model into a
scratch copy through :meth:`reset` and :meth:`catch_up`, and compares.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg

from subledger.store.collector import relaxed
from subledger.store.log import EventLog, Page

from .follow import Follower
from .store import ViewCursor, ViewStore

logger = logging.getLogger(__name__)

PAGE_SIZE = 1000
REBUILD_PAGE_SIZE = 5000
"""Events per page of :meth:`ProjectionRunner.rebuild_model`: a model writes its per-day and
cohort totals once per page for every key the page touches, and a rebuild's pages touch
most keys, so larger pages write them fewer times (an ``mrr`` rebuild about a tenth shorter
than in pages of 1,000: docs/performance.md). A live runner keeps :data:`PAGE_SIZE`: its pages
are what arrived since the last one."""

Progress = Callable[[int, int], None]
"""``progress(done, total)``: the position reached, and the head of the log."""


class ReadModel(Protocol):
    name: str
    version: int
    tables: tuple[str, ...]
    types: tuple[str, ...]
    """The event types the model reads; () for every event (the runner reads only these when
    it catches up models that all name theirs: a rebuild of one of them)."""

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
            with self.store.creating_tables() as tx:
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
        self.reset(self.store, self.model(name))
        self.run_once()

    def rebuild_model(self, name: str, *, progress: Progress | None = None,
                      page_size: int = REBUILD_PAGE_SIZE) -> RebuildSummary:
        """Drop one read model and build it from position 0 in pages of ``page_size`` events,
        leaving the others alone; ``progress(position reached, head)`` after each page."""
        model = self.model(name)
        started = time.monotonic()
        pages = 0

        def paged(done: int, total: int) -> None:
            nonlocal pages
            pages += 1
            if progress is not None:
                progress(done, total)

        self.reset(self.store, model)
        read = self.catch_up(self.store, [model], progress=paged, page_size=page_size)
        with self.store.transaction() as tx:
            rows = {t: int(tx.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index]
                    for t in model.tables}
        return RebuildSummary(view=name, position=(self.store.checkpoint(name) or (0, 0))[0],
                              events_read=read, rows=rows, seconds=time.monotonic() - started,
                              pages=pages, page_size=page_size)

    def model(self, name: str) -> ReadModel:
        """The read model called ``name`` (``KeyError`` if there is none)."""
        for model in self.models:
            if model.name == name:
                return model
        raise KeyError(name)

    def reset(self, store: ViewStore, model: ReadModel) -> None:
        """Empty ``model``'s tables in ``store`` (the live views, or a scratch copy) and set
        its checkpoint back to position 0."""
        with store.creating_tables() as tx:
            self._drop(tx, model)
            model.create(tx)
            store.set_checkpoint(tx, model.name, 0, model.version)

    @staticmethod
    def _drop(tx: ViewCursor, model: ReadModel) -> None:
        for table in model.tables:
            tx.execute(f"DROP TABLE IF EXISTS {table}")

    def checkpoints(self) -> dict[str, int]:
        return {m.name: (self.store.checkpoint(m.name) or (0, 0))[0] for m in self.models}

    def run_once(self) -> int:
        """Catch every read model up with the log; returns the events read."""
        return self.catch_up(self.store, self.models)

    def catch_up(
        self, store: ViewStore, models: Sequence[ReadModel], *, until: int | None = None,
        progress: Progress | None = None, page_size: int | None = None,
    ) -> int:
        """Apply the log to ``models`` in ``store``, page by page (of ``page_size`` events,
        the runner's own if None), up to ``until`` (the head if None); returns the events
        read. ``progress(done, total)`` after each page: the lowest checkpoint reached, and
        the head (or ``until``).

        Each page moves a model's checkpoint through :meth:`ViewStore.advance`: a second
        runner on the same views that moved or reset it meanwhile makes this one read again
        instead of applying a page twice."""
        with relaxed():  # a catch-up is a long read (subledger.store.collector)
            return self._catch_up(store, models, until=until, progress=progress,
                                  page_size=page_size or self.page_size)

    def _catch_up(self, store: ViewStore, models: Sequence[ReadModel], *, until: int | None,
                  progress: Progress | None, page_size: int) -> int:
        read = 0
        total = until if until is not None else (self.log.max_position() if progress else 0)
        types = _types_read(models)
        while True:
            checkpoints = {m.name: (store.checkpoint(m.name) or (0, 0))[0] for m in models}
            after = min(checkpoints.values(), default=0)
            if until is not None and after >= until:
                return read
            page = self._read(after, page_size, types)
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

    def _read(self, after: int, size: int, types: tuple[str, ...]) -> Page:
        """The page after ``after``; of only some ``types``, its ``last_position`` is how
        far the read reached: the last event read when the page is full, else the head."""
        if not types:
            return self.log.read(after, size)
        # Read before the page: every event up to this head is committed (each append holds
        # the log's lock until it commits), so a page short of ``size`` holds every event of
        # these types up to it.
        head = self.log.max_position()
        page = self.log.read(after, size, types)
        if len(page.items) == size:
            return page
        reached = max(head, page.last_position or 0)
        return Page(items=page.items, last_position=reached if reached > after else None)

    def lag(self) -> dict[str, int]:
        """Events each read model has still to apply."""
        head = self.log.max_position()
        return {name: max(0, head - position) for name, position in self.checkpoints().items()}

    def follower(self, *, idle: float = 1.0) -> Follower:
        """The runner as :func:`follow` runs it: caught up, it waits up to ``idle`` seconds
        for the log's news."""
        return Follower("projection runner", self.run_once, idle=idle, wait=self._wait_for_news,
                        log=logger)

    def _wait_for_news(self, stop: threading.Event, timeout: float) -> None:
        if not self.store.postgres:
            stop.wait(min(timeout, 0.2))
            return
        try:
            if self._listener is None:
                self._listener = self.store.connect()
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


def _types_read(models: Sequence[ReadModel]) -> tuple[str, ...]:
    """The event types a catch-up of ``models`` reads: () (every one) if any model reads every
    event."""
    if any(not model.types for model in models):
        return ()
    return tuple(sorted({name for model in models for name in model.types}))


def _apply_page(store: ViewStore, model: ReadModel, seen: int, last: int,
                items: list[dict[str, Any]]) -> None:
    """Apply the envelopes of a page the model has not seen, and move its checkpoint to the
    page's end, together (or neither, when another runner moved the model meanwhile)."""
    fresh = [e for e in items if e["position"] > seen]

    def write(tx: ViewCursor) -> None:
        model.apply(tx, fresh)

    store.advance(model.name, seen, last, model.version, write if fresh else None)


@dataclass(frozen=True)
class RebuildSummary:
    view: str
    position: int
    events_read: int
    rows: dict[str, int]
    seconds: float
    pages: int
    """Pages of the log read and applied, each of up to ``page_size`` events of the model's
    types."""
    page_size: int

    def as_dict(self) -> dict[str, Any]:
        return {"view": self.view, "rebuilt": True, "position": self.position,
                "events_read": self.events_read, "rows": self.rows, "pages": self.pages,
                "page_size": self.page_size,
                "seconds": round(self.seconds, 3),
                "events_per_second": round(self.events_read / self.seconds) if self.seconds else None}
