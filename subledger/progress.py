"""A progress bar on a terminal (stderr), drawn by rich, silent elsewhere.

``ProgressBar(label)`` is the ``progress(done, total)`` callable the long commands report
to (billing, demo, rebuild and verify), and ``close()`` ends it. stdout carries the JSON
that scripts read, so nothing here ever writes to it.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class _Rate(ProgressColumn):
    """Items a second (rich's own speed column counts bytes)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None and task.elapsed:  # one report yet (a rebuild of one page): no samples
            speed = task.completed / task.elapsed
        return Text("?/s" if speed is None else f"{speed:,.0f}/s", style="progress.data.speed")


def _stderr_console() -> Console | None:
    """rich's console on stderr, or None when stderr is not a terminal: rich on its own
    would also draw into a pipe when FORCE_COLOR or TTY_COMPATIBLE=1 is set, and a
    redirected stderr has always stayed empty."""
    if not sys.stderr.isatty():
        return None
    return Console(stderr=True)


class ProgressBar:
    """``bar(done, total)`` after each step, ``bar.close()`` once at the end (also when the
    work failed). The bar appears at the first report, so work that reports nothing (a
    replayed billing run) draws nothing; closing leaves its last state on one line."""

    def __init__(self, label: str, console: Console | None = None) -> None:
        console = console if console is not None else _stderr_console()
        self._progress: Progress | None = None
        self._drawing = False
        if console is None or not console.is_terminal:
            return
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), _Rate(),
            TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
            console=console,
            # A print to stdout while drawing must reach stdout, not the console above the
            # bar: scripts read stdout. stderr is left alone too: the loggers hold the real one.
            redirect_stdout=False, redirect_stderr=False,
        )
        # Added now, so the elapsed time counts from the start of the work.
        self._task: TaskID = self._progress.add_task(label, total=None)

    def __call__(self, done: int, total: int) -> None:
        if self._progress is None:
            return
        if not self._drawing:
            self._progress.start()
            self._drawing = True
        self._progress.update(self._task, completed=done, total=total)

    def close(self) -> None:
        if self._progress is not None and self._drawing:
            self._progress.stop()
            self._drawing = False
