"""The collector's policies around long work on the log: set while anyone is inside, put
back as they were when the last one leaves, whatever the order threads leave in; and a
replay runs under the relaxed thresholds, also when it is abandoned half-way."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from subledger.commands.ledger import Ledger
from subledger.replay.reader import Replay
from subledger.store.collector import RELAXED_THRESHOLDS, paused, relaxed


@pytest.fixture
def default_collector() -> Iterator[None]:
    before, enabled = gc.get_threshold(), gc.isenabled()
    gc.set_threshold(700, 10, 10)
    gc.enable()
    yield
    gc.set_threshold(*before)
    (gc.enable if enabled else gc.disable)()


def test_relaxed_raises_the_thresholds_inside_and_puts_the_previous_ones_back(default_collector: None) -> None:
    gc.set_threshold(1234, 5, 6)
    with relaxed():
        assert gc.get_threshold() == RELAXED_THRESHOLDS
        with relaxed():
            assert gc.get_threshold() == RELAXED_THRESHOLDS
        assert gc.get_threshold() == RELAXED_THRESHOLDS
    assert gc.get_threshold() == (1234, 5, 6)


def test_relaxed_holds_until_the_last_of_two_threads_leaves(default_collector: None) -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[tuple[int, int, int]] = []

    def first() -> None:
        with relaxed():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with relaxed():
            second_in.set()
            first_out.wait(5)
            seen.append(gc.get_threshold())  # the first left: still relaxed for this one

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == [RELAXED_THRESHOLDS]
    assert gc.get_threshold() == (700, 10, 10)


def test_paused_turns_the_collector_off_inside_and_leaves_it_as_it_found_it(default_collector: None) -> None:
    with paused():
        assert not gc.isenabled()
        with paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    with paused():
        pass
    assert not gc.isenabled()  # it was off before: it stays off


def test_a_replay_folds_under_relaxed_thresholds_and_puts_them_back_even_when_abandoned(
        default_collector: None, book_ledger: Ledger) -> None:
    during = {gc.get_threshold() for _ in Replay(book_ledger.event_log, batch=5)}
    assert during == {RELAXED_THRESHOLDS}
    assert gc.get_threshold() == (700, 10, 10)

    batches = Replay(book_ledger.event_log, batch=5).batches()
    next(batches)
    assert gc.get_threshold() == RELAXED_THRESHOLDS
    batches.close()
    assert gc.get_threshold() == (700, 10, 10)
