"""Running things at the same instant: threads behind a barrier, and a clock that holds a
command between reading the time and saving."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

T = TypeVar("T")


def run_together(count: int, task: Callable[[int], T]) -> list[T]:
    """Run ``task(0) ... task(count - 1)`` in ``count`` threads released at the same
    instant (a barrier); their results in index order. An exception in a task is raised
    here. Do slow set-up (opening connections) before, as :func:`concurrent_requests` does."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = task(i)
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results


class HeldClock:
    """The system clock, except that the call made after :meth:`hold_next` reads the time,
    then waits for :meth:`release` before returning it: a request stamped "now" that
    reaches the store only after another request has been saved.
    ``build_ledger(settings, clock=HeldClock())``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed = False
        self.holding = threading.Event()
        """Set once the held call has read the time and is waiting."""
        self._released = threading.Event()

    def hold_next(self) -> None:
        with self._lock:
            self._armed = True

    def release(self) -> None:
        self._released.set()

    def __call__(self) -> datetime:
        now = datetime.now(UTC)
        with self._lock:
            held, self._armed = self._armed, False
        if held:
            self.holding.set()
            self._released.wait(timeout=60)
        return now
