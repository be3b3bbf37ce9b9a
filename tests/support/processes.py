"""`subledger` commands run as real processes: each with its own environment and log file,
the billing runs it logged read back, stopped by a signal (and killed at the end of the test
if it would not stop)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parents[2]
_RUN_LINE = re.compile(r"billing run: (\{.*\})$", re.MULTILINE)
T = TypeVar("T")


def subledger_env(**variables: str) -> dict[str, str]:
    """This environment without any ``SUBLEDGER_*`` of its own, plus ``variables``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SUBLEDGER_")}
    return {**env, **variables}


class SubledgerProcess:
    """``subledger ARGS...`` in a process of its own, stdout and stderr in ``log``."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args = args
        self.log = log
        self._out = log.open("w")
        self.popen = subprocess.Popen([sys.executable, "-m", "subledger.cli", *args], env=env,
                                      cwd=REPO, stdout=self._out, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def billing_runs(self) -> list[dict[str, Any]]:
        """The summary of every billing run the process logged, in order."""
        return [json.loads(summary) for summary in _RUN_LINE.findall(self.text())]

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 60) -> int:
        """Send ``sig`` and wait for the exit code (a process that does not stop in time
        fails the test)."""
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"`subledger {' '.join(self.args)}` did not stop on {sig.name}:"
                                 f"\n{self.text()}") from None
        finally:
            self._out.close()

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(timeout=30)
        self._out.close()


@contextmanager
def processes() -> Iterator[Callable[..., SubledgerProcess]]:
    """Starts ``subledger`` processes (``start(args, env, log)``); any still running at the
    end is killed."""
    started: list[SubledgerProcess] = []

    def start(args: list[str], env: dict[str, str], log: Path) -> SubledgerProcess:
        started.append(SubledgerProcess(args, env, log))
        return started[-1]

    try:
        yield start
    finally:
        for process in started:
            process.kill()


def wait_for(condition: Callable[[], T], *, timeout: float, what: Callable[[], str]) -> T:
    """Poll ``condition`` until it is truthy and return it; past ``timeout`` seconds, fail
    with ``what()`` (what the test was waiting for, and what it saw)."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f}s waiting for {what()}")
        time.sleep(0.2)
    return value


@contextmanager
def sigkilled(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``command`` in a process of its own, ended by SIGKILL when the block ends (and that
    it was the SIGKILL that ended it is asserted); killed at once if the block raises."""
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, cwd=REPO, stdout=out, stderr=out)
        try:
            yield process
            process.send_signal(signal.SIGKILL)
            assert process.wait(timeout=30) == -signal.SIGKILL
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
