"""Fixtures of the write side: a ledger on a hand-moved clock, a second ledger on the same store."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from support.factories import utc
from support.ledger import FakeClock

from subledger.commands.ledger import Ledger

CLOCK_START = utc(2026, 6, 1, 12)


@pytest.fixture
def clock() -> FakeClock:
    """The server clock of `clocked_ledger`, at 2026-06-01T12:00:00Z until moved."""
    return FakeClock(CLOCK_START)


@pytest.fixture
def clocked_ledger(ledger_on: Callable[..., Ledger], clock: FakeClock) -> Ledger:
    """The ledger on a fresh store (SQLite or PostgreSQL) whose server clock is `clock`."""
    return ledger_on(clock=clock)


@pytest.fixture
def other_ledger(ledger_on: Callable[..., Ledger], ledger: Ledger) -> Ledger:
    """A second `Ledger` instance on the store of `ledger` (another process, in effect)."""
    return ledger_on()
