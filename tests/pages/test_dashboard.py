"""The dashboard in a real headless Chromium over a demo ledger: every chart drawn with its
table, the drill-down from a bar to a subscriber's timeline, the CSV downloads equal to the
API's, the as-known-at control, and keyboard-only use; over a small book owed one invoice,
the receivables card, its drill-down to that invoice, and its empty state."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from support.browser import PHONE, screenshot
from support.http import OWED_DAYS, api_owed
from support.pages import assert_served_offline

from subledger.domain.time import isoformat

CHARTS = {"mrr": 2, "subscribers": 1, "bridge": 5, "arpu": 1, "churn": 3, "nrr": 1, "revenue": 5}
"""Each chart and how many series it draws."""
CSV_LINKS = ["mrr", "subscribers", "bridge", "arpu", "churn", "nrr", "revenue", "cohorts"]
AGING = ["current", "1-30", "31-60", "61-90", "over-90"]


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-loaded=reports]")
    page.wait_for_selector("body[data-cohorts=loaded]")


def _chart(page: Any, chart: str) -> dict[str, Any]:
    return page.evaluate("""id => {
        const chart = Chart.getChart(document.getElementById(id + "-canvas"));
        return chart && {labels: chart.data.labels,
                         lengths: chart.data.datasets.map(d => d.data.length)};
    }""", chart)


def _table(page: Any, selector: str) -> list[list[str]]:
    return page.evaluate("""s => [...document.querySelectorAll(s + " tbody tr")]
        .map(r => [...r.cells].map(c => c.textContent))""", selector)


def test_the_dashboard_draws_every_chart_and_its_table_from_a_demo_ledger(site: Any, page: Any) -> None:
    _open(page, site.url + "/")
    with httpx.Client(base_url=site.url, timeout=30) as http:
        assets = assert_served_offline(http, "/")
        buckets = http.get("/reports/mrr", params={"from": page.input_value("#from"),
                                                   "to": page.input_value("#to")}).json()["buckets"]
    assert "/assets/vendor/chart.umd.min.js" in assets
    assert len(buckets) == 12 and any(b["mrr"] != "0.00" for b in buckets)
    for chart, series in CHARTS.items():
        drawn = _chart(page, chart)
        assert drawn is not None, chart
        assert drawn["lengths"] == [12] * series, chart
        assert len(_table(page, f"#{chart}-table")) == 12, chart
        label = page.get_attribute(f"#{chart}-canvas", "aria-label")
        assert "loading" not in label and "table below" in label, chart
    assert _chart(page, "mrr")["labels"] == [b["date"] for b in buckets]
    assert [row[1] for row in _table(page, "#subscribers-table")] == [str(b["subscribers"]) for b in buckets]
    assert len(_table(page, "#cohorts-table")) == 12
    assert _chart(page, "receivables") == {"labels": AGING, "lengths": [len(AGING)]}
    assert [row[0] for row in _table(page, "#receivables-table")] == AGING
    assert "Open server" in page.inner_text("header")
    screenshot(page, "dashboard-laptop")
    page.set_viewport_size(PHONE)
    _open(page, site.url + "/")
    width, viewport = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width <= viewport  # nothing wider than a phone: wide tables scroll in their own box
    screenshot(page, "dashboard-phone")


def _click_bar(page: Any, dataset: int, index: int, chart: str = "bridge") -> None:
    x, y = page.evaluate("""([d, i, id]) => {
        const chart = Chart.getChart(document.getElementById(id + "-canvas"));
        const bar = chart.getDatasetMeta(d).data[i];
        const box = chart.canvas.getBoundingClientRect();
        return [box.left + bar.x, box.top + (bar.y + bar.base) / 2];
    }""", [dataset, index, chart])
    page.mouse.click(x, y)


def test_a_bar_opens_its_movements_and_a_movement_its_subscribers_timeline(site: Any, page: Any) -> None:
    _open(page, site.url + "/")
    buckets = page.evaluate("""() => Chart.getChart(document.getElementById("bridge-canvas"))
        .data.datasets[0].data""")
    index = max(range(len(buckets)), key=lambda i: buckets[i] or 0)  # the month with the most new MRR
    page.locator("#bridge-canvas").scroll_into_view_if_needed()
    _click_bar(page, 0, index)
    page.wait_for_selector("#movements-table table")
    heading = page.inner_text("#movements-title")
    assert heading.startswith("Movements: new from ")
    start, end = heading.removeprefix("Movements: new from ").split(" to ")
    with httpx.Client(base_url=site.url, timeout=30) as http:
        movements = http.get("/reports/mrr/movements", params={"from": start, "to": end, "kind": "new",
                                                              "limit": 1000}).json()["items"]
        rows = _table(page, "#movements-table")
        assert [r[0] for r in rows] == [m["effective_at"] for m in movements] and movements
        assert page.evaluate("document.activeElement.id") == "movements-title"
        page.click("#movements-table tbody tr:first-child button")
        page.wait_for_selector("#timeline-body ol")
        subscriber = movements[0]["subscriber_id"]
        history = http.get(f"/subscribers/{subscriber}/history", params={"limit": 1000}).json()["items"]
        invoices = http.get(f"/subscribers/{subscriber}/invoices").json()["items"]
    events = page.locator("#timeline-body ol > li")
    assert events.count() == len(history)
    assert [t.split(" ")[1] for t in events.all_inner_texts()] == [e["type"] for e in history]
    first = invoices[0]
    assert page.get_attribute(f"#timeline-body a:text('{first['number']}')", "href") == \
        f"/invoices/{first['invoice_id']}.html"
    caused = page.locator("#timeline-body strong").all_inner_texts()
    assert caused and all("(caused the movement)" in c for c in caused)
    screenshot(page, "dashboard-drill-down")


def test_each_csv_download_is_the_apis_own_csv(site: Any, page: Any) -> None:
    _open(page, site.url + "/")
    with httpx.Client(base_url=site.url, timeout=30) as http:
        for chart in CSV_LINKS:
            link = page.locator(f"#{chart}-csv")
            href = link.get_attribute("href")
            assert "format=csv" in href and f"from={page.input_value('#from')}" in href, href
            with page.expect_download() as download:
                link.click()
            saved = download.value.path()
            api = http.get(href)
            assert api.headers["content-type"].startswith("text/csv")
            with open(saved, "rb") as file:
                assert file.read() == api.content, chart
            assert api.content.count(b"\n") >= 12, chart


def test_the_as_known_at_control_shows_a_backdated_month_as_it_was_known(site: Any, page: Any) -> None:
    """A signup recorded now but effective in an earlier month changes that month; as known at
    an instant before it was recorded, the month reads as it did then."""
    before = isoformat(site.ledger.clock())
    backdated = (site.ledger.clock().replace(day=1) - timedelta(days=1)).replace(
        day=15, hour=12, minute=0, second=0, microsecond=0)
    at = isoformat(backdated)
    with httpx.Client(base_url=site.url, timeout=30) as http:
        subscriber = http.post("/subscribers", json={"email": "late@example.com", "name": "Late",
                                                     "effective_at": at}).json()["subscriber_id"]
        assert http.put(f"/subscribers/{subscriber}/payment-method", json={
            "gateway": "sandbox", "token": "tok_visa", "effective_at": at}).status_code == 200
        assert http.post(f"/subscribers/{subscriber}/subscriptions", json={
            "plan_id": "platinum-m", "effective_at": at}).status_code == 201
    site.projector.run_once()
    month = backdated.strftime("%Y-%m-01")
    _open(page, site.url + "/")
    page.click("#mrr-details summary")
    now_row = _row(page, "#mrr-table", month)
    page.fill("#as_known_at", before)
    page.click("#apply")
    page.wait_for_selector("#status:has-text('as known at')")
    then_row = _row(page, "#mrr-table", month)
    assert then_row != now_row  # the backdated signup's MRR is not in what was known then
    assert "as_known_at=" in page.get_attribute("#mrr-csv", "href")
    assert "as_known_at=" in page.url


def _row(page: Any, table: str, first: str) -> list[str]:
    [row] = [r for r in _table(page, table) if r[0] == first]
    return row


def test_the_keyboard_alone_reaches_every_control_and_the_drill_down(site: Any, page: Any) -> None:
    _open(page, site.url + "/")
    wanted = {"from", "to", "interval", "currency", "as_known_at", "apply", "cohort-measure",
              "close-period", "close-submit"} | {f"{c}-csv" for c in CSV_LINKS} | \
             {f"{c}-details" for c in CHARTS} | {"receivables-csv", "receivables-details"}
    reached = set()
    page.keyboard.press("Tab")  # the skip link first
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for _ in range(80):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("""() => { const e = document.activeElement;
            return e.tagName === "SUMMARY" ? e.parentElement.id : e.id; }"""))
    assert wanted <= reached, wanted - reached
    page.focus("#bridge-details summary")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#bridge-table') !== null")
    page.keyboard.press("Enter")
    page.wait_for_selector("#movements-table table")
    assert page.evaluate("document.activeElement.id") == "movements-title"
    for _ in range(3):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('#movements-table') !== null"):
            break
    page.keyboard.press("Enter")
    page.wait_for_selector("#timeline-body ol")
    assert page.evaluate("document.activeElement.id") == "timeline-title"


def test_the_receivables_card_ages_what_is_owed_and_a_bar_opens_its_invoices(
    api_url: str, http: httpx.Client, ledger: Any, projector: Any, page: Any,
) -> None:
    """Over a book owed one invoice: Ada's 49.00 USD, issued OWED_DAYS days ago on a declined
    card (Grace's, paid, owes nothing). As known before it was recorded, nothing is owed."""
    before = isoformat(ledger.clock())
    ada = api_owed(http, ledger.clock())
    projector.run_once()
    [invoice] = http.get(f"/subscribers/{ada['subscriber_id']}/invoices").json()["items"]
    _open(page, api_url + "/")
    assert page.evaluate("""() => Chart.getChart(document.getElementById("receivables-canvas"))
        .data.datasets[0].data""") == [0, 0, 49, 0, 0]
    assert _table(page, "#receivables-table") == [
        ["current", "0.00", "0"], ["1-30", "0.00", "0"], ["31-60", "49.00", "1"],
        ["61-90", "0.00", "0"], ["over-90", "0.00", "0"]]
    assert page.is_hidden("#receivables-empty")
    link = page.get_attribute("#receivables-csv", "href")
    assert link == "/reports/receivables?currency=USD&format=csv"
    with page.expect_download() as download:
        page.click("#receivables-csv")
    with open(download.value.path(), "rb") as file:
        assert file.read() == http.get(link).content
    page.locator("#receivables-canvas").scroll_into_view_if_needed()
    _click_bar(page, 0, AGING.index("31-60"), "receivables")
    page.wait_for_selector("#owed-table table")
    assert page.inner_text("#owed-title") == "Invoices owed: 31-60 days since issue"
    assert page.evaluate("document.activeElement.id") == "owed-title"
    assert _table(page, "#owed-table") == [[invoice["number"], ada["subscriber_id"][:8] + "…",
                                            invoice["issued_at"][:10], str(OWED_DAYS), "49.00"]]
    assert page.get_attribute(f"#owed-table a:text('{invoice['number']}')", "href") == \
        f"/invoices/{invoice['invoice_id']}.html"
    page.click("#owed-table tbody button")
    page.wait_for_selector("#timeline-body ol")
    assert page.inner_text("#timeline-title") == f"Timeline of subscriber {ada['subscriber_id']}"
    screenshot(page, "dashboard-receivables")
    page.fill("#as_known_at", before)
    page.click("#apply")
    page.wait_for_selector("#status:has-text('as known at')")
    assert page.is_visible("#receivables-empty") and page.is_hidden("#receivables-chart")
    assert [row[1:] for row in _table(page, "#receivables-table")] == [["0.00", "0"]] * len(AGING)
    assert "as_known_at=" in page.get_attribute("#receivables-csv", "href")
