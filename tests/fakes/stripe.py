"""FakeStripe: a local HTTP server speaking the few endpoints of Stripe's API the adapter uses.

A real server (``http.server.ThreadingHTTPServer`` on 127.0.0.1, a free port, in a thread),
so the official SDK, its HTTP client, its encoding and its error mapping are all exercised::

    with FakeStripe() as fake:
        gateway = StripeGateway("sk_test_x", api_base=fake.url, timeout=2)
        ...
        assert fake.requests[-1].params["currency"] == "eur"

Endpoints: ``POST /v1/payment_intents`` (``stripe_intents.py``), ``GET
/v1/payment_intents/{id}``, ``POST /v1/refunds`` (``stripe_refunds.py``), and the look-ups
of ``stripe_lookups.py`` (``GET /v1/payment_intents/search``, ``GET /v1/payment_intents``,
``GET /v1/refunds``); ``search_available = False`` plays an account without Search. Requests
are form-encoded as Stripe's (``metadata[key]=value``) and need ``Authorization: Bearer sk_test_...`` (else 401, as Stripe answers a bad key).
Objects and error bodies follow Stripe's API reference (trimmed to the useful fields).

Test payment methods, as Stripe's:

- ``pm_card_visa``: the PaymentIntent succeeds;
- ``pm_card_chargeDeclined``: 402 ``card_error``, code ``card_declined``, decline code
  ``generic_decline``;
- ``pm_card_chargeDeclinedInsufficientFunds``: the same with decline code
  ``insufficient_funds``;
- ``pm_card_authenticationRequired``: 200, PaymentIntent ``requires_action`` (Stripe itself
  answers an *off-session* confirmation of that card with a 402 ``authentication_required``;
  use :meth:`FakeStripe.fail_next` with :func:`card_error` to play that);
- ``pm_fake_processing`` (not Stripe's): PaymentIntent ``processing``; move it on with
  :meth:`FakeStripe.set_payment_intent_status`;
- any other id: 400 ``resource_missing`` on ``payment_method``, as Stripe for an unknown one.

Idempotency as Stripe's: a request carrying ``Idempotency-Key`` that the API executed (a 2xx
or a 402) is stored; the same key with the same method, path and parameters replays the
stored answer with ``Idempotent-Replayed: true``; with anything else, 400
``idempotency_error``. Validation errors (other 4xx) and injected failures are not stored.
As Stripe documents, a key is forgotten once it is 24 hours old (:data:`KEY_RETENTION_SECONDS`
of the fake's own clock, which :meth:`FakeStripe.advance` moves on): the same request under
it is then executed again, as a new one.

Refunds: ``payment_intent`` (or ``charge``) of a succeeded PaymentIntent; ``amount`` at most
what is left after earlier refunds, else 400 ``invalid_request_error`` with code
``amount_too_large`` on param ``amount`` (``charge_already_refunded`` when nothing is left).

Every request is recorded in :attr:`FakeStripe.requests`; :meth:`fail_next` answers the
next requests with an error instead of executing them, and :meth:`hang_next` executes the
next requests but holds their answers back (a timeout on the client's side, after Stripe
did the work). The server's plumbing is in ``stripe_http.py``, Stripe's error bodies in
``stripe_errors.py``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from http.server import ThreadingHTTPServer
from typing import Any

from .stripe_errors import TEST_KEY_PREFIX, card_error, check_auth, error_body
from .stripe_http import Answer as _Answer
from .stripe_http import Fault as _Fault
from .stripe_http import Handler as _Handler
from .stripe_http import RecordedRequest
from .stripe_intents import create_payment_intent
from .stripe_lookups import (
    list_payment_intents,
    list_refunds,
    search_payment_intents,
    search_unavailable,
)
from .stripe_refunds import create_refund

__all__ = ["KEY_RETENTION_SECONDS", "TEST_KEY_PREFIX", "FakeStripe", "RecordedRequest",
           "card_error", "error_body"]

KEY_RETENTION_SECONDS = 24 * 3600


class FakeStripe:
    """See the module's docstring. A context manager; ``url`` is the API base."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self._refunded: dict[str, int] = {}
        self._idempotency: dict[
            str, tuple[tuple[str, str, tuple[tuple[str, str], ...]], _Answer, float]
        ] = {}
        self._clock_offset = 0.0
        self.search_available = True
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- life cycle -------------------------------------------------------------------

    def start(self) -> FakeStripe:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-stripe",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases the answers held back by hang_next
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- test controls ----------------------------------------------------------------

    def fail_next(
        self, n: int = 1, *, status: int = 500, body: dict[str, Any] | None = None
    ) -> None:
        """Answer the next ``n`` requests with ``status`` (and ``body``, default an
        ``api_error``) without executing them."""
        with self._lock:
            self._faults.extend(_Fault("fail", status=status, body=body) for _ in range(n))

    def hang_next(self, n: int = 1, *, seconds: float = 10.0, path: str | None = None) -> None:
        """Execute the next ``n`` requests (POSTs to ``path``, if given) but send each answer only
        after ``seconds`` (or when the server stops)."""
        with self._lock:
            self._faults.extend(_Fault("hang", seconds=seconds, path=path) for _ in range(n))

    def set_payment_intent_status(self, intent_id: str, status: str, *,
                                  last_payment_error: dict[str, Any] | None = None) -> None:
        """Move a PaymentIntent on, as Stripe does when a payment settles: to ``succeeded``,
        or back to ``requires_payment_method`` with the failed attempt's
        ``last_payment_error`` (its ``code`` and ``decline_code``), or to ``canceled``."""
        with self._lock:
            intent = self.payment_intents[intent_id]
            intent["status"] = status
            if status == "succeeded":
                intent["amount_received"] = intent["amount"]
            if last_payment_error is not None:
                intent["last_payment_error"] = {"type": "card_error", **last_payment_error}

    def add_payment_intents(self, count: int, *, customer: str | None = None) -> None:
        """``count`` succeeded PaymentIntents made now by someone else (another subscriber,
        another system on the account), created without going through HTTP."""
        params = {"amount": "500", "currency": "eur", "payment_method": "pm_card_visa",
                  "confirm": "true", **({"customer": customer} if customer else {})}
        with self._lock:
            for _ in range(count):
                create_payment_intent(self.payment_intents, params, self.now())

    def now(self) -> float:
        """The fake's own clock (epoch seconds): the real one, moved on by :meth:`advance`."""
        return time.time() + self._clock_offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock on (idempotency keys age, objects become searchable)."""
        with self._lock:
            self._clock_offset += seconds

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    # -- dispatch (called by the handler's threads) -----------------------------------

    def _handle(
        self, method: str, path: str, headers: Mapping[str, str], params: dict[str, str]
    ) -> tuple[_Answer, float]:
        """The answer to one request, and how long to hold it back."""
        recorded = RecordedRequest(method, path, dict(headers), dict(params))
        with self._lock:
            self.requests.append(recorded)
            fault = next((f for f in self._faults
                          if f.path is None or (method, f.path) == ("POST", path)), None)
            if fault is not None:
                self._faults.remove(fault)
            if fault is not None and fault.kind == "fail":
                body = fault.body or error_body(
                    "api_error", "An unknown error occurred (injected by FakeStripe)."
                )
                return _Answer(fault.status, body), 0.0
            delay = fault.seconds if fault is not None else 0.0

            unauthorized = check_auth(headers.get("authorization"))
            if unauthorized is not None:
                return unauthorized, delay

            key = headers.get("idempotency-key") if method == "POST" else None
            fingerprint = (method, path, tuple(sorted(params.items())))
            if key is not None and key in self._idempotency:
                if self.now() - self._idempotency[key][2] >= KEY_RETENTION_SECONDS:
                    del self._idempotency[key]  # pruned: the request is a new one
            if key is not None and key in self._idempotency:
                stored_fingerprint, stored, _ = self._idempotency[key]
                if stored_fingerprint != fingerprint:
                    return _Answer(
                        400,
                        error_body(
                            "idempotency_error",
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with. Try using a key other than "
                            f"'{key}' if you meant to execute a different request.",
                        ),
                    ), delay
                replay = _Answer(
                    stored.status, stored.body, {**stored.headers, "Idempotent-Replayed": "true"}
                )
                return replay, delay

            answer = self._route(method, path, params)
            if key is not None:
                answer.headers["Idempotency-Key"] = key
                if 200 <= answer.status < 300 or answer.status == 402:
                    self._idempotency[key] = (fingerprint, answer, self.now())
            return answer, delay

    def _route(self, method: str, path: str, params: dict[str, str]) -> _Answer:
        if method == "POST" and path == "/v1/payment_intents":
            return create_payment_intent(self.payment_intents, params, self.now())
        if method == "GET" and path == "/v1/payment_intents/search":
            if not self.search_available:
                return _Answer(*search_unavailable())
            return _Answer(*search_payment_intents(self.payment_intents, params, self.now()))
        if method == "GET" and path == "/v1/payment_intents":
            return _Answer(*list_payment_intents(self.payment_intents, params))
        if method == "GET" and path == "/v1/refunds":
            return _Answer(*list_refunds(self.refunds, params))
        if method == "GET" and path.startswith("/v1/payment_intents/"):
            intent_id = path.removeprefix("/v1/payment_intents/")
            intent = self.payment_intents.get(intent_id)
            if intent is None:
                return _Answer(
                    404,
                    error_body(
                        "invalid_request_error",
                        f"No such payment_intent: '{intent_id}'",
                        code="resource_missing",
                        param="intent",
                    ),
                )
            return _Answer(200, json.loads(json.dumps(intent)))
        if method == "POST" and path == "/v1/refunds":
            return create_refund(
                self.payment_intents, self.refunds, self._refunded, params, self.now()
            )
        return _Answer(
            404,
            error_body(
                "invalid_request_error",
                f"Unrecognized request URL ({method}: {path}).",
            ),
        )
