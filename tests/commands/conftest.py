"""Fixtures of the write side: a ledger on a hand-moved clock, a second ledger on the same store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from factories import FakeClock, utc

from subledger.bootstrap import build_ledger
from subledger.commands.ledger import Ledger
from subledger.config import Settings

CLOCK_START = utc(2026, 6, 1, 12)


@pytest.fixture
def clock() -> FakeClock:
    """The server clock of `clocked_ledger`, at 2026-06-01T12:00:00Z until moved."""
    return FakeClock(CLOCK_START)


@pytest.fixture
def clocked_ledger(settings: Settings, clock: FakeClock) -> Iterator[Ledger]:
    """The ledger on a fresh store (SQLite or PostgreSQL) whose server clock is `clock`."""
    app = build_ledger(settings, clock=clock)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def other_ledger(settings: Settings, ledger: Ledger) -> Iterator[Ledger]:
    """A second `Ledger` instance on the store of `ledger` (another process, in effect)."""
    app = build_ledger(settings)
    try:
        yield app
    finally:
        app.close()
