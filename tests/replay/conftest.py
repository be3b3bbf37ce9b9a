"""Fixtures of the replay tests: the small book (``support.books``) on the store under test."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from support.books import BOOK_CLOCK, small_book
from support.ledger import FakeClock

from subledger.commands.ledger import Ledger


@pytest.fixture
def book_ledger(ledger_on: Callable[..., Ledger]) -> Ledger:
    """A ledger (SQLite or PostgreSQL) holding the small book, its clock one second a command."""
    clock = FakeClock(BOOK_CLOCK)
    ledger = ledger_on(clock=clock)
    small_book(ledger, clock)
    return ledger
