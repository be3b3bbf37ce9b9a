"""The caches of the ``mrr`` model (each subscriber's fold) and the ``revenue`` model (each
subscriber's history, and each subscription's revenue book) never serve a stale entry: a
page that does not start right where the cache is complete (a page read again after its
transaction rolled back, a checkpoint another runner moved) drops it first, and the models
still equal a rebuild from zero."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from subledger.bootstrap import build_ledger, build_projector
from subledger.commands.demo import generate
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.projections.mrr import MrrModel
from subledger.projections.revenue import RevenueModel
from subledger.projections.runner import ProjectionRunner
from subledger.replay.verify import scratch_views, verify

CACHED = ("mrr", "revenue")


@pytest.fixture
def book(pg_schema_url: str) -> Iterator[tuple[Settings, Ledger]]:
    settings = Settings.from_env({"SUBLEDGER_DATABASE_URL": pg_schema_url})
    ledger = build_ledger(settings)
    # Few subscribers over many pages: each one's events fall in many pages.
    generate(ledger, subscribers=12, months=6, seed=11)
    yield settings, ledger
    ledger.close()


def _runner(settings: Settings, ledger: Ledger, page_size: int) -> ProjectionRunner:
    runner = build_projector(settings, ledger)
    runner.page_size = page_size
    return runner


def _close(*runners: ProjectionRunner) -> None:
    for runner in runners:
        runner.close()
        runner.store.close()


def _assert_equal_a_rebuild(settings: Settings, runner: ProjectionRunner) -> None:
    with scratch_views(settings) as scratch:
        for name in CACHED:
            outcome = verify(runner, name, scratch)
            assert outcome.difference is None, outcome.difference.describe()


def test_a_page_read_again_after_its_transaction_rolled_back_does_not_reuse_what_it_cached(
    book: tuple[Settings, Ledger], monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings, ledger = book
    runner = _runner(settings, ledger, 30)
    calls = {MrrModel: 0, RevenueModel: 0}
    applies = {cls: cls.apply for cls in calls}

    def roll_back_the_fourth_page(cls: type) -> Any:
        def apply(self: Any, tx: Any, envelopes: list[dict[str, Any]]) -> None:
            applies[cls](self, tx, envelopes)  # the cache takes the page in...
            calls[cls] += 1
            if calls[cls] == 4:
                raise RuntimeError("rolled back")  # ...and the page's rows roll back
        return apply

    for cls in calls:
        monkeypatch.setattr(cls, "apply", roll_back_the_fourth_page(cls))
    for _ in calls:  # the runner stops at the first failure: once per model
        with pytest.raises(RuntimeError):
            runner.run_once()
    for cls, original in applies.items():
        monkeypatch.setattr(cls, "apply", original)
    # The rolled back page is read again, then the rest: a cache trusted here would hold
    # that page's events twice. (The pages stay those of a rebuild: the revenue lines'
    # ``position`` is that of the page's last event of a belief, so it depends on paging.)
    runner.run_once()
    try:
        hits = [runner.model(name).cache.hits for name in CACHED]
        _assert_equal_a_rebuild(settings, runner)
        assert min(hits) > 0  # the cache served the pages after the rolled back one
    finally:
        _close(runner)


def test_a_checkpoint_another_runner_moved_drops_the_cache_of_the_one_that_fell_behind(
    book: tuple[Settings, Ledger],
) -> None:
    settings, ledger = book
    first, second = _runner(settings, ledger, 25), _runner(settings, ledger, 25)
    try:
        third = ledger.event_log.max_position() // 75 * 25  # a page end, as in a rebuild
        cached = [first.model(name) for name in CACHED]
        first.catch_up(first.store, cached, until=third)
        assert all(model.cache.through == third for model in cached)
        # The other runner applies the middle of the log: the first one's cache lacks it.
        second.catch_up(second.store, [second.model(name) for name in CACHED], until=2 * third)
        first.run_once()
        hits = [model.cache.hits for model in cached]
        _assert_equal_a_rebuild(settings, first)
        assert min(hits) > 0  # the cache served the first runner's last pages
    finally:
        _close(first, second)


def test_a_rebuild_whose_cache_overflows_reads_evicted_subscribers_from_the_log_again(
    book: tuple[Settings, Ledger],
) -> None:
    settings, ledger = book
    runner = _runner(settings, ledger, 25)
    try:
        cached = [runner.model(name) for name in CACHED]
        # A few subscribers at most: histories weigh an envelope each, folds one per
        # subscriber and one per event of their last instant.
        for model, limit in zip(cached, (6, 40), strict=True):
            model.cache.limit = limit
        books = runner.model("revenue").books  # type: ignore[attr-defined]
        books.limit = 20  # each subscriber's revenue books, weighing an event each: a few at most
        runner.run_once()
        assert all(model.cache.misses > 0 and model.cache.hits > 0 for model in cached)
        for model in cached:
            model.cache.limit = 0  # the scratch rebuild: every history from the log
        _assert_equal_a_rebuild(settings, runner)
    finally:
        _close(runner)
