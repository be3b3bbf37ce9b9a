"""The OpenAPI document names every minimum route of the ledger core; the docs pages answer,
loading nothing from outside the app; the problem catalogue answers."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import httpx
from support.pages import assert_served_offline

# The routes of docs/http-api.md for the ledger core (path parameters written as {}).
CORE_ROUTES = {
    ("POST", "/plans"), ("GET", "/plans"), ("GET", "/plans/{}"), ("POST", "/plans/{}/prices"),
    ("POST", "/coupons"), ("GET", "/coupons"),
    ("POST", "/subscribers"), ("GET", "/subscribers"), ("GET", "/subscribers/{}"),
    ("PATCH", "/subscribers/{}"), ("PUT", "/subscribers/{}/payment-method"),
    ("POST", "/subscribers/{}/subscriptions"),
    ("GET", "/subscriptions/{}"),
    ("POST", "/subscriptions/{}/change"), ("POST", "/subscriptions/{}/cancel"),
    ("POST", "/subscriptions/{}/cancel/revoke"), ("POST", "/subscriptions/{}/pause"),
    ("POST", "/subscriptions/{}/resume"), ("POST", "/subscriptions/{}/coupon"),
    ("POST", "/subscriptions/{}/change/preview"), ("GET", "/subscriptions/{}/upcoming-invoice"),
    ("GET", "/subscribers/{}/history"),
    ("GET", "/events"),
}


def test_the_openapi_document_lists_every_minimum_route_of_the_ledger_core(http: httpx.Client) -> None:
    response = http.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    routes = {
        (method.upper(), re.sub(r"\{[^}]+\}", "{}", path))
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert CORE_ROUTES <= routes, sorted(CORE_ROUTES - routes)
    events = document["paths"]["/events"]["get"]
    assert {p["name"] for p in events["parameters"]} >= {"after", "limit", "type"}


def test_the_interactive_docs_answer_and_the_dashboard_links_to_them(http: httpx.Client) -> None:
    docs = http.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert "'/openapi.json'" in docs.text
    assert '<a href="/docs">API</a>' in http.get("/").text


def test_the_docs_pages_load_every_asset_from_the_app_itself(http: httpx.Client) -> None:
    # On a machine without internet a page whose Swagger UI comes from a CDN is blank.
    assets = assert_served_offline(http, "/docs")
    assert {path.rsplit(".", 1)[-1] for path in assets} >= {"js", "css"}, assets
    # One docs page: ReDoc is off.
    assert http.get("/redoc").status_code == 404


def test_every_problem_type_of_the_catalogue_is_documented_on_its_own(http: httpx.Client) -> None:
    catalogue = http.get("/problems").json()["items"]
    codes = [p["code"] for p in catalogue]
    assert len(codes) == len(set(codes))
    assert {"malformed-request", "validation-error", "payload-too-large", "unsupported-media-type",
            "concurrent-modification", "idempotency-key-reused", "idempotency-key-in-flight",
            "effective-at-out-of-order", "effective-at-in-future"} <= set(codes)
    for problem in catalogue:
        one = http.get(f"/problems/{problem['code']}")
        assert one.status_code == 200 and one.json() == problem
        assert 400 <= problem["status"] <= 599 and problem["title"]


def test_every_write_that_takes_an_idempotency_key_declares_the_replay_header_on_success(
    http: httpx.Client,
) -> None:
    document = http.get("/openapi.json").json()
    keyed = [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
    ]
    assert ("POST", "/subscribers") in {(m, p) for m, p, _ in keyed}
    for method, path, operation in keyed:
        successes = [r for status, r in operation["responses"].items() if status.startswith("2")]
        assert successes, (method, path)
        for response in successes:
            assert set(response["headers"]) == {"Idempotent-Replayed", "Subledger-Position"}, \
                (method, path)


def test_docs_http_api_md_describes_each_route_in_one_row() -> None:
    """Two rows for one route (a stale one left beside its update) say two things."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "http-api.md").read_text(encoding="utf-8")
    routes = [line.split(" | ")[0] for line in text.splitlines()
              if re.match(r"\| `(GET|POST|PUT|PATCH|DELETE) /", line)]
    assert routes and [route for route, n in Counter(routes).items() if n > 1] == []
