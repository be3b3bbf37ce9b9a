"""Helpers of the HTTP edge: a catalog, subscribers and subscriptions made through the API,
the log read through it, and assertions on problem documents. (These send requests: they
take an `httpx.Client` bound to a live server, the `http` fixture. The defaults exist from
CATALOG_AT on, so subscriptions may be backdated.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from subledger.domain.time import isoformat

from .concurrency import run_together

if TYPE_CHECKING:
    import httpx


CATALOG_AT_ISO = "2026-01-01T00:00:00Z"
"""CATALOG_AT as the API writes it."""


ENVELOPE_KEYS = frozenset({
    "position", "event_id", "type", "schema_version", "subscriber_id", "aggregate_id",
    "aggregate_version", "recorded_at", "effective_at", "data",
})
"""The keys of an event envelope (docs/events.md), no more, no fewer."""


PROBLEM_JSON = "application/problem+json"


def plan_json(plan_id: str = "basic-m", **overrides: Any) -> dict[str, Any]:
    """A valid POST /plans body: 19.00 USD a month, 14-day trial, existing from CATALOG_AT."""
    body: dict[str, Any] = {
        "plan_id": plan_id, "name": "Basic monthly", "tier": "basic", "currency": "USD",
        "amount": 1900, "interval": "month", "trial_days": 14, "effective_at": CATALOG_AT_ISO,
    }
    body.update(overrides)
    return body


def api_plan(http: httpx.Client, plan_id: str = "basic-m", **overrides: Any) -> dict[str, Any]:
    """POST /plans (see plan_json); the 201 answer."""
    response = http.post("/plans", json=plan_json(plan_id, **overrides))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def api_coupon(http: httpx.Client, coupon_id: str = "WELCOME20", **overrides: Any) -> dict[str, Any]:
    """POST /coupons: 20 % off for 3 months unless overridden; the 201 answer."""
    body: dict[str, Any] = {
        "coupon_id": coupon_id, "percent_off": "20", "duration": "repeating",
        "duration_in_months": 3, "effective_at": CATALOG_AT_ISO,
    }
    body.update(overrides)
    response = http.post("/coupons", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def api_subscriber(
    http: httpx.Client, email: str = "ada@example.com", *, token: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """POST /subscribers (registered at CATALOG_AT), then PUT its payment method if a
    sandbox ``token`` is given; the last answer."""
    body: dict[str, Any] = {"email": email, "name": "Ada Lovelace", "effective_at": CATALOG_AT_ISO}
    body.update(overrides)
    response = http.post("/subscribers", json=body)
    assert response.status_code == 201, response.text
    subscriber: dict[str, Any] = response.json()
    if token is not None:
        response = http.put(
            f"/subscribers/{subscriber['subscriber_id']}/payment-method",
            json={"gateway": "sandbox", "token": token, "effective_at": body["effective_at"]},
        )
        assert response.status_code == 200, response.text
        subscriber = response.json()
    return subscriber


def api_subscription(
    http: httpx.Client,
    plan_id: str = "basic-m",
    *,
    subscriber_id: str | None = None,
    plan: dict[str, Any] | None = None,
    **body: Any,
) -> dict[str, Any]:
    """A subscription made over HTTP; the 201 answer of POST /subscribers/{id}/subscriptions.

    Creates the plan (``plan_json(plan_id, **plan)``) unless it exists, and a subscriber
    with the sandbox card ``tok_visa`` unless ``subscriber_id`` is given. ``body`` is the
    rest of the request (quantity, trial_days, coupon, effective_at).
    """
    if http.get(f"/plans/{plan_id}").status_code == 404:
        api_plan(http, plan_id, **(plan or {}))
    if subscriber_id is None:
        subscriber_id = api_subscriber(http, token="tok_visa")["subscriber_id"]
    response = http.post(f"/subscribers/{subscriber_id}/subscriptions",
                         json={"plan_id": plan_id, **body})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def api_events(http: httpx.Client, *types: str) -> list[dict[str, Any]]:
    """The whole log (optionally only some event types), paged through GET /events."""
    items: list[dict[str, Any]] = []
    after = 0
    while True:
        params: dict[str, Any] = {"after": after, "limit": 1000}
        if types:
            params["type"] = ",".join(types)
        response = http.get("/events", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        if page["next_cursor"] is None:
            return items
        after = int(page["next_cursor"])


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """``response`` is an RFC 9457 problem document with this status (and type
    ``/problems/<code>`` if given); its body."""
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: expected {status}, "
        f"got {response.status_code} {response.text[:500]}"
    )
    assert response.headers["content-type"].split(";")[0].strip() == PROBLEM_JSON, response.headers
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys(), body
    assert body["status"] == status, body
    assert isinstance(body["title"], str) and isinstance(body["detail"], str), body
    assert body["type"].startswith("/problems/"), body
    if code is not None:
        assert body["type"] == f"/problems/{code}", body
    return body


def assert_documented(http: httpx.Client, problems: dict[str, int]) -> None:
    """Each problem ``type`` seen (with the status it came with) is documented at
    GET /problems/{code}, with that status."""
    for problem_type, status in problems.items():
        code = problem_type.removeprefix("/problems/")
        response = http.get(f"/problems/{code}")
        assert response.status_code == 200, f"{problem_type} is not documented: {response.text}"
        doc = response.json()
        assert doc["code"] == code and doc["status"] == status, doc
        assert doc["title"] and doc["description"], doc


Case = tuple[str, str, dict[str, Any]]
"""A request: (method, path, httpx keyword arguments such as ``json=`` or ``content=``)."""


def assert_refused(http: httpx.Client, cases: Sequence[Case], status: int,
                   code: str | None = None) -> dict[str, int]:
    """Every request of ``cases`` is refused with a problem document of ``status`` (and
    ``code``), appends nothing to the log, and its problem type is documented at
    GET /problems/{code}. The problem types seen, with their status."""
    before = api_events(http)
    seen: dict[str, int] = {}
    for method, path, kwargs in cases:
        body = assert_problem(settled_request(http, method, path, **kwargs), status, code)
        seen[body["type"]] = status
    assert api_events(http) == before, "a refused request appended nothing"
    assert_documented(http, seen)
    return seen


@dataclass(frozen=True)
class World:
    """Ids of records made through the API by :func:`api_world` (USD unless named so)."""

    subscriber_id: str
    """Registered at CATALOG_AT, card tok_visa."""
    trialing: str
    """basic-m (14-day trial), started now."""
    active: str
    """pro-m (no trial), started now."""
    paused: str
    canceled: str


def api_world(http: httpx.Client) -> World:
    """Plans basic-m (trial), pro-m and eur-m (EUR), coupons WELCOME20 (20 %) and EUR5
    (5.00 EUR), one subscriber, and a subscription in each of the states trialing, active,
    paused and canceled; all made over HTTP."""
    api_plan(http, "basic-m")
    api_plan(http, "pro-m", name="Pro monthly", tier="pro", amount=4900, trial_days=0)
    api_plan(http, "eur-m", name="Euro monthly", currency="EUR", amount=1500, trial_days=0)
    api_coupon(http, "WELCOME20")
    api_coupon(http, "EUR5", percent_off=None, amount_off=500, currency="EUR", duration="once",
               duration_in_months=None)
    subscriber_id = api_subscriber(http, token="tok_visa")["subscriber_id"]

    def start(plan_id: str) -> str:
        return api_subscription(http, plan_id, subscriber_id=subscriber_id)["subscription_id"]

    trialing, active, paused, canceled = start("basic-m"), start("pro-m"), start("pro-m"), start("pro-m")
    assert http.post(f"/subscriptions/{paused}/pause").status_code == 200
    assert http.post(f"/subscriptions/{canceled}/cancel", json={"when": "now"}).status_code == 200
    return World(subscriber_id=subscriber_id, trialing=trialing, active=active, paused=paused,
                 canceled=canceled)


OWED_DAYS = 40
"""How long before now Ada's invoice of :func:`api_owed` was issued: in the 31-60 bucket."""


