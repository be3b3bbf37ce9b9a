"""Pure factories shared by the tests: instants, plan terms, aggregates.

Nothing here reads a clock or touches a store; every instant is passed in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from subledger.domain.billing_schedule import ChargeIntent, ChargeOutcome, Payer
from subledger.domain.catalog import Coupon, Plan, PlanTerms
from subledger.domain.periods import Interval
from subledger.domain.subscription import Subscription

RECORDED_AT = datetime(2030, 1, 1, tzinfo=UTC)
"""A fixed server clock for events whose recorded_at does not matter to the test."""

SUBSCRIBER_ID = UUID("00000000-0000-4000-8000-000000000001")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
    microsecond: int = 0,
) -> datetime:
    """A UTC instant."""
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=UTC)


def plan_terms(
    plan_id: str = "basic",
    *,
    version: int = 1,
    tier: str | None = None,
    amount: int = 1000,
    currency: str = "USD",
    interval: Interval | str = Interval.MONTH,
    trial_days: int = 0,
) -> PlanTerms:
    """One version of a plan as a subscription is priced on it (no Plan aggregate needed)."""
    return PlanTerms(
        plan_id=plan_id,
        version=version,
        tier=tier if tier is not None else plan_id,
        amount=amount,
        currency=currency,
        interval=Interval(interval),
        trial_days=trial_days,
    )


def pay_ok(intent: ChargeIntent) -> ChargeOutcome:
    """A payer whose every charge succeeds (a working card); the gateway reference is
    derived from the charge id, so the same attempt always gets the same reference."""
    return ChargeOutcome(succeeded=True, gateway="sandbox", gateway_ref=f"sb_ch_{intent.charge_id}")


def pay_declined(intent: ChargeIntent) -> ChargeOutcome:
    """A payer whose every charge is declined (``card_declined``)."""
    return ChargeOutcome(succeeded=False, gateway="sandbox", gateway_ref=f"sb_ch_{intent.charge_id}",
                         decline_code="card_declined")


def pay_fail_first(intent: ChargeIntent) -> ChargeOutcome:
    """A payer that declines the first attempt at each invoice and accepts every retry."""
    return pay_declined(intent) if intent.attempt == 1 else pay_ok(intent)


def start_subscription(
    terms: PlanTerms | None = None,
    *,
    at: datetime,
    quantity: int = 1,
    trial_days: int | None = None,
    subscriber_id: UUID = SUBSCRIBER_ID,
    recorded_at: datetime = RECORDED_AT,
    pay: Payer | None = None,
) -> Subscription:
    """A subscription started at ``at``, its events still pending: SubscriptionStarted and,
    without a trial, the first InvoiceIssued; with ``pay``, also the charge of that invoice
    (without, that charge is still due at ``at``)."""
    subscription = Subscription.start(
        subscriber_id=subscriber_id,
        terms=terms if terms is not None else plan_terms(),
        quantity=quantity,
        trial_days=trial_days,
        effective_at=at,
        recorded_at=recorded_at,
    )
    if pay is not None:
        subscription.advance_to(at, recorded_at=recorded_at, pay=pay)
    return subscription


def create_plan(**overrides: Any) -> Plan:
    """A valid plan; any keyword of ``Plan.create`` may be overridden."""
    fields: dict[str, Any] = {
        "plan_id": "basic",
        "name": "Basic",
        "tier": "basic",
        "currency": "USD",
        "amount": 1000,
        "interval": "month",
        "trial_days": 0,
        "effective_at": utc(2026, 1, 1),
        "recorded_at": RECORDED_AT,
    }
    fields.update(overrides)
    return Plan.create(**fields)


def create_coupon(**overrides: Any) -> Coupon:
    """A valid 20 %-off forever coupon; any keyword of ``Coupon.create`` may be overridden."""
    fields: dict[str, Any] = {
        "coupon_id": "twenty",
        "percent_off": 20,
        "amount_off": None,
        "currency": None,
        "duration": "forever",
        "duration_in_months": None,
        "effective_at": utc(2026, 1, 1),
        "recorded_at": RECORDED_AT,
    }
    fields.update(overrides)
    return Coupon.create(**fields)


def event_names(events: list[Any]) -> list[str]:
    """The type names of events, in order."""
    return [type(event).__name__ for event in events]


def replay(events: list[Any]) -> Any:
    """An aggregate rebuilt from its events alone, as the store would load it."""
    aggregate = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def state(aggregate: Any) -> dict[str, Any]:
    """An aggregate's attributes, without its pending (unsaved) events."""
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


# ---------------------------------------------------------------------------
# The write side: a controllable clock and the ledger's commands with defaults.
# (These do touch a store: they take the `Ledger` under test.)
# ---------------------------------------------------------------------------

from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from datetime import timedelta  # noqa: E402


