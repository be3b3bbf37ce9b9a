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
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol

import psycopg

from subledger.store.log import EventLog

from .store import ViewCursor, ViewStore

logger = logging.getLogger(__name__)

PAGE_SIZE = 1000


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
        read = 0
        while True:
            checkpoints = self.checkpoints()
            after = min(checkpoints.values(), default=0)
            page = self.log.read(after, self.page_size)
            if page.last_position is None:
                return read
            read += len(page.items)
            for model in self.models:
                seen = checkpoints[model.name]
                if seen >= page.last_position:
                    continue
                fresh = [e for e in page.items if e["position"] > seen]
                with self.store.transaction() as tx:
                    model.apply(tx, fresh)
                    self.store.set_checkpoint(tx, model.name, page.last_position, model.version)

    def lag(self) -> dict[str, int]:
        """Events each read model has still to apply."""
        head = self.log.max_position()
        return {name: max(0, head - position) for name, position in self.checkpoints().items()}

    def run_forever(self, stop: threading.Event, *, idle_wait: float = 1.0) -> None:
        """Follow the log until ``stop`` is set; errors are logged and retried with backoff."""
        backoff = 0.5
        while not stop.is_set():
            try:
                if self.run_once() == 0:
                    self._wait_for_news(stop, idle_wait)
                backoff = 0.5
            except Exception:  # noqa: BLE001 - a worker must outlive a database hiccup
                logger.exception("projection runner failed; retrying in %.1fs", backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)

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
