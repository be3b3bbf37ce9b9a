"""The one follow loop every background worker runs (the projector, the Kafka relay, the
webhook dispatcher): rounds of work until a stop event is set, a wait for news when a round
found nothing to do, and exponential backoff after a failure, so a worker outlives a
database or broker hiccup and catches up alone once it is over.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

Wait = Callable[[threading.Event, float], None]
"""``wait(stop, timeout)``: return when there may be news, ``stop`` is set, or ``timeout``
seconds have passed."""

Failed = Callable[[Exception, float], None]
"""``failed(error, retry_in)``: called inside the ``except`` block (so ``logger.exception``
sees the traceback) before the loop waits ``retry_in`` seconds."""

FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0


@dataclass(frozen=True)
class Follower:
    """A worker as the follow loop sees it."""

    name: str
    """What the default failure log line calls the worker (``"projection runner"``)."""
    run_once: Callable[[], int]
    """One round: the work it did (0: nothing to do, so wait for news)."""
    idle: float = 1.0
    """Seconds to wait for news after a round that did nothing."""
    wait: Wait | None = None
    """The worker's own wait for news (LISTEN/NOTIFY); by default ``stop.wait(idle)``."""
    failed: Failed | None = None
    """The worker's own report of a failure (a status for ``/readyz``, its own log line); by
    default the failure is logged with its traceback, to ``log``."""
    log: logging.Logger = logger
    """Where the default failure line goes: the worker's own logger, so an operator finds a
    worker's lines under its module's name."""


def follow(worker: Follower, stop: threading.Event, *, first_backoff: float = FIRST_BACKOFF,
           max_backoff: float = MAX_BACKOFF) -> None:
    """Run ``worker`` round after round until ``stop`` is set. A failed round waits
    ``first_backoff`` seconds, doubling with each failure in a row up to ``max_backoff``;
    a good round resets it."""
    backoff = first_backoff
    while not stop.is_set():
        try:
            if worker.run_once() == 0:
                _wait_for_news(worker, stop)
            backoff = first_backoff
        except Exception as error:  # noqa: BLE001 - a worker must outlive a database hiccup
            _report(worker, error, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, max_backoff)


def _wait_for_news(worker: Follower, stop: threading.Event) -> None:
    if worker.wait is None:
        stop.wait(worker.idle)
    else:
        worker.wait(stop, worker.idle)


def _report(worker: Follower, error: Exception, retry_in: float) -> None:
    if worker.failed is None:
        worker.log.exception("%s failed; retrying in %.1fs", worker.name, retry_in)
        return
    try:
        worker.failed(error, retry_in)
    except Exception:  # noqa: BLE001 - e.g. recording the failure needs the database that failed
        worker.log.exception("%s failed (%s), and so did reporting it; retrying in %.1fs",
                             worker.name, error, retry_in)
