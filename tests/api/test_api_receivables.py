"""``/reports/receivables`` and its invoices over the invoice book (``support.invoices``), on
both stores: what is owed as of an instant, aged from each invoice's issue, void and
written-off invoices owing nothing, every amount traced to the events it is the sum of.

The amounts are the book's, worked out by hand: Bo owes 1000 USD from March 2 (never
attempted); Cy 1000 from March 3, 600 once a credit note took 400 off on March 4; Di and Ed
1000 each from March 3 until a void and a write-off on March 5; every other invoice was paid
when it was issued. The server's clock, and so "now", is 2026-06-01T12:00Z.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
from support.http import assert_problem
from support.invoices import Book

Http = tuple[httpx.Client, Book]


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _aging(client: httpx.Client, **params: str) -> dict[str, Any]:
    """currency -> (outstanding, invoices, {bucket: (outstanding, invoices)} of the non-empty)."""
    body = _ok(client.get("/reports/receivables", params=params))
    return {book["currency"]: (book["outstanding"], book["invoices"],
                               {b["bucket"]: (b["outstanding"], b["invoices"])
                                for b in book["buckets"] if b["invoices"]})
            for book in body["currencies"]}


def test_what_is_owed_now_is_aged_by_whole_days_since_each_invoice_was_issued(invoice_http: Http) -> None:
    client, _ = invoice_http
    body = _ok(client.get("/reports/receivables"))
    assert (body["as_of"], body["as_known_at"], body["metrics_version"]) == (
        "2026-06-01T12:00:00.000000Z", None, "receivables-v1")
    # Bo: 91 days since March 2; Cy: 90 since March 3. Di's void and Ed's write-off owe nothing.
    assert _aging(client) == {"USD": (1600, 2, {"61-90": (600, 1), "over-90": (1000, 1)})}
    [usd] = body["currencies"]
    assert [(b["bucket"], b["first_day"], b["last_day"]) for b in usd["buckets"]] == [
        ("current", 0, 0), ("1-30", 1, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("over-90", 91, None)]


def test_an_earlier_as_of_owes_what_was_owed_then(invoice_http: Http) -> None:
    client, _ = invoice_http
    assert _aging(client, as_of="2026-03-03T06:00:00Z") == {
        "USD": (4000, 4, {"current": (3000, 3), "1-30": (1000, 1)})}
    assert _aging(client, as_of="2026-03-04T12:00:00Z") == {"USD": (3600, 4, {"1-30": (3600, 4)})}
    # The void and the write-off are effective at midnight on March 5: owed nothing from then.
    assert _aging(client, as_of="2026-03-05T00:00:00Z") == {"USD": (1600, 2, {"1-30": (1600, 2)})}
    assert _aging(client, as_of="2026-03-01T12:00:00Z") == {}


def test_a_named_currency_is_listed_even_when_nothing_is_owed_in_it(invoice_http: Http) -> None:
    client, _ = invoice_http
    assert _aging(client, currency="EUR") == {"EUR": (0, 0, {})}
    assert_problem(client.get("/reports/receivables", params={"currency": "eur"}),
                   422, "unknown-currency")
    assert _aging(client, currency="USD") == {"USD": (1600, 2, {"61-90": (600, 1), "over-90": (1000, 1)})}


def test_as_known_at_before_the_book_was_recorded_owes_nothing(invoice_http: Http) -> None:
    client, _ = invoice_http
    body = _ok(client.get("/reports/receivables", params={"as_known_at": "2026-06-01T11:59:59Z"}))
    assert (body["as_of"], body["currencies"]) == ("2026-06-01T11:59:59.000000Z", [])
    assert _aging(client, as_known_at="2026-06-01T12:00:00Z", as_of="2026-03-04T12:00:00Z") == {
        "USD": (3600, 4, {"1-30": (3600, 4)})}


def test_each_outstanding_invoice_names_the_events_its_amount_is_the_sum_of(invoice_http: Http) -> None:
    client, book = invoice_http
    items = _ok(client.get("/reports/receivables/invoices"))["items"]
    assert [(i["invoice_id"], i["number"], i["subscriber_id"], i["currency"], i["issued_at"],
             i["outstanding"], i["days_overdue"], i["bucket"]) for i in items] == [
        (book.open, "SL-2026-000002", str(book.subscribers["Bo"]), "USD", "2026-03-02T00:00:00.000000Z",
         1000, 91, "over-90"),
        (book.past_due, "SL-2026-000003", str(book.subscribers["Cy"]), "USD",
         "2026-03-03T00:00:00.000000Z", 600, 90, "61-90")]
    events = {e["position"]: e for e in _ok(client.get("/events", params={"limit": 1000}))["items"]}
    bo, cy = ([(events[p]["type"], events[p]["data"].get("invoice_id")) for p in i["positions"]]
              for i in items)
    assert bo == [("InvoiceIssued", book.open)]
    assert cy == [("InvoiceIssued", book.past_due), ("CreditNoteIssued", book.past_due)]


def test_the_invoices_are_filtered_by_bucket_subscriber_and_currency_and_paged(invoice_http: Http) -> None:
    client, book = invoice_http

    def ids(**params: Any) -> list[str]:
        return [i["invoice_id"] for i in _ok(client.get("/reports/receivables/invoices",
                                                        params=params))["items"]]

    assert ids(bucket="61-90") == [book.past_due]
    assert ids(bucket="current") == []
    assert ids(subscriber_id=str(book.subscribers["Bo"])) == [book.open]
    assert ids(currency="EUR") == []
    assert ids(as_of="2026-03-04T12:00:00Z") == [book.open, book.past_due, book.void, book.uncollectible]
    first = _ok(client.get("/reports/receivables/invoices", params={"limit": 1}))
    assert ([i["invoice_id"] for i in first["items"]], first["next_cursor"]) == ([book.open], "1")
    assert ids(limit=1, cursor=first["next_cursor"]) == [book.past_due]
    assert_problem(client.get("/reports/receivables/invoices", params={"bucket": "90+"}),
                   422, "validation-error")


def test_both_answer_csv(invoice_http: Http) -> None:
    client, book = invoice_http
    aging = client.get("/reports/receivables", params={"format": "csv"})
    assert aging.status_code == 200 and aging.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(aging.text)))
    assert [(r["currency"], r["bucket"], r["outstanding"], r["invoices"]) for r in rows] == [
        ("USD", "current", "0", "0"), ("USD", "1-30", "0", "0"), ("USD", "31-60", "0", "0"),
        ("USD", "61-90", "600", "1"), ("USD", "over-90", "1000", "1")]
    listed = client.get("/reports/receivables/invoices", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(listed.text)))
    assert [(r["number"], r["outstanding"], r["bucket"]) for r in rows] == [
        ("SL-2026-000002", "1000", "over-90"), ("SL-2026-000003", "600", "61-90")]
    assert "positions" not in rows[0]
