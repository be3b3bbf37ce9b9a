"""Who may see the dashboard, in a real headless Chromium: with API keys set the pages ask for
a key once and keep a session; a reader sees and cannot act; a writer closes a month once
however often the form is sent; a form without the session's CSRF token is refused."""

from __future__ import annotations

from typing import Any

import httpx
from support.browser import screenshot

KEYS = {"r1": "reader", "w1": "writer"}


def _sign_in(page: Any, url: str, key: str) -> None:
    page.goto(url + "/")
    assert page.url == url + "/login?next=%2F"
    page.fill("#api-key", key)
    page.keyboard.press("Enter")
    page.wait_for_url(url + "/")
    page.wait_for_selector("body[data-loaded=reports]")
    page.wait_for_selector("body[data-cohorts=loaded]")


def _closed_periods(url: str) -> list[str]:
    with httpx.Client(base_url=url, headers={"X-API-Key": "r1"}) as http:
        events = http.get("/events", params={"type": "PeriodClosed"}).json()["items"]
    return [e["data"]["period"] for e in events]


def _close_form(page: Any, **changes: str) -> dict[str, str]:
    form = page.evaluate("""() => Object.fromEntries(
        new FormData(document.getElementById("close-form")).entries())""")
    form.setdefault("period", page.eval_on_selector("#close-period", "e => e.options[0].value"))
    return {**form, **changes}


def test_the_pages_ask_for_a_key_once_then_read_the_api_with_the_session(site_with: Any, page: Any) -> None:
    site = site_with(api_keys=KEYS)
    page.goto(site.url + "/")
    screenshot(page, "login")
    page.fill("#api-key", "nope")
    page.click("button[type=submit]")
    assert "Unknown API key" in page.inner_text("[role=alert]")
    page.fill("#api-key", "r1")
    page.click("button[type=submit]")
    page.wait_for_url(site.url + "/")
    page.wait_for_selector("body[data-loaded=reports]")
    assert "Signed in as reader" in page.inner_text("header")
    assert "Open server" not in page.inner_text("header")
    assert page.evaluate("Chart.getChart(document.getElementById('mrr-canvas')).data.labels.length") == 12
    [cookie] = [c for c in page.context.cookies() if c["name"] == "subledger_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # no script reads the session
    page.goto(site.url + "/")  # once: the session stays
    assert page.url == site.url + "/"
    page.click("text=Sign out")
    page.wait_for_url(site.url + "/login")
    assert page.request.get(site.url + "/reports/restatements").status == 401


def test_a_reader_sees_the_dashboard_and_cannot_close_a_period(site_with: Any, page: Any) -> None:
    site = site_with(api_keys=KEYS)
    _sign_in(page, site.url, "r1")
    assert page.is_disabled("#close-submit") and page.is_disabled("#close-period")
    assert "reader key may look but not close" in page.inner_text("#periods")
    refused = page.request.post(site.url + "/dashboard/close-period", form=_close_form(page))
    assert refused.status == 403 and "may look but not close" in refused.text()
    assert _closed_periods(site.url) == []


def test_a_writer_closes_a_month_once_however_often_the_form_is_sent(site_with: Any, page: Any) -> None:
    site = site_with(api_keys=KEYS)
    _sign_in(page, site.url, "w1")
    month = page.eval_on_selector("#close-period", "e => e.options[1].value")
    page.select_option("#close-period", month)
    form = _close_form(page)
    page.click("#close-submit")
    page.wait_for_selector("#notice")
    assert page.inner_text("#notice") == f"{month} is closed: its figures are sealed as known now."
    page.wait_for_selector("#periods-table table")
    assert page.inner_text("#periods-table tbody tr:first-child th") == month
    again = page.request.post(site.url + "/dashboard/close-period", form=form)
    assert again.ok and again.url.endswith(f"closed={month}#periods")
    assert _closed_periods(site.url) == [month]
    other = page.request.post(site.url + "/dashboard/close-period",
                              form={**form, "idempotency_key": "another"})
    assert "period-already-closed" in other.url
    assert _closed_periods(site.url) == [month]


def test_a_form_without_the_sessions_csrf_token_is_refused(site_with: Any, page: Any) -> None:
    site = site_with(api_keys=KEYS)
    _sign_in(page, site.url, "w1")
    for token in ("", "forged"):
        refused = page.request.post(site.url + "/dashboard/close-period",
                                    form=_close_form(page, csrf_token=token))
        assert refused.status == 403
    assert _closed_periods(site.url) == []
