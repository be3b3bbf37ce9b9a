"""Hostile input that once reached a 500 or slipped past a rule: report windows at the end of
the calendar, control characters, ids with a trailing line feed, repeated JSON keys, empty
optional ids. Each is refused with a problem document and changes nothing, on both stores."""

from __future__ import annotations

import httpx
import pytest
from support.http import Case, World, api_events, assert_refused, plan_json

REPORTS = ["/reports/mrr", "/reports/churn", "/reports/revenue", "/reports/mrr/movements",
           "/reports/revenue/lines", "/reports/revenue/recognition"]


@pytest.mark.parametrize("path", REPORTS)
def test_a_report_window_past_the_ledgers_calendar_is_a_422_not_a_500(
    http: httpx.Client, path: str,
) -> None:
    seen = assert_refused(http, [
        ("GET", path, {"params": {"from": "2026-01-01", "to": "9999-12-31"}}),
        ("GET", path, {"params": {"from": "2026-01-01", "to": "9999-12-31", "interval": "month"}}),
        ("GET", path, {"params": {"from": "0001-01-01", "to": "2026-01-31"}}),
        ("GET", path, {"params": {"from": "2026-01-01", "to": "2026-01-31",
                                  "as_known_at": "9999-12-31T23:59:59Z"}}),
    ], 422)
    assert "/problems/internal-error" not in seen


def test_the_last_day_of_the_calendar_is_a_day_a_report_covers(
    http: httpx.Client, world: World,
) -> None:
    answer = http.get("/reports/mrr", params={"from": "2199-12-01", "to": "2199-12-31",
                                               "currency": "USD"})
    assert answer.status_code == 200, answer.text
    assert [b["date"] for b in answer.json()["buckets"]] == ["2199-12-01"]


def test_closing_a_month_before_the_calendar_is_a_404_not_a_500(http: httpx.Client) -> None:
    assert_refused(http, [("POST", "/periods/0000-01/close", {}),
                          ("POST", "/periods/9999-12/close", {})], 404, "period-not-found")


@pytest.mark.parametrize("field", ["url", "description"])
def test_a_nul_character_in_a_webhook_registration_is_refused_and_nothing_is_stored(
    http: httpx.Client, field: str,
) -> None:
    body = {"url": "https://crm.example.com/hooks", "description": "CRM"}
    body[field] = body[field] + "\x00"
    assert_refused(http, [("POST", "/webhooks", {"json": body})], 422)
    assert http.get("/webhooks").json()["items"] == []


def test_a_webhook_url_with_a_control_character_or_an_ipv6_literal_is_refused(
    http: httpx.Client,
) -> None:
    assert_refused(http, [
        ("POST", "/webhooks", {"json": {"url": url}})
        for url in ("https://crm.example.com/a\x01b", "http://[::1]:8080/hooks", "HTTPS://x.y/",
                    "http://x.y:0/", "http://x.y:65536/")
    ], 422, "invalid-webhook-url")


def test_ids_and_emails_with_a_trailing_line_feed_are_refused(http: httpx.Client) -> None:
    assert_refused(http, [
        ("POST", "/plans", {"json": plan_json("nl-plan\n")}),
        ("POST", "/plans", {"json": plan_json("nl-plan", tier="basic\n")}),
        ("POST", "/coupons", {"json": {"coupon_id": "NL20\n", "percent_off": "20",
                                       "duration": "forever"}}),
        ("POST", "/subscribers", {"json": {"email": "nl@example.com\n", "name": "Nl"}}),
    ], 422)
    assert http.get("/plans/nl-plan%0A").status_code == 404


def test_control_characters_are_refused_in_names_and_references_but_free_text_keeps_lines(
    http: httpx.Client, world: World,
) -> None:
    subscriber = f"/subscribers/{world.subscriber_id}"
    assert_refused(http, [
        ("POST", "/subscribers", {"json": {"email": "a@example.com", "name": "A\x00da"}}),
        ("POST", "/subscribers", {"json": {"email": "a@example.com", "name": " \t "}}),
        ("POST", "/subscribers", {"json": {"email": "a@example.com", "name": "Ada",
                                           "external_ref": "crm\n1"}}),
        ("PUT", f"{subscriber}/payment-method", {"json": {"gateway": "sandbox",
                                                           "token": "tok\x1bvisa"}}),
        ("POST", f"/subscriptions/{world.active}/cancel", {"json": {"reason": "bye\x00"}}),
    ], 422)
    kept = http.post(f"/subscriptions/{world.active}/cancel",
                     json={"when": "period_end", "reason": "moving on:\n\tcheaper elsewhere"})
    assert kept.status_code == 200, kept.text


NAMES_THAT_BREAK_A_LINE = ["Bo\n", "B\no", "Bo\t", "Bo\r", "Eve\r\nBcc: x@evil.example"]


