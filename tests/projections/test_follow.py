"""The one follow loop every background worker runs, driven by a scripted worker and a real
stop event."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from subledger.projections.follow import Follower, follow


class _Scripted:
    """A worker whose rounds do what the script says (work done, or an exception to raise)
    and that sets ``stop`` after its last round; it writes down what the loop asked of it."""

    def __init__(self, stop: threading.Event, script: list[int | Exception]) -> None:
        self.stop = stop
        self.script = list(script)
        self.trace: list[tuple[Any, ...]] = []

    def run_once(self) -> int:
        step = self.script.pop(0)
        if not self.script:
            self.stop.set()
        self.trace.append(("round", step if isinstance(step, int) else "fails"))
        if isinstance(step, Exception):
            raise step
        return step

    def wait(self, stop: threading.Event, timeout: float) -> None:
        self.trace.append(("wait", timeout))

    def failed(self, error: Exception, retry_in: float) -> None:
        self.trace.append(("failed", str(error), retry_in))

    def follower(self, **hooks: Any) -> Follower:
        return Follower("scripted", self.run_once, **{"idle": 7.0, "wait": self.wait,
                                                      "failed": self.failed, **hooks})


def _follow_to_the_end(worker: Follower, stop: threading.Event, **options: float) -> None:
    """Follow in a thread, so a loop that never stops fails the test instead of hanging it."""
    thread = threading.Thread(target=follow, args=(worker, stop), kwargs=options, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the loop went on after the stop event was set"


def test_the_worker_waits_for_news_only_after_a_round_that_did_nothing() -> None:
    stop = threading.Event()
    worker = _Scripted(stop, [3, 0, 2, 5, 0])
    _follow_to_the_end(worker.follower(), stop)
    assert worker.trace == [("round", 3), ("round", 0), ("wait", 7.0), ("round", 2),
                            ("round", 5), ("round", 0), ("wait", 7.0)]


def test_failures_in_a_row_back_off_doubling_up_to_the_cap_and_a_good_round_resets_it() -> None:
    stop = threading.Event()
    broken = RuntimeError("database restarting")
    worker = _Scripted(stop, [broken, broken, broken, broken, 1, broken, 0])
    _follow_to_the_end(worker.follower(), stop, first_backoff=0.01, max_backoff=0.04)
    assert [step[2] for step in worker.trace if step[0] == "failed"] == [0.01, 0.02, 0.04, 0.04, 0.01]
    assert ("failed", "database restarting", 0.01) in worker.trace


def test_a_failed_round_is_not_followed_by_a_wait_for_news() -> None:
    stop = threading.Event()
    worker = _Scripted(stop, [RuntimeError("broker down"), 0])
    _follow_to_the_end(worker.follower(), stop, first_backoff=0.01)
    assert worker.trace == [("round", "fails"), ("failed", "broker down", 0.01), ("round", 0),
                            ("wait", 7.0)]


def test_a_failure_the_worker_does_not_report_itself_is_logged_with_its_traceback(
        caplog: pytest.LogCaptureFixture) -> None:
    stop = threading.Event()
    worker = _Scripted(stop, [RuntimeError("database restarting"), 0])
    own = logging.getLogger("subledger.tests.scripted")
    with caplog.at_level(logging.ERROR, logger=own.name):
        _follow_to_the_end(worker.follower(failed=None, log=own), stop, first_backoff=0.01)
    [record] = caplog.records
    assert (record.name, record.getMessage()) == (own.name, "scripted failed; retrying in 0.0s")
    assert record.exc_info is not None and str(record.exc_info[1]) == "database restarting"


def test_a_worker_whose_failure_report_fails_too_goes_on_and_logs_both(
        caplog: pytest.LogCaptureFixture) -> None:
    stop = threading.Event()
    worker = _Scripted(stop, [RuntimeError("database gone"), RuntimeError("database gone"), 4])

    def report_needs_the_database(error: Exception, retry_in: float) -> None:
        raise RuntimeError("cannot record the status: database gone")

    own = logging.getLogger("subledger.tests.scripted")
    with caplog.at_level(logging.ERROR, logger=own.name):
        _follow_to_the_end(worker.follower(failed=report_needs_the_database, log=own), stop,
                           first_backoff=0.01)
    assert worker.trace == [("round", "fails"), ("round", "fails"), ("round", 4)]
    assert [r.getMessage() for r in caplog.records] == [
        "scripted failed (database gone), and so did reporting it; retrying in 0.0s",
        "scripted failed (database gone), and so did reporting it; retrying in 0.0s"]
    assert str(caplog.records[0].exc_info[1]) == "cannot record the status: database gone"


def test_no_round_runs_once_the_stop_event_is_set() -> None:
    stop = threading.Event()
    stop.set()
    worker = _Scripted(stop, [1])
    _follow_to_the_end(worker.follower(), stop)
    assert worker.trace == []


def _stopped_while_waiting(outcome: int | Exception, **options: float) -> None:
    """Follow a worker whose every round ends in ``outcome``, set the stop event after its
    first round, and require the loop to end although its wait is an hour long."""
    stop, ran = threading.Event(), threading.Event()

    def run_once() -> int:
        ran.set()
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    thread = threading.Thread(target=follow, args=(Follower("idle", run_once, idle=3600.0), stop),
                              kwargs=options, daemon=True)
    thread.start()
    assert ran.wait(timeout=30)
    stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the loop kept waiting after the stop event was set"


def test_a_worker_waiting_for_news_stops_as_soon_as_the_stop_event_is_set() -> None:
    _stopped_while_waiting(0)


def test_a_worker_backing_off_stops_as_soon_as_the_stop_event_is_set() -> None:
    _stopped_while_waiting(RuntimeError("down for good"), first_backoff=3600.0)
