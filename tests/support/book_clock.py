"""Fixtures that put the ledger under test on the invoice book's clock (``BOOK_CLOCK``), for
the read-side tests over the book: a module imports ``clock`` and ``ledger`` from here, and
the conftest's ``projector`` then reads that ledger."""

from __future__ import annotations

from typing import Any

import pytest

from .invoices import BOOK_CLOCK
from .ledger import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(BOOK_CLOCK)


@pytest.fixture
def ledger(ledger_on: Any, clock: FakeClock) -> Any:
    """The ledger under test, on the book's clock."""
    return ledger_on(clock=clock)
