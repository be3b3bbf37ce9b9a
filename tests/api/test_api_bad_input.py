"""Bad input of every kind docs/http-api.md names gets a problem document with the right status,
appends nothing, and its problem type is documented at GET /problems/{code}; never a 500.

Each test sends its cases through `assert_refused`, which compares the whole log before
and after and looks each problem type up.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from support.http import (
    CATALOG_AT_ISO,
    Case,
    World,
    api_events,
    assert_problem,
    assert_refused,
    plan_json,
    settled_request,
)

JSON = {"content-type": "application/json"}
MIB = 1024 * 1024


def raw(body: bytes | str, content_type: str | None = "application/json") -> dict[str, Any]:
    """httpx arguments sending ``body`` as is."""
    headers = {} if content_type is None else {"content-type": content_type}
    return {"content": body.encode() if isinstance(body, str) else body, "headers": headers}


def soon(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def sub_path(sub: str, action: str = "") -> str:
    return f"/subscriptions/{sub}" + (f"/{action}" if action else "")


def test_malformed_json_is_a_400_problem(http: httpx.Client, world: World) -> None:
    w = world
    cases: list[Case] = [
        ("POST", "/plans", raw('{"plan_id": "x",')),
        ("POST", "/subscribers", raw('{"email": "ada@example.com" "name": "Ada"}')),
        ("PUT", f"/subscribers/{w.subscriber_id}/payment-method", raw("{'gateway': 'sandbox'}")),
        ("POST", sub_path(w.active, "change"), raw('{"quantity": 2}}')),
        ("POST", sub_path(w.active, "cancel"), raw('{"when": "now",}')),
        ("POST", "/coupons", raw("nul")),
        ("PATCH", f"/subscribers/{w.subscriber_id}", raw('{"name": "Ada" ')),
        ("POST", sub_path(w.active, "pause"), raw("{")),
    ]
    assert_refused(http, cases, 400, "malformed-request")


def test_a_whole_number_written_with_a_point_is_that_number_as_json_schema_reads_it(
    http: httpx.Client,
) -> None:
    created = http.post("/plans", json=plan_json("p4", amount=1900.0, trial_days=14.0))
    assert created.status_code == 201, created.text
    assert (created.json()["amount"], created.json()["trial_days"]) == (1900, 14)
    assert isinstance(created.json()["amount"], int)


def test_missing_wrongly_typed_and_unknown_fields_are_422_problems(
    http: httpx.Client, world: World,
) -> None:
    w = world
    without_amount = {k: v for k, v in plan_json("p1").items() if k != "amount"}
    cases: list[Case] = [
        # missing
        ("POST", "/plans", {"json": without_amount}),
        ("POST", "/plans", {"json": {}}),
        ("POST", "/subscribers", {"json": {"name": "Ada"}}),
        ("PUT", f"/subscribers/{w.subscriber_id}/payment-method", {"json": {"gateway": "sandbox"}}),
        ("POST", f"/subscribers/{w.subscriber_id}/subscriptions", {"json": {"quantity": 2}}),
        ("POST", sub_path(w.active, "coupon"), {"json": {}}),
        ("POST", "/coupons", {"json": {"coupon_id": "C1", "percent_off": "10"}}),
        ("POST", "/plans/basic-m/prices", {"json": {}}),
        # wrong types
        ("POST", "/plans", {"json": plan_json("p2", amount=19.5)}),
        ("POST", "/plans", {"json": plan_json("p3", amount="1900")}),
        ("POST", "/plans", {"json": plan_json("p5", amount=True)}),
        ("POST", "/plans", {"json": plan_json("p6", name=5)}),
        ("POST", "/plans", {"json": plan_json("p7", trial_days="14")}),
        ("POST", "/plans", {"json": plan_json(None)}),  # type: ignore[arg-type]
        ("POST", "/plans", {"json": [plan_json("p9")]}),
        ("POST", "/plans/basic-m/prices", {"json": {"amount": 2100.5}}),
        ("POST", "/coupons", {"json": {"coupon_id": "C2", "percent_off": "twenty", "duration": "once"}}),
        ("POST", "/coupons", {"json": {"coupon_id": "C3", "amount_off": 5.5, "currency": "USD",
                                       "duration": "once"}}),
        ("POST", f"/subscribers/{w.subscriber_id}/subscriptions",
         {"json": {"plan_id": "pro-m", "quantity": "2"}}),
        ("POST", f"/subscribers/{w.subscriber_id}/subscriptions",
         {"json": {"plan_id": "pro-m", "quantity": 2.5}}),
        ("POST", sub_path(w.active, "change"), {"json": {"quantity": "3"}}),
        ("POST", sub_path(w.active, "change"), {"json": {"quantity": 3, "when": "tomorrow"}}),
        ("POST", sub_path(w.active, "cancel"), {"json": {"when": "later"}}),
        ("POST", sub_path(w.active, "pause"), {"json": ["now"]}),
        ("POST", "/subscribers", {"json": {"email": ["ada@example.com"], "name": "Ada"}}),
        # unknown fields
        ("POST", "/plans", {"json": plan_json("p10", colour="red")}),
        ("POST", "/subscribers", {"json": {"email": "ada@example.com", "name": "Ada", "age": 36}}),
        ("POST", sub_path(w.active, "change"), {"json": {"quantity": 3, "seats": 3}}),
        ("POST", sub_path(w.active, "pause"), {"json": {"until": CATALOG_AT_ISO}}),
        ("PUT", f"/subscribers/{w.subscriber_id}/payment-method",
         {"json": {"gateway": "sandbox", "token": "tok_visa", "cvc": "123"}}),
    ]
    assert_refused(http, cases, 422)


def test_quantities_amounts_and_currencies_out_of_bounds_are_422_problems(
    http: httpx.Client, world: World,
) -> None:
    w = world
    start = f"/subscribers/{w.subscriber_id}/subscriptions"
    assert_refused(http, [
        ("POST", start, {"json": {"plan_id": "pro-m", "quantity": q}}) for q in (0, -1, 1_000_001)
    ] + [
        ("POST", sub_path(w.active, "change"), {"json": {"quantity": q}}) for q in (0, 1_000_001)
    ], 422, "quantity-out-of-bounds")
    assert_refused(http, [
        ("POST", "/plans", {"json": plan_json("p1", amount=-1)}),
        ("POST", "/plans", {"json": plan_json("p2", amount=10**12 + 1)}),
        ("POST", "/plans", {"json": plan_json("p3", amount=10**30)}),
        ("POST", "/plans/basic-m/prices", {"json": {"amount": -1}}),
        ("POST", "/plans/basic-m/prices", {"json": {"amount": 10**12 + 1}}),
        ("POST", "/coupons", {"json": {"coupon_id": "C1", "amount_off": -1, "currency": "USD",
                                       "duration": "once"}}),
        ("POST", "/coupons", {"json": {"coupon_id": "C2", "amount_off": 10**12 + 1,
                                       "currency": "USD", "duration": "once"}}),
    ], 422, "amount-out-of-bounds")
    assert_refused(http, [
        ("POST", "/plans", {"json": plan_json("p4", currency=currency)})
        for currency in ("ABC", "usd1", "US", "", "XTS")
    ] + [
        ("POST", "/coupons", {"json": {"coupon_id": "C3", "amount_off": 100, "currency": "ABC",
                                       "duration": "once"}}),
    ], 422, "unknown-currency")


def test_unknown_interval_gateway_plan_and_coupon_in_a_body_are_422_problems(
    http: httpx.Client, world: World,
) -> None:
    w = world
    start = f"/subscribers/{w.subscriber_id}/subscriptions"
    assert_refused(http, [
        ("POST", "/plans", {"json": plan_json("p1", interval="week")}),
        ("POST", "/plans", {"json": plan_json("p2", interval="monthly")}),
        ("POST", "/coupons", {"json": {"coupon_id": "C1", "percent_off": "10",
                                       "duration": "sometimes"}}),
    ], 422)
    assert_refused(http, [
        ("PUT", f"/subscribers/{w.subscriber_id}/payment-method",
         {"json": {"gateway": gateway, "token": "tok_visa"}}) for gateway in ("paypal", "stripe", "")
    ], 422, "unknown-gateway")
    assert_refused(http, [
        ("POST", start, {"json": {"plan_id": "no-such-plan"}}),
        ("POST", start, {"json": {"plan_id": "pro-m", "coupon": "NO-SUCH-COUPON"}}),
        ("POST", sub_path(w.active, "change"), {"json": {"plan_id": "no-such-plan"}}),
        ("POST", sub_path(w.active, "coupon"), {"json": {"coupon": "NO-SUCH-COUPON"}}),
    ], 422, "unknown-reference")


def test_malformed_and_unknown_ids_in_paths_are_404_problems(http: httpx.Client, world: World) -> None:
    w = world
    bad_ids = ["not-a-uuid", "123", str(uuid.uuid4()), "%20"]
    subscriber_ids = [*bad_ids, w.active]       # a subscription's id names no subscriber
    subscription_ids = [*bad_ids, w.subscriber_id]
    valid = {
        "payment-method": {"gateway": "sandbox", "token": "tok_visa"},
        "subscriptions": {"plan_id": "pro-m"},
        "change": {"quantity": 2},
        "cancel": {"when": "now"},
        "coupon": {"coupon": "WELCOME20"},
    }
    cases: list[Case] = []
    for sid in subscriber_ids:
        cases += [
            ("GET", f"/subscribers/{sid}", {}),
            ("GET", f"/subscribers/{sid}/history", {}),
            ("PATCH", f"/subscribers/{sid}", {"json": {"name": "Grace"}}),
            ("PUT", f"/subscribers/{sid}/payment-method", {"json": valid["payment-method"]}),
            ("POST", f"/subscribers/{sid}/subscriptions", {"json": valid["subscriptions"]}),
        ]
    for sub in subscription_ids:
        cases += [
            ("GET", f"/subscriptions/{sub}", {}),
            ("POST", f"/subscriptions/{sub}/change", {"json": valid["change"]}),
            ("POST", f"/subscriptions/{sub}/cancel", {"json": valid["cancel"]}),
            ("POST", f"/subscriptions/{sub}/cancel/revoke", {}),
            ("POST", f"/subscriptions/{sub}/pause", {}),
            ("POST", f"/subscriptions/{sub}/resume", {}),
            ("POST", f"/subscriptions/{sub}/coupon", {"json": valid["coupon"]}),
        ]
    cases += [
        ("GET", "/plans/no-such-plan", {}),
        ("POST", "/plans/no-such-plan/prices", {"json": {"amount": 100}}),
        ("GET", "/coupons/NO-SUCH-COUPON", {}),
    ]
    assert_refused(http, cases, 404)


def test_effective_at_too_far_ahead_or_without_an_offset_is_a_422_problem(
    http: httpx.Client, world: World,
) -> None:
    w = world
    start = f"/subscribers/{w.subscriber_id}/subscriptions"
    ahead = soon(6)
    assert_refused(http, [
        ("POST", "/plans", {"json": plan_json("p1", effective_at=ahead)}),
        ("POST", "/plans/basic-m/prices", {"json": {"amount": 2100, "effective_at": ahead}}),
        ("POST", "/coupons", {"json": {"coupon_id": "C1", "percent_off": "5", "duration": "once",
                                       "effective_at": ahead}}),
        ("POST", "/subscribers", {"json": {"email": "grace@example.com", "name": "Grace",
                                           "effective_at": ahead}}),
        ("PATCH", f"/subscribers/{w.subscriber_id}", {"json": {"name": "Grace", "effective_at": ahead}}),
        ("PUT", f"/subscribers/{w.subscriber_id}/payment-method",
         {"json": {"gateway": "sandbox", "token": "tok_visa", "effective_at": ahead}}),
        ("POST", start, {"json": {"plan_id": "pro-m", "effective_at": ahead}}),
        ("POST", sub_path(w.active, "change"), {"json": {"quantity": 2, "effective_at": ahead}}),
        ("POST", sub_path(w.active, "cancel"), {"json": {"when": "now", "effective_at": ahead}}),
        ("POST", sub_path(w.active, "pause"), {"json": {"effective_at": ahead}}),
        ("POST", sub_path(w.paused, "resume"), {"json": {"effective_at": ahead}}),
        ("POST", sub_path(w.active, "coupon"), {"json": {"coupon": "WELCOME20", "effective_at": ahead}}),
    ], 422, "effective-at-in-future")
    assert_refused(http, [
        # Days outside 1970-2199 are not times the ledger can be given at all.
        ("POST", "/subscribers", {"json": {"email": "grace@example.com", "name": "Grace",
                                           "effective_at": "2999-01-01T00:00:00Z"}}),
        ("POST", "/subscribers", {"json": {"email": "grace@example.com", "name": "Grace",
                                           "effective_at": "2026-01-01T00:00:00"}}),
        ("POST", sub_path(w.active, "change"), {"json": {"quantity": 2,
                                                         "effective_at": "2026-06-01T12:00:00"}}),
        ("POST", sub_path(w.active, "cancel"), {"json": {"when": "at", "at": "2099-01-01T00:00:00"}}),
        ("POST", sub_path(w.active, "pause"), {"json": {"effective_at": "yesterday"}}),
        ("POST", sub_path(w.active, "pause"), {"json": {"effective_at": "2026-13-01T00:00:00Z"}}),
    ], 422)


def test_a_time_within_five_minutes_ahead_is_accepted_as_clock_skew(http: httpx.Client) -> None:
    response = http.post("/subscribers", json={"email": "grace@example.com", "name": "Grace",
                                                "effective_at": soon(4)})
    assert response.status_code == 201, response.text


def test_effective_at_before_the_records_last_event_is_a_409_problem(
    http: httpx.Client, world: World,
) -> None:
    w = world
    before = "2025-12-31T00:00:00Z"  # before the catalog and the subscriber existed
    earlier = CATALOG_AT_ISO         # before every subscription's start (now)
    assert_refused(http, [
        ("POST", sub_path(w.active, "change"), {"json": {"quantity": 2, "effective_at": earlier}}),
        ("POST", sub_path(w.active, "cancel"), {"json": {"when": "now", "effective_at": earlier}}),
        ("POST", sub_path(w.active, "pause"), {"json": {"effective_at": earlier}}),
        ("POST", sub_path(w.paused, "resume"), {"json": {"effective_at": earlier}}),
        ("POST", sub_path(w.active, "coupon"), {"json": {"coupon": "WELCOME20", "effective_at": earlier}}),
        ("POST", sub_path(w.trialing, "cancel"), {"json": {"when": "period_end", "effective_at": earlier}}),
        ("PUT", f"/subscribers/{w.subscriber_id}/payment-method",
         {"json": {"gateway": "sandbox", "token": "tok_visa", "effective_at": before}}),
        ("PATCH", f"/subscribers/{w.subscriber_id}", {"json": {"name": "Grace", "effective_at": before}}),
        ("POST", "/plans/basic-m/prices", {"json": {"amount": 2100, "effective_at": before}}),
    ], 409, "effective-at-out-of-order")
    # A subscription that would start before its subscriber or its plan existed.
    assert_refused(http, [
        ("POST", f"/subscribers/{w.subscriber_id}/subscriptions",
         {"json": {"plan_id": "pro-m", "effective_at": before}}),
    ], 409)


def test_lifecycle_violations_are_409_problems(http: httpx.Client, world: World) -> None:
    w = world
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", sub_path(w.canceled, "cancel"), {"json": {"when": "now"}}, "subscription-already-canceled"),
        ("POST", sub_path(w.canceled, "cancel"), {"json": {"when": "period_end"}},
         "subscription-already-canceled"),
        ("POST", sub_path(w.canceled, "change"), {"json": {"quantity": 2}}, "subscription-already-canceled"),
        ("POST", sub_path(w.canceled, "resume"), {}, "subscription-already-canceled"),
        ("POST", sub_path(w.active, "resume"), {}, "subscription-not-paused"),
        ("POST", sub_path(w.trialing, "resume"), {}, "subscription-not-paused"),
        ("POST", sub_path(w.active, "cancel/revoke"), {}, "no-cancellation-scheduled"),
        ("POST", sub_path(w.trialing, "pause"), {}, "subscription-not-pausable"),
        ("POST", sub_path(w.paused, "pause"), {}, "subscription-not-pausable"),
        ("POST", sub_path(w.paused, "change"), {"json": {"quantity": 2}}, "subscription-paused"),
        ("POST", sub_path(w.paused, "cancel"), {"json": {"when": "period_end"}}, "subscription-paused"),
    ]
    for method, path, kwargs, code in cases:
        assert_refused(http, [(method, path, kwargs)], 409, code)


# A change of interval or a resume while a cancellation is scheduled is no longer refused
# (409 `cancellation-pending`): its new period is billed up to the cancellation.
def test_a_change_of_interval_while_a_cancellation_is_scheduled_goes_on_and_keeps_it(
        http: httpx.Client, world: World) -> None:
    yearly = http.post("/plans", json=plan_json("basic-y", interval="year", amount=19000, trial_days=0))
    assert yearly.status_code == 201, yearly.text
    ending = http.post(sub_path(world.active, "cancel"), json={"when": "period_end"})
    assert ending.status_code == 200, ending.text
    changed = http.post(sub_path(world.active, "change"), json={"plan_id": "basic-y", "when": "now"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["cancel_at"] == ending.json()["cancel_at"]


def test_a_resume_before_a_scheduled_cancellation_goes_on_and_keeps_it(
        http: httpx.Client, world: World) -> None:
    in_ten_days = (datetime.now(UTC) + timedelta(days=10)).isoformat().replace("+00:00", "Z")
    ending = http.post(sub_path(world.paused, "cancel"), json={"when": "at", "at": in_ten_days})
    assert ending.status_code == 200, ending.text
    resumed = http.post(sub_path(world.paused, "resume"))
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["cancel_at"] == ending.json()["cancel_at"]


def test_a_second_plan_or_coupon_with_a_taken_id_is_a_409_problem(http: httpx.Client, world: World) -> None:
    assert_refused(http, [
        ("POST", "/plans", {"json": plan_json("basic-m")}),
        ("POST", "/plans", {"json": plan_json("pro-m", name="Another", amount=1)}),
    ], 409, "plan-already-exists")
    assert_refused(http, [
        ("POST", "/coupons", {"json": {"coupon_id": "WELCOME20", "percent_off": "50",
                                       "duration": "forever"}}),
    ], 409, "coupon-already-exists")


def test_a_body_over_one_mebibyte_is_a_413_problem(http: httpx.Client, world: World) -> None:
    w = world
    big = json.dumps({"email": "grace@example.com", "name": "Grace"}).encode()
    big += b" " * (MIB + 1 - len(big))
    assert len(big) == MIB + 1
    assert_refused(http, [
        ("POST", "/subscribers", raw(big)),
        ("POST", "/plans", raw(b'{"plan_id": "' + b"x" * (2 * MIB) + b'"}')),
        ("PUT", f"/subscribers/{w.subscriber_id}/payment-method", raw(b" " * (5 * MIB))),
    ], 413, "payload-too-large")


def test_a_body_of_exactly_one_mebibyte_is_accepted(http: httpx.Client) -> None:
    body = json.dumps({"email": "grace@example.com", "name": "Grace"}).encode()
    body += b" " * (MIB - len(body))
    response = http.post("/subscribers", content=body, headers=JSON)
    assert response.status_code == 201, response.text


def test_a_write_body_that_is_not_json_is_a_415_problem(http: httpx.Client, world: World) -> None:
    w = world
    body = json.dumps({"email": "grace@example.com", "name": "Grace"})
    assert_refused(http, [
        ("POST", "/subscribers", raw(body, "text/plain")),
        ("POST", "/subscribers", raw(body, None)),
        ("POST", "/subscribers", {"data": {"email": "grace@example.com", "name": "Grace"}}),
        ("POST", "/subscribers", {"files": {"email": ("e.txt", b"grace@example.com")}}),
        ("PUT", f"/subscribers/{w.subscriber_id}/payment-method",
         raw('{"gateway": "sandbox", "token": "tok_visa"}', "application/xml")),
        ("POST", sub_path(w.active, "change"), raw('{"quantity": 2}', "text/json")),
    ], 415, "unsupported-media-type")


def test_a_bad_page_size_cursor_or_position_is_a_422_problem(http: httpx.Client, world: World) -> None:
    w = world
    cases: list[Case] = []
    for path in ("/plans", "/coupons", "/subscribers", f"/subscribers/{w.subscriber_id}/history"):
        cases += [
            ("GET", path, {"params": {"limit": 0}}),
            ("GET", path, {"params": {"limit": 1001}}),
            ("GET", path, {"params": {"limit": "ten"}}),
            ("GET", path, {"params": {"cursor": "abc"}}),
            ("GET", path, {"params": {"cursor": "-1"}}),
        ]
    cases += [
        ("GET", "/events", {"params": {"after": -1}}),
        ("GET", "/events", {"params": {"after": "1e3"}}),
        ("GET", "/events", {"params": {"type": "NoSuchEvent"}}),
    ]
    assert_refused(http, cases, 422)


def test_a_filter_value_its_rule_refuses_is_a_422_problem(http: httpx.Client) -> None:
    """docs/http-api.md: a refused filter is 422 `validation-error`, and a currency not in
    ISO 4217 (in capitals) 422 `unknown-currency`."""
    assert_refused(http, [
        ("GET", "/subscriptions", {"params": {"status": "sleeping"}}),
        ("GET", "/subscriptions", {"params": {"plan_id": "no spaces"}}),
        ("GET", "/invoices", {"params": {"subscriber_id": "not-an-id"}}),
        ("GET", "/subscribers", {"params": {"email": "not-an-address"}}),
    ], 422, "validation-error")
    window = {"from": "2026-01-01", "to": "2026-03-31"}
    assert_refused(http, [
        ("GET", "/subscriptions", {"params": {"currency": "ABC"}}),
        ("GET", "/subscriptions", {"params": {"currency": "usd"}}),
        ("GET", "/invoices", {"params": {"currency": "XXQ"}}),
        ("GET", "/reports/mrr", {"params": {**window, "currency": "ABC"}}),
    ], 422, "unknown-currency")


def test_an_unknown_route_or_method_is_a_problem(http: httpx.Client) -> None:
    assert_refused(http, [("GET", "/no-such-route", {}), ("POST", "/charges", {"json": {}})],
                   404, "route-not-found")
    assert_refused(http, [("DELETE", "/plans", {}), ("PUT", "/plans", {"json": {}}),
                          ("POST", "/subscriptions", {"json": {}})],
                   405, "method-not-allowed")


# -- bugs: each test states the correct behaviour ---------------------------------------------


def test_a_lone_surrogate_in_a_json_string_is_refused_as_bad_input(
    http: httpx.Client, world: World,
) -> None:
    before = api_events(http)
    response = settled_request(http, "POST", "/subscribers", headers=JSON,
                               content=b'{"email": "grace@example.com", "name": "\\ud800"}')
    assert response.status_code in (400, 422), response.text
    assert_problem(response, response.status_code)
    assert api_events(http) == before


@pytest.mark.parametrize("body", [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"email": "grace@example.com", "name": "\xff\xfe"}',
    b'{"email": "grace@example.com", "name": "Grace", "external_ref": ' + b"9" * 5000 + b"}",
], ids=["nested-too-deep", "not-utf-8", "integer-of-5000-digits"])
def test_a_body_the_json_parser_rejects_is_a_documented_400_problem(
    http: httpx.Client, body: bytes,
) -> None:
    response = settled_request(http, "POST", "/subscribers", content=body, headers=JSON)
    problem = assert_problem(response, 400)
    documented = http.get(f"/problems/{problem['type'].removeprefix('/problems/')}")
    assert documented.status_code == 200, f"{problem['type']} is not documented"


def test_a_streamed_body_over_one_mebibyte_is_a_413_problem(http: httpx.Client) -> None:
    def chunks() -> Any:
        yield b'{"email": "grace@example.com", "name": "Grace"'
        for _ in range(20):
            yield b" " * 100_000
        yield b"}"

    before = api_events(http)
    response = settled_request(http, "POST", "/subscribers", content=chunks(), headers=JSON)
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload-too-large")
    assert api_events(http) == before


@pytest.mark.parametrize("instant", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_an_effective_at_outside_the_utc_calendar_is_a_422_problem(
    http: httpx.Client, world: World, instant: str,
) -> None:
    assert_refused(http, [
        ("POST", sub_path(world.active, "change"), {"json": {"quantity": 2, "effective_at": instant}}),
        ("POST", "/subscribers", {"json": {"email": "grace@example.com", "name": "Grace",
                                           "effective_at": instant}}),
    ], 422)


def test_a_cancellation_time_outside_the_utc_calendar_is_refused_and_leaves_the_log_readable(
    http: httpx.Client, world: World,
) -> None:
    w = world
    before = api_events(http)
    response = settled_request(http, "POST", sub_path(w.active, "cancel"),
                               json={"when": "at", "at": "9999-12-31T23:59:59-01:00"})
    reads = [settled_request(http, "GET", path) for path in (
        sub_path(w.active), f"/subscribers/{w.subscriber_id}/history", "/events")]
    assert response.status_code != 500, "no input ever yields a 500"
    assert [r.status_code for r in reads] == [200, 200, 200], "the log stays readable"
    if response.status_code >= 400:
        assert_problem(response, 422)
        assert api_events(http) == before


def test_a_cursor_of_unicode_digits_is_a_422_problem(http: httpx.Client, world: World) -> None:
    for path in ("/plans", "/coupons", "/subscribers", f"/subscribers/{world.subscriber_id}/history"):
        assert_problem(settled_request(http, "GET", path, params={"cursor": "²"}), 422)


def test_an_events_position_beyond_64_bits_is_not_a_500(
    http: httpx.Client, world: World,
) -> None:
    response = settled_request(http, "GET", "/events", params={"after": 2**63})
    if response.status_code == 200:
        assert response.json() == {"items": [], "next_cursor": None}
    else:
        assert_problem(response, 422)
