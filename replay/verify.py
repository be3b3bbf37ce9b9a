"""Verifying a read model: build it again from position 0 into a scratch copy of the views
(a throwaway PostgreSQL schema, or a throwaway SQLite file) up to the live model's position,
and compare the two (:mod:`.compare`) without touching the live model. ``subledger rebuild
VIEW --verify`` runs it.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from subledger.config import PostgresConfig, Settings, SQLiteConfig
from subledger.projections.runner import REBUILD_PAGE_SIZE, Progress, ProjectionRunner
from subledger.projections.store import ViewStore

from .compare import Difference, first_difference, snapshot


class VerifyError(RuntimeError):
    """The live model could not be compared (it was reset meanwhile)."""


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


def verify(runner: ProjectionRunner, name: str, scratch: ViewStore, *,
           progress: Progress | None = None, page_size: int = REBUILD_PAGE_SIZE) -> Verification:
    """Catch ``runner``'s live model ``name`` up, build it from position 0 into ``scratch``
    up to the live model's position (in pages of ``page_size`` events, as a rebuild), and
    compare the two (see :mod:`.compare`); the live model is only read.
    ``progress(position reached, target)`` after each page."""
    model = runner.model(name)
    started = time.monotonic()
    runner.catch_up(runner.store, [model])
    runner.reset(scratch, model)
    target = (runner.store.checkpoint(name) or (0, 0))[0]
    for _ in range(100):
        runner.catch_up(scratch, [model], until=target, progress=progress, page_size=page_size)
        position, live = snapshot(runner.store, model)
        if position == target:
            break
        if position < target:
            raise VerifyError(f"read model {name} was reset while being verified")
        target = position  # another runner moved it on: follow
    else:  # pragma: no cover - a live model that never stands still
        raise VerifyError(f"read model {name} kept moving; verify it again")
    _, rebuilt = snapshot(scratch, model)
    return Verification(
        view=name, position=target, difference=first_difference(model.tables, live, rebuilt),
        rows={t: {"live": len(live[t][2]), "rebuilt": len(rebuilt[t][2])} for t in model.tables},
        seconds=time.monotonic() - started,
    )


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
