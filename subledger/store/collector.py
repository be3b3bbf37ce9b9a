"""Python's cyclic garbage collector around long work on the log.

Decoding the log makes a few dozen objects per event (the parsed state, its ids, instants and
decimals, the event), and a reader keeps a batch of them alive while it folds them: so they
survive the young collections, are promoted, and trigger full passes of the collector over
everything the process holds. Over a replay that was about a third of the time (a 200,000-event
book: 16 full passes), for objects that hold no reference cycles, which reference counting
frees anyway. Two policies, each a context manager:

- :func:`relaxed` raises the collector's thresholds while a long read runs (a replay, a
  projection runner's catch-up): it still collects (the reader's caller may make cycles in
  its fold), a hundred times less often.
- :func:`paused` turns it off, for work that keeps millions of objects alive on purpose and
  must not stop for seconds inside a transaction (the demo's batch).

Both are process-wide, as the collector is. Nested and concurrent uses (two replays on two
threads) are counted: the first to enter sets the policy, the last to leave puts back what
was there before.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

RELAXED_THRESHOLDS = (100_000, 50, 100)
"""``gc.set_threshold`` during a long read (Python's defaults are 700, 10, 10): a young
collection every 100,000 net allocations instead of 700, and full passes 500 times rarer."""

_lock = threading.Lock()


class _Shared:
    """A process-wide setting held while anyone is inside: ``take()`` applies it and returns
    what puts the previous one back."""

    def __init__(self, take: Callable[[], Callable[[], None]]) -> None:
        self._take = take
        self._holders = 0
        self._put_back: Callable[[], None] = _nothing

    @contextmanager
    def held(self) -> Iterator[None]:
        with _lock:
            if self._holders == 0:
                self._put_back = self._take()
            self._holders += 1
        try:
            yield
        finally:
            with _lock:
                self._holders -= 1
                if self._holders == 0:
                    self._put_back()


def _nothing() -> None:
    pass


def _raise_thresholds() -> Callable[[], None]:
    before = gc.get_threshold()
    gc.set_threshold(*RELAXED_THRESHOLDS)
    return lambda: gc.set_threshold(*before)


def _turn_off() -> Callable[[], None]:
    was_enabled = gc.isenabled()
    gc.disable()
    return gc.enable if was_enabled else _nothing


_RELAXED = _Shared(_raise_thresholds)
_PAUSED = _Shared(_turn_off)


def relaxed() -> AbstractContextManager[None]:
    """The collector's thresholds raised to :data:`RELAXED_THRESHOLDS` inside."""
    return _RELAXED.held()


def paused() -> AbstractContextManager[None]:
    """The collector off inside (reference counting still frees what is dropped)."""
    return _PAUSED.held()
