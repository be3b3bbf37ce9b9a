"""The one checkpoint routine every follower of the log uses (``ViewStore.advance``): a
checkpoint moves from the position a batch was read after, with the batch's output, or not
at all; on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from support.receiver import eventually

from subledger.config import Settings
from subledger.projections.store import ViewCursor, ViewStore

OUTPUT = "test_advance_output"


@pytest.fixture
def store(settings: Settings) -> Iterator[ViewStore]:
    views = ViewStore(settings)
    with views.transaction() as tx:
        tx.execute(f"CREATE TABLE {OUTPUT} (position BIGINT NOT NULL)")
        views.set_checkpoint(tx, "follower", 10, 1)
    yield views
    views.close()


def _write(position: int) -> Callable[[ViewCursor], None]:
    def write(tx: ViewCursor) -> None:
        tx.execute(f"INSERT INTO {OUTPUT} (position) VALUES (?)", (position,))
    return write


def _output(store: ViewStore) -> list[int]:
    with store.transaction() as tx:
        return [int(r[0]) for r in tx.execute(f"SELECT position FROM {OUTPUT} ORDER BY 1").fetchall()]


def test_a_checkpoint_still_where_the_batch_was_read_after_moves_with_the_output(store: ViewStore) -> None:
    assert store.advance("follower", 10, 25, 1, _write(25)) is True
    assert store.checkpoint("follower") == (25, 1)
    assert _output(store) == [25]


def test_a_checkpoint_another_worker_moved_stays_and_the_output_is_not_written(store: ViewStore) -> None:
    assert store.advance("follower", 10, 25, 1) is True
    assert store.advance("follower", 10, 20, 1, _write(20)) is False
    assert store.checkpoint("follower") == (25, 1)
    assert _output(store) == []


def test_a_batch_whose_output_fails_leaves_the_checkpoint_where_it_was(store: ViewStore) -> None:
    def fail(tx: ViewCursor) -> None:
        _write(25)(tx)
        raise RuntimeError("the fold broke half-way")

    with pytest.raises(RuntimeError):
        store.advance("follower", 10, 25, 1, fail)
    assert store.checkpoint("follower") == (10, 1)
    assert _output(store) == []


def test_the_output_is_written_while_the_checkpoint_still_says_where_the_batch_began(store: ViewStore) -> None:
    seen_by_the_output: list[tuple[int, int] | None] = []

    def write(tx: ViewCursor) -> None:
        seen_by_the_output.append(tx.execute(
            "SELECT position, version FROM subledger_projections WHERE name = ?", ("follower",)).fetchone())

    store.advance("follower", 10, 25, 2, write)
    assert seen_by_the_output == [(10, 1)]
    assert store.checkpoint("follower") == (25, 2)


def test_a_checkpoint_never_set_counts_as_position_zero(store: ViewStore) -> None:
    assert store.advance("newcomer", 5, 9, 1) is False
    assert store.checkpoint("newcomer") is None
    assert store.advance("newcomer", 0, 9, 1) is True
    assert store.checkpoint("newcomer") == (9, 1)


def test_of_two_workers_advancing_from_one_position_at_once_only_the_first_moves_it(
        settings: Settings, store: ViewStore) -> None:
    other = ViewStore(settings)
    try:
        with other.transaction() as tx:
            pid = tx.execute("SELECT pg_backend_pid()").fetchone()[0] if other.postgres else None  # type: ignore[index]
        outcome: list[bool] = []
        racer = threading.Thread(target=lambda: outcome.append(other.advance("follower", 10, 20, 1)))

        def write(tx: ViewCursor) -> None:
            racer.start()
            if pid is not None:  # PostgreSQL shows the other one waiting on the row's lock
                eventually(lambda: _waits_on_a_lock(settings, pid), what="the other worker to wait")

        assert store.advance("follower", 10, 30, 1, write) is True
        racer.join(timeout=60)
        assert outcome == [False]
        assert store.checkpoint("follower") == (30, 1)
    finally:
        other.close()


def _waits_on_a_lock(settings: Settings, pid: int) -> bool:
    watcher = ViewStore(settings)
    try:
        with watcher.transaction() as tx:
            row = tx.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = ?", (pid,)).fetchone()
        return row is not None and row[0] == "Lock"
    finally:
        watcher.close()