def test_a_line_break_or_tab_in_a_name_is_refused_wherever_a_name_is_set(
    http: httpx.Client, world: World,
) -> None:
    # A name becomes one line of an e-mail header (a display name, a subject): a line break
    # there would start a header of the sender's choosing.
    cases: list[Case] = []
    for name in NAMES_THAT_BREAK_A_LINE:
        cases += [
            ("POST", "/subscribers", {"json": {"email": "bo@example.com", "name": name}}),
            ("PATCH", f"/subscribers/{world.subscriber_id}", {"json": {"name": name}}),
            ("POST", "/plans", {"json": plan_json("bo-m", name=name)}),
            ("POST", "/coupons", {"json": {"coupon_id": "BO20", "name": name,
                                           "percent_off": "20", "duration": "forever"}}),
        ]
    assert_refused(http, cases, 422, "invalid-input")
    refused = http.post("/subscribers", json={"email": "eve@example.com",
                                              "name": "Eve\nBcc: x@evil.example"})
    assert "without control characters or line breaks" in refused.json()["detail"]
    kept = http.post(f"/subscribers/{world.subscriber_id}/balance",
                     json={"amount": 500, "subscription_id": world.active,
                           "reason": "goodwill:\n\tthe outage of 3 March"})
    assert kept.status_code == 201, kept.text


def test_a_body_that_repeats_a_key_is_a_400_and_appends_nothing(http: httpx.Client) -> None:
    log = api_events(http)
    seen = assert_refused(http, [
        ("POST", "/subscribers", {"content": b'{"email": "a@example.com", "name": "A",'
                                             b' "name": "B"}',
                                  "headers": {"content-type": "application/json"}}),
        ("POST", "/plans", {"content": b'{"plan_id": "p", "plan_id": "q"}',
                            "headers": {"content-type": "application/json"}}),
        ("POST", "/coupons", {"content": b'{"coupon_id": "C", "nested": {"a": 1, "a": 2}}',
                              "headers": {"content-type": "application/json"}}),
    ], 400, "malformed-request")
    assert seen and api_events(http) == log


def test_a_405_names_every_method_the_path_has(http: httpx.Client) -> None:
    answer = http.request("DELETE", "/plans")
    assert answer.status_code == 405
    assert set(answer.headers["allow"].split(", ")) >= {"GET", "POST"}
    assert answer.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("path", ["/plans", "/subscribers", "/events", "/healthz", "/pricing"])
def test_the_routes_answer_head_and_options_with_a_405(http: httpx.Client, path: str) -> None:
    """docs/http-api.md: a reader may `GET`; the routes take no `HEAD` or `OPTIONS`."""
    assert http.get(path).status_code == 200
    for method in ("HEAD", "OPTIONS"):
        answer = http.request(method, path)
        assert answer.status_code == 405, method
        assert "GET" in answer.headers["allow"].split(", ")


def test_an_empty_value_given_for_an_optional_field_is_refused_not_taken_as_left_out(
    http: httpx.Client, world: World,
) -> None:
    w = world
    start = f"/subscribers/{w.subscriber_id}/subscriptions"
    log = api_events(http)
    assert_refused(http, [
        ("POST", start, {"json": {"plan_id": "pro-m", "coupon": ""}}),
        ("POST", f"/subscriptions/{w.active}/coupon", {"json": {"coupon": ""}}),
        ("POST", f"/subscriptions/{w.active}/change", {"json": {"plan_id": ""}}),
    ], 422, "unknown-reference")
    assert_refused(http, [
        ("POST", "/subscribers", {"json": {"email": "e@example.com", "name": "E", "external_ref": ""}}),
        ("PATCH", f"/subscribers/{w.subscriber_id}", {"json": {"external_ref": ""}}),
        ("POST", f"/subscriptions/{w.active}/charges", {"json": {
            "amount": 100, "currency": "USD", "gateway": "sandbox", "gateway_ref": ""}}),
    ], 422)
    assert api_events(http) == log


def test_an_instant_whose_offset_takes_it_out_of_the_calendar_in_utc_is_refused(
    http: httpx.Client, world: World,
) -> None:
    w = world
    window = {"from": "2026-01-01", "to": "2026-01-31"}
    assert_refused(http, [
        ("POST", "/subscribers", {"json": {"email": "e@example.com", "name": "E",
                                           "effective_at": "1970-01-01T00:00:00+14:00"}}),
        ("POST", "/plans", {"json": plan_json("p1", effective_at="1970-01-01T13:59:59.999999+14:00")}),
        ("POST", f"/subscriptions/{w.active}/cancel",
         {"json": {"when": "at", "at": "2199-12-31T23:59:59-05:00"}}),
        ("GET", "/reports/mrr", {"params": {**window, "as_of": "1970-01-01T00:00:00+14:00"}}),
    ], 422, "validation-error")
    first = http.post("/subscribers", json={"email": "f@example.com", "name": "F",
                                            "effective_at": "1970-01-01T14:00:00+14:00"})
    assert first.status_code == 201, first.text
    assert first.json()["registered_at"] == "1970-01-01T00:00:00Z"
