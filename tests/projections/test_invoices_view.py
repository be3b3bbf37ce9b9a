"""The ``invoices`` read model through its query functions, on both stores: each invoice's
status and amounts, its lines and credit notes, the numbers of both series, lists and pages,
and a rebuild that gives every document the same number."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest
from support import book_clock
from support.factories import utc
from support.invoices import BOOK_CLOCK, Book, credit_note, invoice_book
from support.ledger import FakeClock

from subledger.cli import main
from subledger.projections.invoice_queries import (
    InvoiceFilter,
    find_credit_note,
    find_invoice,
    invoice_page,
)
from subledger.replay.verify import scratch_views, verify

clock, ledger = book_clock.clock, book_clock.ledger
"""The ledger under test on the book's clock (the conftest's projector reads it)."""
AMOUNTS = ("status", "total", "credit_applied", "amount_due", "amount_paid", "credited",
           "refunded", "failed_attempts")


@pytest.fixture
def book(ledger: Any, settings: Any, projector: Any) -> Book:
    written = invoice_book(ledger, settings)
    projector.run_once()
    return written


def _invoice(projector: Any, invoice_id: str) -> dict[str, Any]:
    record = find_invoice(projector.store, invoice_id)
    assert record is not None, invoice_id
    return record


def _all(projector: Any, **which: Any) -> list[dict[str, Any]]:
    records, _ = invoice_page(projector.store, InvoiceFilter(**which), after=0, limit=1000)
    return records


def test_each_invoice_shows_its_status_and_what_was_billed_paid_credited_refunded_and_is_due(
    projector: Any, book: Book,
) -> None:
    expected = {  # status, total, credit applied, due, paid, credited, refunded, failed attempts
        book.paid: ("paid", 800, 0, 0, 800, 0, 0, 0),
        book.open: ("open", 1000, 0, 1000, 0, 0, 0, 0),
        book.past_due: ("past_due", 1000, 0, 600, 0, 400, 0, 1),
        book.void: ("void", 1000, 0, 0, 0, 0, 0, 1),
        book.uncollectible: ("uncollectible", 1000, 0, 1000, 0, 0, 0, 1),
        book.credited: ("paid", 3000, 0, 0, 3000, 800, 700, 0),
        book.proration: ("paid", 438, 0, 0, 438, 0, 0, 0),
        book.euro: ("paid", 1500, 0, 0, 1500, 0, 0, 0),
    }
    for invoice_id, figures in expected.items():
        record = _invoice(projector, invoice_id)
        assert tuple(record[k] for k in AMOUNTS) == figures, record["number"]
    past_due = _invoice(projector, book.past_due)
    assert past_due["next_attempt_at"] == utc(2026, 3, 6, 0)
    assert past_due["charge_id"] is None and _invoice(projector, book.paid)["charge_id"]
    assert _invoice(projector, book.euro)["currency"] == "EUR"


def test_an_invoice_keeps_its_lines_as_issued_with_what_credit_notes_took_off_each(
    projector: Any, book: Book,
) -> None:
    def lines(invoice_id: str) -> list[tuple[str, int, int]]:
        return [(line["kind"], line["amount"], line["credited"])
                for line in _invoice(projector, invoice_id)["lines"]]

    assert lines(book.paid) == [("recurring", 1000, 0), ("discount", -200, 0)]
    assert lines(book.credited) == [("recurring", 3000, 800)]
    # Ada's change to 2 seats on March 15: 17 of March's 31 days left, at 800 a seat after
    # the coupon: -800 x 17/31 = -438.7 and 1600 x 17/31 = 877.4, each rounded.
    assert lines(book.proration) == [("proration_credit", -439, 0), ("proration_charge", 877, 0)]
    proration = _invoice(projector, book.proration)
    assert proration["reason"] == "proration"
    assert (proration["period_start"], proration["period_end"]) == (utc(2026, 3, 15), utc(2026, 4, 1))
    first = _invoice(projector, book.paid)
    assert first["reason"] == "subscription_create"
    assert (first["issued_at"], first["recorded_at"]) == (utc(2026, 3, 1), BOOK_CLOCK)
    assert (first["period_start"], first["period_end"]) == (utc(2026, 3, 1), utc(2026, 4, 1))


def test_invoices_are_numbered_in_log_order_and_a_voided_invoice_keeps_its_number(
    projector: Any, book: Book,
) -> None:
    in_order = [book.paid, book.open, book.past_due, book.void, book.uncollectible,
                book.credited, book.proration, book.euro]
    numbers = [_invoice(projector, i)["number"] for i in in_order]
    assert numbers == [f"SL-2026-00000{n}" for n in range(1, 9)]
    assert [r["invoice_id"] for r in _all(projector)] == in_order
    assert _invoice(projector, book.void)["number"] == "SL-2026-000004"


def test_credit_notes_are_numbered_in_their_own_series_and_name_their_invoice(
    projector: Any, book: Book,
) -> None:
    notes = [find_credit_note(projector.store, i) for i in book.credit_notes]
    assert [(n["number"], n["invoice_number"], n["settlement"], n["total"]) for n in notes] == [
        ("CN-2026-000001", "SL-2026-000003", "amount_due", 400),
        ("CN-2026-000002", "SL-2026-000006", "refund", 500),
        ("CN-2026-000003", "SL-2026-000006", "credit_balance", 300),
    ]
    refund, balance = notes[1], notes[2]
    assert refund["refund_id"] and balance["refund_id"] is None
    # The reason is personal: only its event holds it (the API reads it from there).
    assert "reason" not in refund and refund["effective_at"] == utc(2026, 3, 7)
    assert refund["lines"] == [{"index": 0, "amount": 500, "description": "credit: basic v1 (month) × 3"}]
    assert _invoice(projector, book.credited)["credit_notes"] == [
        {"credit_note_id": book.credit_notes[1], "number": "CN-2026-000002"},
        {"credit_note_id": book.credit_notes[2], "number": "CN-2026-000003"},
    ]
    assert find_credit_note(projector.store, book.paid) is None


def test_a_document_recorded_in_a_new_year_starts_that_years_series_at_one(
    ledger: Any, projector: Any, book: Book, clock: FakeClock,
) -> None:
    clock.set(utc(2027, 1, 2, 9))
    ledger.subscriptions.change(_subscription(projector, book.euro), quantity=2,
                                effective_at=utc(2026, 4, 15))
    projector.run_once()
    newest = _all(projector)[-1]
    assert (newest["number"], newest["series"], newest["reason"]) == ("SL-2027-000001", "SL-2027", "proration")
    assert newest["issued_at"] == utc(2026, 4, 15)  # its business date, in 2026


def _subscription(projector: Any, invoice_id: str) -> UUID:
    return UUID(_invoice(projector, invoice_id)["subscription_id"])


def test_lists_filter_by_subscriber_status_month_of_issue_and_currency(
    projector: Any, book: Book,
) -> None:
    def ids(**which: Any) -> set[str]:
        return {r["invoice_id"] for r in _all(projector, **which)}

    assert ids(subscriber_id=str(book.subscribers["Ada"])) == {book.paid, book.proration}
    assert ids(status="paid") == {book.paid, book.credited, book.proration, book.euro}
    assert ids(status="past_due") == {book.past_due}
    assert ids(status="void") == {book.void}
    assert ids(issued_from=utc(2026, 4, 1), issued_before=utc(2026, 5, 1)) == {book.euro}
    assert ids(currency="EUR") == {book.euro}
    assert ids(currency="USD", status="paid", issued_from=utc(2026, 3, 1),
               issued_before=utc(2026, 4, 1)) == {book.paid, book.credited, book.proration}
    assert ids(subscriber_id=str(book.subscribers["Gus"]), currency="USD") == set()


def test_pages_follow_the_log_and_the_last_page_has_no_cursor(projector: Any, book: Book) -> None:
    seen, after, cursors = [], 0, []
    while True:
        records, cursor = invoice_page(projector.store, InvoiceFilter(), after=after, limit=3)
        seen += [r["number"] for r in records]
        cursors.append(cursor)
        if cursor is None:
            break
        after = cursor
    assert seen == [f"SL-2026-00000{n}" for n in range(1, 9)]
    assert len(cursors) == 3 and cursors[-1] is None
    assert invoice_page(projector.store, InvoiceFilter(), after=after, limit=3)[0][-1]["number"] == "SL-2026-000008"


def test_a_rebuild_in_small_pages_gives_every_document_the_same_number_and_figures(
    settings: Any, ledger: Any, projector: Any, book: Book,
) -> None:
    before = {r["invoice_id"]: r for r in _all(projector)}
    notes_before = [find_credit_note(projector.store, i) for i in book.credit_notes]
    # every refund, charge and credit note meets its invoice on another page
    projector.rebuild_model("invoices", page_size=2)
    assert {r["invoice_id"]: r for r in _all(projector)} == before
    assert [find_credit_note(projector.store, i) for i in book.credit_notes] == notes_before
    with scratch_views(settings) as scratch:
        outcome = verify(projector, "invoices", scratch)
    assert outcome.identical, outcome.difference
    assert outcome.rows == {"view_invoices": {"live": 8, "rebuilt": 8},
                            "view_credit_notes": {"live": 3, "rebuilt": 3},
                            # the spans over which an invoice owed: Bo's, Cy's two (1000,
                            # then 600 after a credit note), Di's, Ed's, and the four from
                            # an issue to its payment at the same instant (owed as known
                            # between the two events' recording)
                            "view_receivables": {"live": 9, "rebuilt": 9}}


def test_corrections_after_an_invoice_was_projected_reach_it_and_agree_with_a_rebuild(
    ledger: Any, projector: Any, book: Book,
) -> None:
    ada = _subscription(projector, book.paid)
    credit_note(ledger, ada, book.paid, [(0, 100)], "refund", utc(2026, 3, 20))
    charge_id = _invoice(projector, book.paid)["charge_id"]
    ledger.payments.refund_charge(charge_id, amount=50, effective_at=utc(2026, 3, 21))
    projector.run_once()
    paid = _invoice(projector, book.paid)
    assert (paid["status"], paid["credited"], paid["refunded"], paid["amount_due"]) == ("paid", 100, 150, 0)
    assert [n["number"] for n in paid["credit_notes"]] == ["CN-2026-000004"]
    live = {r["invoice_id"]: r for r in _all(projector)}
    projector.rebuild_model("invoices")
    assert {r["invoice_id"]: r for r in _all(projector)} == live


def test_rebuild_invoices_verify_names_a_corrupted_number_and_a_rebuild_repairs_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    projector: Any, book: Book,
) -> None:
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", database_url)
    with projector.store.transaction() as tx:
        tx.execute("UPDATE view_invoices SET number = 'SL-2026-999999' WHERE invoice_id = ?", (book.void,))

    assert main(["rebuild", "invoices", "--verify"]) == 1
    assert json.loads(capsys.readouterr().out)["difference"] == {
        "table": "view_invoices", "scope": "rows", "key": {"invoice_id": book.void},
        "column": "number", "live": "SL-2026-999999", "rebuilt": "SL-2026-000004"}
    assert main(["rebuild", "invoices"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == {"view_invoices": 8, "view_credit_notes": 3, "view_receivables": 9}
    assert _invoice(projector, book.void)["number"] == "SL-2026-000004"
    assert main(["rebuild", "invoices", "--verify"]) == 0
