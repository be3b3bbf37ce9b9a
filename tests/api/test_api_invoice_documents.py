"""Invoices and credit notes as PDF and HTML, on both stores, read back as a person would:
the PDF's text (pypdf) and the page's text show the seller, the buyer, the number, each line
and every total, in the currency's units; a void or written-off invoice is stamped."""

from __future__ import annotations

import io
import re
from html import unescape

import httpx
from pypdf import PdfReader
from support.invoices import SELLER, Book

Http = tuple[httpx.Client, Book]


def _pdf_text(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    pages = PdfReader(io.BytesIO(response.content)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def _html_text(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


def _both(client: httpx.Client, path: str) -> list[str]:
    """The text of a document's PDF and of its HTML page."""
    return [_pdf_text(client.get(f"{path}.pdf")), _html_text(client.get(f"{path}.html"))]


def test_a_paid_and_credited_invoice_shows_its_parties_lines_and_every_total(invoice_http: Http) -> None:
    client, book = invoice_http
    for text in _both(client, f"/invoices/{book.credited}"):
        for shown in (
            "Invoice SL-2026-000006", *SELLER, "Flo", "flo@example.com",
            "Date of issue 2026-03-06", "Service period 2026-03-06 – 2026-04-06", "Status Paid",
            "basic v1 (month) × 3", "USD 30.00", "USD 8.00",
            "Subtotal USD 30.00", "Total USD 30.00", "Credit applied USD 0.00",
            "Amount paid USD 30.00", "Credited USD 8.00", "Refunded USD 7.00",
            "Amount due USD 0.00", "Credited by credit note CN-2026-000002",
            "Credited by credit note CN-2026-000003",
        ):
            assert shown in text, (shown, text)
        assert "VOID" not in text and "UNCOLLECTIBLE" not in text


def test_discounts_and_proration_lines_are_shown_as_they_are(invoice_http: Http) -> None:
    client, book = invoice_http
    for text in _both(client, f"/invoices/{book.paid}"):
        assert "coupon twenty" in text and "USD -2.00" in text
        assert "Subtotal USD 10.00 Discounts USD -2.00 Total USD 8.00" in text
    for text in _both(client, f"/invoices/{book.proration}"):
        assert "unused time on basic v1 (month)" in text and "USD -4.39" in text
        assert "remaining time on basic v1 (month)" in text and "USD 8.77" in text
        assert "Total USD 4.38" in text and "2026-03-15 – 2026-04-01" in text
    for text in _both(client, f"/invoices/{book.euro}"):
        assert "Total EUR 15.00" in text and "Amount paid EUR 15.00" in text


def test_what_is_due_is_said_for_an_open_and_a_past_due_invoice(invoice_http: Http) -> None:
    client, book = invoice_http
    for text in _both(client, f"/invoices/{book.open}"):
        assert "Status Open" in text and "Payment USD 10.00 due" in text
        assert "Amount due USD 10.00" in text
    for text in _both(client, f"/invoices/{book.past_due}"):
        assert "Status Past due" in text
        assert "USD 6.00 due; 1 payment attempt failed, next attempt on 2026-03-06" in text
        assert "Credited USD 4.00" in text and "Amount due USD 6.00" in text


def test_a_void_and_an_uncollectible_invoice_are_stamped(invoice_http: Http) -> None:
    client, book = invoice_http
    for text in _both(client, f"/invoices/{book.void}"):
        assert "VOID" in text and "Status Void" in text and "Amount due USD 0.00" in text
        assert "Invoice SL-2026-000004" in text
    for text in _both(client, f"/invoices/{book.uncollectible}"):
        assert "UNCOLLECTIBLE" in text and "Written off as uncollectible: USD 10.00 unpaid" in text


def test_a_credit_note_shows_the_invoice_it_credits_and_how_it_was_settled(invoice_http: Http) -> None:
    client, book = invoice_http
    for text in _both(client, f"/credit-notes/{book.credit_notes[1]}"):
        for shown in ("Credit note CN-2026-000002", *SELLER, "Flo", "Credits invoice SL-2026-000006",
                      "refunded to the invoice's charge", "Reason outage on March 6",
                      "credit: basic v1 (month) × 3", "2026-03-06 – 2026-04-06",
                      "Total credited USD 5.00"):
            assert shown in text, (shown, text)


def test_a_pdf_is_named_after_its_number_and_the_same_each_time(invoice_http: Http) -> None:
    client, book = invoice_http
    first, again = client.get(f"/invoices/{book.paid}.pdf"), client.get(f"/invoices/{book.paid}.pdf")
    assert first.headers["content-disposition"] == 'inline; filename="SL-2026-000001.pdf"'
    assert first.content == again.content
    note = client.get(f"/credit-notes/{book.credit_notes[0]}.pdf")
    assert note.headers["content-disposition"] == 'inline; filename="CN-2026-000001.pdf"'


def test_the_buyer_is_the_subscriber_as_known_now_and_the_page_escapes_their_name(invoice_http: Http) -> None:
    client, book = invoice_http
    ada = book.subscribers["Ada"]
    assert client.patch(f"/subscribers/{ada}", json={"name": "<b>Ada</b> & Co"}).status_code == 200
    page = client.get(f"/invoices/{book.paid}.html").text
    assert "&lt;b&gt;Ada&lt;/b&gt; &amp; Co" in page and "<b>Ada</b>" not in page
    assert "<b>Ada</b> & Co" in _pdf_text(client.get(f"/invoices/{book.paid}.pdf"))
