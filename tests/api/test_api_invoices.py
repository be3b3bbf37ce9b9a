"""Invoices and credit notes over HTTP, on both stores: one invoice's body, lists with their
filters, pages and CSV, a subscriber's invoices, credit notes, 404s, and who may read."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import httpx
from support.http import assert_problem
from support.invoices import Book

Http = tuple[httpx.Client, Book]


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _numbers(client: httpx.Client, path: str = "/invoices", **params: Any) -> list[str]:
    return [item["number"] for item in _ok(client.get(path, params=params))["items"]]


def test_an_invoice_answers_its_number_status_amounts_lines_and_credit_notes(invoice_http: Http) -> None:
    client, book = invoice_http
    body = _ok(client.get(f"/invoices/{book.credited}"))
    assert {k: body[k] for k in ("number", "series", "currency", "reason", "status", "total",
                                 "credit_applied", "credit_added", "amount_due", "amount_paid",
                                 "credited", "refunded", "failed_attempts", "next_attempt_at")} == {
        "number": "SL-2026-000006", "series": "SL-2026", "currency": "USD",
        "reason": "subscription_create", "status": "paid", "total": 3000, "credit_applied": 0,
        "credit_added": 0, "amount_due": 0, "amount_paid": 3000, "credited": 800, "refunded": 700,
        "failed_attempts": 0, "next_attempt_at": None}
    assert (body["issued_at"], body["recorded_at"]) == ("2026-03-06T00:00:00Z", "2026-06-01T12:00:00Z")
    assert (body["period_start"], body["period_end"]) == ("2026-03-06T00:00:00Z", "2026-04-06T00:00:00Z")
    assert body["lines"] == [{"kind": "recurring", "description": "basic v1 (month) × 3",
                              "period_start": "2026-03-06T00:00:00Z",
                              "period_end": "2026-04-06T00:00:00Z", "amount": 3000, "credited": 800}]
    assert [n["number"] for n in body["credit_notes"]] == ["CN-2026-000002", "CN-2026-000003"]
    assert body["subscriber_id"] == str(book.subscribers["Flo"]) and body["charge_id"]
    past_due = _ok(client.get(f"/invoices/{book.past_due}"))
    assert (past_due["status"], past_due["amount_due"], past_due["failed_attempts"], past_due["next_attempt_at"]) == (
        "past_due", 600, 1, "2026-03-06T00:00:00Z")


def test_the_list_filters_by_subscriber_status_month_of_issue_and_currency(invoice_http: Http) -> None:
    client, book = invoice_http
    assert _numbers(client) == [f"SL-2026-00000{n}" for n in range(1, 9)]
    assert _numbers(client, subscriber_id=str(book.subscribers["Ada"])) == ["SL-2026-000001", "SL-2026-000007"]
    assert _numbers(client, status="paid") == ["SL-2026-000001", "SL-2026-000006", "SL-2026-000007",
                                               "SL-2026-000008"]
    for status, number in (("open", "2"), ("past_due", "3"), ("void", "4"), ("uncollectible", "5")):
        assert _numbers(client, status=status) == [f"SL-2026-00000{number}"]
    assert _numbers(client, period="2026-04") == _numbers(client, currency="EUR") == ["SL-2026-000008"]
    assert _numbers(client, period="2026-03", currency="USD", status="paid") == [
        "SL-2026-000001", "SL-2026-000006", "SL-2026-000007"]
    assert _numbers(client, period="2026-05") == []


def test_bad_filters_are_refused_with_a_problem(invoice_http: Http) -> None:
    client, _ = invoice_http
    for params in ({"status": "overdue"}, {"period": "2026-13"}, {"period": "2026-3"},
                   {"currency": "usd"}, {"currency": "XXX"}, {"subscriber_id": "ada"},
                   {"limit": "0"}, {"limit": "1001"}, {"cursor": "-1"}, {"format": "pdf"}):
        assert_problem(client.get("/invoices", params=params), 422)


def test_pages_follow_the_issue_order_and_the_last_page_has_no_cursor(invoice_http: Http) -> None:
    client, _ = invoice_http
    numbers, cursor, pages = [], None, 0
    while True:
        page = _ok(client.get("/invoices", params={"limit": 3, **({"cursor": cursor} if cursor else {})}))
        numbers += [item["number"] for item in page["items"]]
        cursor, pages = page["next_cursor"], pages + 1
        if cursor is None:
            break
    assert (numbers, pages) == ([f"SL-2026-00000{n}" for n in range(1, 9)], 3)


def test_csv_answers_the_same_page_without_lines_and_names_the_next_cursor(invoice_http: Http) -> None:
    client, book = invoice_http
    response = client.get("/invoices", params={"format": "csv", "limit": 5})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["number"] for r in rows] == [f"SL-2026-00000{n}" for n in range(1, 6)]
    assert "lines" not in rows[0] and "credit_notes" not in rows[0]
    assert {k: rows[2][k] for k in ("invoice_id", "status", "total", "amount_due", "credited",
                                    "next_attempt_at")} == {
        "invoice_id": book.past_due, "status": "past_due", "total": "1000", "amount_due": "600",
        "credited": "400", "next_attempt_at": "2026-03-06T00:00:00Z"}
    rest = client.get("/invoices", params={"format": "csv", "cursor": response.headers["next-cursor"]})
    assert [r["number"] for r in csv.DictReader(io.StringIO(rest.text))] == [
        "SL-2026-000006", "SL-2026-000007", "SL-2026-000008"]
    assert "next-cursor" not in rest.headers
    empty = client.get("/invoices", params={"format": "csv", "period": "2026-05"})
    assert (empty.status_code, empty.text) == (200, "")


def test_a_subscribers_invoices_are_theirs_alone(invoice_http: Http) -> None:
    client, book = invoice_http
    ada = book.subscribers["Ada"]
    assert _numbers(client, f"/subscribers/{ada}/invoices") == ["SL-2026-000001", "SL-2026-000007"]
    assert _numbers(client, f"/subscribers/{ada}/invoices", status="paid", period="2026-03") == [
        "SL-2026-000001", "SL-2026-000007"]
    rows = list(csv.DictReader(io.StringIO(client.get(f"/subscribers/{ada}/invoices",
                                                      params={"format": "csv"}).text)))
    assert {r["subscriber_id"] for r in rows} == {str(ada)}
    assert_problem(client.get("/subscribers/00000000-0000-4000-8000-000000000000/invoices"), 404,
                   "subscriber-not-found")
    assert_problem(client.get("/subscribers/ada/invoices"), 404, "subscriber-not-found")


def test_a_credit_note_answers_its_number_invoice_lines_and_settlement(invoice_http: Http) -> None:
    client, book = invoice_http
    body = _ok(client.get(f"/credit-notes/{book.credit_notes[1]}"))
    assert {k: body[k] for k in ("number", "invoice_id", "invoice_number", "currency", "total",
                                 "settlement", "reason", "effective_at")} == {
        "number": "CN-2026-000002", "invoice_id": book.credited, "invoice_number": "SL-2026-000006",
        "currency": "USD", "total": 500, "settlement": "refund", "reason": "outage on March 6",
        "effective_at": "2026-03-07T00:00:00Z"}
    assert body["refund_id"] and body["lines"] == [
        {"index": 0, "amount": 500, "description": "credit: basic v1 (month) × 3"}]


def test_an_unknown_or_malformed_id_is_a_404_problem(invoice_http: Http) -> None:
    client, book = invoice_http
    unknown = "00000000-0000-4000-8000-000000000000"
    for suffix in ("", ".pdf", ".html"):
        assert_problem(client.get(f"/invoices/{unknown}{suffix}"), 404, "invoice-not-found")
        assert_problem(client.get(f"/invoices/SL-2026-000001{suffix}"), 404, "invoice-not-found")
        assert_problem(client.get(f"/credit-notes/{unknown}{suffix}"), 404, "credit-note-not-found")
        # An invoice's id does not name a credit note, nor the other way round.
        assert_problem(client.get(f"/credit-notes/{book.paid}{suffix}"), 404, "credit-note-not-found")
        assert_problem(client.get(f"/invoices/{book.credit_notes[0]}{suffix}"), 404, "invoice-not-found")
    assert _ok(client.get("/problems/credit-note-not-found"))["status"] == 404


def test_a_reader_key_may_read_invoices_and_no_key_may_not(invoice_api_with: Callable[..., Any]) -> None:
    api = invoice_api_with(api_keys={"r1": "reader", "w1": "writer"})
    paid = api.book.paid
    paths = ["/invoices", f"/invoices/{paid}", f"/invoices/{paid}.pdf", f"/invoices/{paid}.html",
             f"/subscribers/{api.book.subscribers['Ada']}/invoices",
             f"/credit-notes/{api.book.credit_notes[0]}"]
    with api.client(Authorization="Bearer r1") as reader, api.client() as anonymous:
        for path in paths:
            assert reader.get(path).status_code == 200, path
            assert_problem(anonymous.get(path), 401, "unauthorized")


def test_the_openapi_document_declares_each_documents_media_type(invoice_http: Http) -> None:
    client, _ = invoice_http
    paths = _ok(client.get("/openapi.json"))["paths"]
    for kind, name in (("invoices", "invoice_id"), ("credit-notes", "credit_note_id")):
        assert list(paths[f"/{kind}/{{{name}}}.pdf"]["get"]["responses"]["200"]["content"]) == ["application/pdf"]
        assert list(paths[f"/{kind}/{{{name}}}.html"]["get"]["responses"]["200"]["content"]) == ["text/html"]
        assert "404" in paths[f"/{kind}/{{{name}}}"]["get"]["responses"]
    listing = paths["/invoices"]["get"]["responses"]["200"]
    assert set(listing["content"]) == {"application/json", "text/csv"}
    assert "Next-Cursor" in listing["headers"]
