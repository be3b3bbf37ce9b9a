"""The spans the ``invoices`` model keeps of what each invoice owed answer every standpoint:
a payment recorded later but effective earlier ends Cy's debt as of its own instant, and not
for a reader as known at a time before it was recorded; a span ended on a later page of the
projector is the one ended."""

from __future__ import annotations

from typing import Any

import pytest
from support import book_clock
from support.factories import utc
from support.invoices import BOOK_CLOCK, Book, invoice_book
from support.ledger import FakeClock

from subledger.projections.receivables import aging_report, owed
from subledger.projections.report_window import Standpoint

clock, ledger = book_clock.clock, book_clock.ledger
"""The ledger under test on the book's clock (the conftest's projector reads it)."""
PAID_AT = utc(2026, 3, 5, 12)
"""Cy's payment, effective then, recorded a day after the book (2026-06-02T12:00Z)."""


@pytest.fixture
def paid_late(ledger: Any, settings: Any, projector: Any, clock: FakeClock) -> Book:
    """The invoice book, projected; then Cy's invoice (600 due) paid by wire as of March 5,
    recorded a day later and projected on a page of its own."""
    book = invoice_book(ledger, settings)
    projector.run_once()
    clock.advance(days=1)
    ledger.payments.pay_invoice(book.past_due, gateway="sandbox", gateway_ref="wire-1", effective_at=PAID_AT)
    projector.run_once()
    return book


def _owing(projector: Any, as_of: Any, as_known_at: Any = None) -> dict[str, int]:
    return {i["invoice_id"]: i["outstanding"] for i in owed(projector.store, Standpoint(as_of, as_known_at))}


def test_a_payment_ends_what_was_owed_from_its_effective_instant(projector: Any, paid_late: Book) -> None:
    book = paid_late
    assert _owing(projector, utc(2026, 3, 5, 11)) == {book.open: 1000, book.past_due: 600}
    assert _owing(projector, PAID_AT) == {book.open: 1000}
    assert _owing(projector, utc(2026, 6, 2, 12)) == {book.open: 1000}


def test_as_known_before_the_payment_was_recorded_the_invoice_is_still_owed(
        projector: Any, paid_late: Book) -> None:
    book = paid_late
    before = BOOK_CLOCK  # the book recorded, the payment not yet
    assert _owing(projector, utc(2026, 5, 1), before) == {book.open: 1000, book.past_due: 600}
    assert _owing(projector, utc(2026, 5, 1), utc(2026, 6, 2, 12)) == {book.open: 1000}
    [usd] = aging_report(projector.store, Standpoint(before, before), "USD")["currencies"]
    assert (usd["outstanding"], usd["invoices"]) == (1600, 2)
