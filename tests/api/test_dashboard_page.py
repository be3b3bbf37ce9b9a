"""The dashboard page over HTTP (its browser tests are in tests/pages): who gets it, the
headers it answers with, its one form, closing a month, and the frame of its receivables
card."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import httpx
from support.http import api_events, api_owed, api_subscriber, api_subscription, api_world
from support.live import LiveServer
from support.pages import form_token, sign_in

from subledger.bootstrap import build_api
from subledger.commands.ledger import Ledger
from subledger.config import Settings


def test_the_dashboard_is_a_page_that_loads_nothing_from_elsewhere(http: httpx.Client) -> None:
    page = http.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["cache-control"] == "no-store"
    assert "Open server" in page.text
    assert "<script>" not in page.text  # no inline script: the policy would refuse it


def test_a_server_with_keys_sends_a_visitor_to_sign_in_and_back(settings: Settings, ledger: Ledger) -> None:
    secured = Settings.from_env({"SUBLEDGER_DATABASE_URL": settings.database_url,
                                 "SUBLEDGER_API_KEYS": "r1:reader"})
    with LiveServer(build_api(secured, ledger=ledger)) as server, \
            httpx.Client(base_url=server.url, timeout=30) as http:
        away = http.get("/?currency=USD&interval=day")
        assert (away.status_code, away.headers["location"]) == (
            303, "/login?next=%2F%3Fcurrency%3DUSD%26interval%3Dday")
        assert sign_in(http, "r1", "/?currency=USD").headers["location"] == "/?currency=USD"
        page = http.get("/?currency=USD")
        assert page.status_code == 200 and "Signed in as reader" in page.text
        assert 'id="close-submit" disabled' in page.text


def test_closing_a_month_from_the_page_is_the_apis_close(http: httpx.Client) -> None:
    page = http.get("/")
    token = form_token(page.text)
    closed = http.post("/dashboard/close-period", data={"csrf_token": token, "period": "2020-01",
                                                       "idempotency_key": "k-1"})
    assert (closed.status_code, closed.headers["location"]) == (303, "/?closed=2020-01#periods")
    assert "2020-01 is closed" in http.get("/?closed=2020-01").text
    assert [e["data"]["period"] for e in api_events(http, "PeriodClosed")] == ["2020-01"]
    for period, code in (("2020-01", "period-already-closed"), ("2020-13", "period-not-found"),
                         ("2199-01", "period-not-ended")):
        refused = http.post("/dashboard/close-period", data={"csrf_token": token, "period": period})
        assert refused.headers["location"] == f"/?close_error={code}#periods"
    assert "was not closed: the period is already closed" in http.get(
        "/?close_error=period-already-closed").text
    assert http.post("/dashboard/close-period", data={"period": "2020-02"}).status_code == 403
    assert len(api_events(http, "PeriodClosed")) == 1


def test_the_dashboard_opens_on_the_currency_most_subscriptions_are_billed_in(
    http: httpx.Client, projector: Any,
) -> None:
    world = api_world(http)  # one active USD subscription, the rest trialing, paused, canceled
    grace = api_subscriber(http, "grace@example.com", token="tok_visa")["subscriber_id"]
    api_subscription(http, "eur-m", subscriber_id=grace)
    api_subscription(http, "pro-m", subscriber_id=world.subscriber_id)
    projector.run_once()

    def selected(path: str) -> list[str]:
        return re.findall(r'<option value="([A-Z]{3})" selected>', http.get(path).text)

    assert selected("/") == ["USD"]  # 2 active in USD, 1 in EUR, though EUR sorts first
    assert selected("/?currency=EUR") == ["EUR"]


def test_the_receivables_card_is_framed_and_its_csv_link_answers_what_is_owed(
    http: httpx.Client, ledger: Ledger, projector: Any,
) -> None:
    api_owed(http, ledger.clock())
    projector.run_once()
    page = http.get("/").text
    [link] = re.findall(r'<a class="csv" id="receivables-csv" data-report="receivables" href="([^"]+)"', page)
    assert re.search(r'<p class="status" id="receivables-empty" hidden>Nothing is owed', page)
    assert '<canvas id="receivables-canvas"' in page and '<section class="card wide" id="owed"' in page
    answer = http.get(link + "&currency=USD")  # the page sets its currency on the link
    assert answer.headers["content-type"].startswith("text/csv")
    rows = [(r["bucket"], r["outstanding"], r["invoices"]) for r in csv.DictReader(io.StringIO(answer.text))]
    assert rows == [("current", "0", "0"), ("1-30", "0", "0"), ("31-60", "4900", "1"),
                    ("61-90", "0", "0"), ("over-90", "0", "0")]