class FakeClock:
    """A server clock the test moves by hand: ``build_ledger(settings, clock=FakeClock(t))``."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now

    def set(self, now: datetime) -> datetime:
        self.now = now
        return now


CATALOG_AT = utc(2026, 1, 1)
"""When the catalog and the subscribers of the write-side scenarios come into existence."""


def add_plan(ledger: Any, plan_id: str = "basic", *, at: datetime = CATALOG_AT, **overrides: Any) -> Any:
    """Create a plan through ``ledger`` (monthly, 10.00 USD, no trial unless overridden)."""
    fields: dict[str, Any] = {
        "name": plan_id.capitalize(), "tier": plan_id, "currency": "USD", "amount": 1000,
        "interval": "month", "trial_days": 0,
    }
    fields.update(overrides)
    return ledger.catalog.create_plan(plan_id=plan_id, effective_at=at, **fields)


def add_coupon(ledger: Any, coupon_id: str = "twenty", *, at: datetime = CATALOG_AT, **overrides: Any) -> Any:
    """Create a coupon through ``ledger`` (20 % off, forever, unless overridden)."""
    fields: dict[str, Any] = {"percent_off": 20, "duration": "forever"}
    fields.update(overrides)
    return ledger.catalog.create_coupon(coupon_id=coupon_id, effective_at=at, **fields)


CARD = "tok_visa"
"""The sandbox card whose every charge succeeds."""


def add_subscriber(
    ledger: Any, email: str = "ada@example.com", *, at: datetime = CATALOG_AT,
    token: str | None = None, **overrides: Any,
) -> Any:
    """Register a subscriber through ``ledger``; with a sandbox ``token`` (``CARD`` for a
    card that always pays), also set their payment method at the same instant. The
    subscriber as last saved. Without a payment method every charge fails
    (``no_payment_method``) and dunning cancels the subscription: lifecycle scenarios
    give one."""
    fields: dict[str, Any] = {"name": email.split("@")[0].capitalize()}
    fields.update(overrides)
    subscriber = ledger.subscribers.register(email=email, effective_at=at, **fields)
    if token is not None:
        subscriber = ledger.subscribers.set_payment_method(subscriber.id, gateway="sandbox", token=token,
                                               effective_at=at)
    return subscriber


def log_envelopes(ledger: Any, aggregate_id: UUID | None = None, types: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Every envelope of the log (optionally of one aggregate, or of some types), in order."""
    items: list[dict[str, Any]] = []
    after = 0
    while True:
        page = ledger.event_log.read(after, 500, types)
        items.extend(page.items)
        if page.last_position is None:
            break
        after = page.last_position
    if aggregate_id is not None:
        items = [e for e in items if e["aggregate_id"] == str(aggregate_id)]
    return items


def log_types(ledger: Any, aggregate_id: UUID | None = None) -> list[str]:
    """The type names of the log's events (optionally of one aggregate), in order."""
    return [e["type"] for e in log_envelopes(ledger, aggregate_id)]


@contextmanager
def loads_stale(ledger: Any, aggregate: Any) -> Iterator[None]:
    """Within the block, ``ledger`` loads ``aggregate`` (a copy taken earlier) instead of
    reading the store: as if its load had happened before another writer's save."""
    original = ledger.repository.get

    def get(aggregate_id: UUID, *args: Any, **kwargs: Any) -> Any:
        if aggregate_id == aggregate.id:
            return aggregate
        return original(aggregate_id, *args, **kwargs)

    ledger.repository.get = get
    try:
        yield
    finally:
        del ledger.repository.get


# ---------------------------------------------------------------------------
# The HTTP edge: a catalog, subscribers and subscriptions made through the API.
# (These send requests: they take an `httpx.Client` bound to a live server, the `http`
# fixture. The defaults exist from CATALOG_AT on, so subscriptions may be backdated.)
# ---------------------------------------------------------------------------

import threading  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import TYPE_CHECKING, TypeVar  # noqa: E402

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")

CATALOG_AT_ISO = "2026-01-01T00:00:00Z"
"""CATALOG_AT as the API writes it."""

ENVELOPE_KEYS = frozenset({
    "position", "event_id", "type", "schema_version", "subscriber_id", "aggregate_id",
    "aggregate_version", "recorded_at", "effective_at", "data",
})
"""The keys of an event envelope (CONTRACT.md, Kafka), no more, no fewer."""

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


def run_together(count: int, task: Callable[[int], T]) -> list[T]:
    """Run ``task(0) ... task(count - 1)`` in ``count`` threads released at the same
    instant (a barrier); their results in index order. An exception in a task is raised
    here. Do slow set-up (opening connections) before, as :func:`concurrent_requests` does."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = task(i)
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results


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


class HeldClock:
    """The system clock, except that the call made after :meth:`hold_next` reads the time,
    then waits for :meth:`release` before returning it: a request stamped "now" that
    reaches the store only after another request has been saved.
    ``build_ledger(settings, clock=HeldClock())``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed = False
        self.holding = threading.Event()
        """Set once the held call has read the time and is waiting."""
        self._released = threading.Event()

    def hold_next(self) -> None:
        with self._lock:
            self._armed = True

    def release(self) -> None:
        self._released.set()

    def __call__(self) -> datetime:
        now = datetime.now(UTC)
        with self._lock:
            held, self._armed = self._armed, False
        if held:
            self.holding.set()
            self._released.wait(timeout=60)
        return now


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