def api_owed(http: httpx.Client, now: datetime) -> dict[str, Any]:
    """A book owed one invoice: Ada's pro-m (49.00 USD a month, no trial) started OWED_DAYS
    days before ``now`` on a card that is declined, its first invoice unpaid; Grace's pro-m
    started now on a good card, paid. Ada's subscription (its 201 answer, the invoice under
    ``open_invoices``)."""
    ada = api_subscriber(http, token="tok_chargeDeclined")["subscriber_id"]
    owed = api_subscription(http, "pro-m", subscriber_id=ada, effective_at=isoformat(now - timedelta(days=OWED_DAYS)),
                            plan={"name": "Pro monthly", "tier": "pro", "amount": 4900, "trial_days": 0})
    assert owed["status"] == "past_due"
    grace = api_subscriber(http, "grace@example.com", token="tok_visa")["subscriber_id"]
    assert api_subscription(http, "pro-m", subscriber_id=grace)["status"] == "active"
    return owed


def settle(http: httpx.Client) -> None:
    """Wait until the server is done with every request it has answered: a request on a new
    connection is served by its event loop only after the work that follows an answer
    (logging a 500's traceback, closing that connection).

    Call it before failing a test on a 500: CPython 3.11's traceback printing parses source
    with ``ast``, which is not thread-safe there, so the server thread logging a traceback
    while pytest formats the failure can abort the session (INTERNALERROR: AST constructor
    recursion depth mismatch)."""
    import httpx

    with httpx.Client(base_url=http.base_url, timeout=30) as fresh:
        fresh.get("/healthz")


def settled_request(http: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """``http.request(...)``, followed by :func:`settle` if the answer is a 5xx."""
    response = http.request(method, path, **kwargs)
    if response.status_code >= 500:
        settle(http)
    return response


def concurrent_requests(
    base_url: str, requests: Sequence[tuple[str, str, dict[str, Any]]],
) -> list[httpx.Response]:
    """Send each ``(method, path, httpx keyword arguments)`` on its own connection, all at
    the same instant (threads behind a barrier); the answers in order."""
    import httpx

    clients = [httpx.Client(base_url=base_url, timeout=60) for _ in requests]
    try:
        for client in clients:  # connect before the barrier, so the requests start together
            assert client.get("/healthz").status_code == 200

        def send(i: int) -> httpx.Response:
            method, path, kwargs = requests[i]
            return clients[i].request(method, path, **kwargs)

        return run_together(len(requests), send)
    finally:
        for client in clients:
            client.close()
