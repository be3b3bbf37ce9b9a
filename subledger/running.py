"""How a worker runs: its follower in this thread or in a thread of its own, until a stop
event is set (by SIGINT or SIGTERM, for a worker run on its own), finishing what it is doing."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from subledger.projections.follow import Follower


def log_to_stderr() -> None:
    """INFO from subledger's workers; the Kafka client's own chatter only from WARNING up."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)


def stop_on_signals(stop: threading.Event | None = None) -> threading.Event:
    """An event (``stop``, or a new one) that SIGINT or SIGTERM sets: a worker's way to
    finish what it is doing."""
    import signal

    stop = threading.Event() if stop is None else stop
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def follow_until_stopped(worker: Follower, stop: threading.Event | None = None) -> int:
    """Run a worker in this thread until ``stop`` is set (by default: until SIGINT or
    SIGTERM)."""
    from subledger.projections.follow import follow

    follow(worker, stop_on_signals() if stop is None else stop)
    return 0


def in_background(worker: Follower, stop: threading.Event, *, name: str, join: float,
                   close: Callable[[], None] | None = None) -> Callable[[], None]:
    """Run a worker in a thread of its own until ``stop`` is set; returns the function that
    sets it, waits for the thread (at most ``join`` seconds: a round stuck on the network
    must not hold the process) and then ``close()``s the worker."""
    thread = threading.Thread(target=follow_until_stopped, args=(worker, stop), name=name, daemon=True)
    thread.start()

    def finish() -> None:
        stop.set()
        thread.join(timeout=join)
        if close is not None:
            close()

    return finish


def close_worker(worker: Any) -> None:
    worker.close()
    worker.store.close()
