"""A projection runner's catch-up is a long read of the log: it runs with the garbage
collector relaxed (``subledger.store.collector``) and gives the process its thresholds back
when it ends, even when it failed."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.projections.runner import ProjectionRunner
from subledger.projections.store import ViewCursor, ViewStore
from subledger.store.collector import RELAXED_THRESHOLDS


@pytest.fixture
def default_thresholds() -> Iterator[tuple[int, int, int]]:
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*saved)


class _Watching:
    """A read model that notes the collector's thresholds while it applies a page."""

    name = "watching"
    version = 1
    tables = ("view_watching",)
    types = ()

    def __init__(self, *, fail: bool = False) -> None:
        self.seen: list[tuple[int, int, int]] = []
        self.fail = fail

    def create(self, tx: ViewCursor) -> None:
        tx.execute("CREATE TABLE IF NOT EXISTS view_watching (position BIGINT)")

    def apply(self, tx: ViewCursor, envelopes: list[dict[str, Any]]) -> None:
        self.seen.append(gc.get_threshold())
        if self.fail:
            raise RuntimeError("the model failed")


@pytest.fixture
def runner_of(settings: Settings, ledger: Ledger) -> Iterator[Callable[[_Watching], ProjectionRunner]]:
    """A runner of one model over a log of one event; its views closed at the end."""
    ledger.subscribers.register(email="ada@example.com", name="Ada")
    stores: list[ViewStore] = []

    def make(model: _Watching) -> ProjectionRunner:
        stores.append(ViewStore(settings))
        return ProjectionRunner(ledger.event_log, stores[-1], [model])

    yield make
    for store in stores:
        store.close()


def test_a_catch_up_raises_the_first_threshold_and_gives_it_back(
        runner_of: Callable[[_Watching], ProjectionRunner],
        default_thresholds: tuple[int, int, int]) -> None:
    model = _Watching()
    runner = runner_of(model)

    assert runner.run_once() == 1

    assert model.seen and all(t == RELAXED_THRESHOLDS for t in model.seen)
    assert gc.get_threshold() == default_thresholds


def test_a_failed_catch_up_gives_the_thresholds_back(
        runner_of: Callable[[_Watching], ProjectionRunner],
        default_thresholds: tuple[int, int, int]) -> None:
    runner = runner_of(_Watching(fail=True))

    with pytest.raises(RuntimeError, match="the model failed"):
        runner.run_once()

    assert gc.get_threshold() == default_thresholds
