"""FakeStripe: a local HTTP server speaking the few endpoints of Stripe's API the adapter uses.

A real server (``http.server.ThreadingHTTPServer`` on 127.0.0.1, a free port, in a thread),
so the official SDK, its HTTP client, its encoding and its error mapping are all exercised::

    with FakeStripe() as fake:
        gateway = StripeGateway("sk_test_x", api_base=fake.url, timeout=2)
        ...
        assert fake.requests[-1].params["currency"] == "eur"

Endpoints: ``POST /v1/payment_intents``, ``GET /v1/payment_intents/{id}``,
``POST /v1/refunds``, and the look-ups of ``stripe_lookups.py`` (``GET
/v1/payment_intents/search``, ``GET /v1/refunds``). Requests are form-encoded as Stripe's (``metadata[key]=value``) and
need ``Authorization: Bearer sk_test_...`` (else 401, as Stripe answers a bad key).
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
did the work).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from .stripe_lookups import list_refunds, search_payment_intents

TEST_KEY_PREFIX = "sk_test_"
KEY_RETENTION_SECONDS = 24 * 3600

_DECLINES: dict[str, tuple[str, str, str]] = {
    # payment method -> (code, decline_code, message)
    "pm_card_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
}
_REFUND_REASONS = {"duplicate", "fraudulent", "requested_by_customer"}


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def error_body(
    type_: str,
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    decline_code: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Stripe's error object: ``{"error": {"type", "message", "code"?, "param"?, ...}}``."""
    error: dict[str, Any] = {"type": type_, "message": message}
    if code is not None:
        error["code"] = code
        error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if decline_code is not None:
        error["decline_code"] = decline_code
    if param is not None:
        error["param"] = param
    error.update(extra)
    return {"error": error}


def card_error(
    code: str, decline_code: str | None = None, message: str = "Your card was declined."
) -> dict[str, Any]:
    """A 402 body, for :meth:`FakeStripe.fail_next` (``status=402``)."""
    return error_body("card_error", message, code=code, decline_code=decline_code or code)


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    """Header names lower-cased."""
    params: dict[str, str]
    """The form fields as sent, nested ones flat: ``{"metadata[attempt]": "1", ...}``."""

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")

    def nested(self, name: str) -> dict[str, str]:
        """The sub-fields of ``name``: ``nested("metadata")`` -> ``{"attempt": "1", ...}``."""
        prefix = name + "["
        return {
            key[len(prefix) : -1]: value
            for key, value in self.params.items()
            if key.startswith(prefix) and key.endswith("]")
        }


@dataclass
class _Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Fault:
    kind: str  # "fail" or "hang"
    status: int = 500
    body: dict[str, Any] | None = None
    seconds: float = 0.0
    path: str | None = None
    """Only a POST to this path meets the fault (None: any request)."""


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

            unauthorized = self._check_auth(headers.get("authorization"))
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

    @staticmethod
    def _check_auth(authorization: str | None) -> _Answer | None:
        if not authorization:
            return _Answer(
                401,
                error_body(
                    "invalid_request_error",
                    "You did not provide an API key. You need to provide your API key in the "
                    "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                    "YOUR_SECRET_KEY').",
                ),
            )
        scheme, _, key = authorization.partition(" ")
        if (
            scheme != "Bearer"
            or not key.startswith(TEST_KEY_PREFIX)
            or len(key) <= len(TEST_KEY_PREFIX)
        ):
            # Stripe's 401 carries type invalid_request_error; the SDK maps 401 to
            # AuthenticationError.
            masked = key[:8] + "*" * max(len(key) - 12, 0) + key[-4:] if len(key) > 12 else "****"
            return _Answer(
                401, error_body("invalid_request_error", f"Invalid API Key provided: {masked}")
            )
        return None

    def _route(self, method: str, path: str, params: dict[str, str]) -> _Answer:
        if method == "POST" and path == "/v1/payment_intents":
            return self._create_payment_intent(params)
        if method == "GET" and path == "/v1/payment_intents/search":
            return _Answer(*search_payment_intents(self.payment_intents, params, self.now()))
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
            return self._create_refund(params)
        return _Answer(
            404,
            error_body(
                "invalid_request_error",
                f"Unrecognized request URL ({method}: {path}).",
            ),
        )

    # -- payment intents --------------------------------------------------------------

    def _create_payment_intent(self, params: dict[str, str]) -> _Answer:
        invalid = _require_positive_int(params, "amount") or _require(params, "currency")
        if invalid is not None:
            return invalid
        payment_method = params.get("payment_method")
        confirm = params.get("confirm") == "true"
        metadata = {
            key[len("metadata[") : -1]: value
            for key, value in params.items()
            if key.startswith("metadata[") and key.endswith("]")
        }
        if payment_method is not None and not (
            payment_method in _DECLINES
            or payment_method
            in ("pm_card_visa", "pm_card_authenticationRequired", "pm_fake_processing")
        ):
            return _Answer(
                400,
                error_body(
                    "invalid_request_error",
                    f"No such PaymentMethod: '{payment_method}'",
                    code="resource_missing",
                    param="payment_method",
                ),
            )
        intent_id = _new_id("pi")
        amount = int(params["amount"])
        intent: dict[str, Any] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": 0,
            "automatic_payment_methods": (
                {
                    "enabled": params.get("automatic_payment_methods[enabled]") == "true",
                    "allow_redirects": params.get(
                        "automatic_payment_methods[allow_redirects]", "always"
                    ),
                }
                if "automatic_payment_methods[enabled]" in params
                else None
            ),
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
            "confirmation_method": "automatic",
            "created": int(self.now()),
            "currency": params["currency"].lower(),
            "customer": params.get("customer"),
            "description": params.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": metadata,
            "next_action": None,
            "payment_method": payment_method,
            "payment_method_types": ["card"],
            "status": "requires_payment_method"
            if payment_method is None
            else "requires_confirmation",
        }
        self.payment_intents[intent_id] = intent
        if not confirm or payment_method is None:
            return _Answer(200, json.loads(json.dumps(intent)))

        if payment_method in _DECLINES:
            code, decline_code, message = _DECLINES[payment_method]
            charge_id = _new_id("ch")
            error = error_body(
                "card_error",
                message,
                code=code,
                decline_code=decline_code,
                charge=charge_id,
                payment_method={"id": payment_method, "object": "payment_method", "type": "card"},
                request_log_url=f"https://dashboard.stripe.com/test/logs/{_new_id('req')}",
            )["error"]
            intent["status"] = "requires_payment_method"
            intent["latest_charge"] = charge_id
            intent["last_payment_error"] = {
                k: v for k, v in error.items() if k != "request_log_url"
            }
            error["payment_intent"] = json.loads(json.dumps(intent))
            return _Answer(402, {"error": error})

        if payment_method == "pm_card_authenticationRequired":
            intent["status"] = "requires_action"
            intent["next_action"] = {
                "type": "use_stripe_sdk",
                "use_stripe_sdk": {"type": "three_d_secure_redirect"},
            }
        elif payment_method == "pm_fake_processing":
            intent["status"] = "processing"
            intent["latest_charge"] = _new_id("ch")
        else:
            intent["status"] = "succeeded"
            intent["amount_received"] = amount
            intent["latest_charge"] = _new_id("ch")
        return _Answer(200, json.loads(json.dumps(intent)))

    # -- refunds ----------------------------------------------------------------------

    def _create_refund(self, params: dict[str, str]) -> _Answer:
        intent_id = params.get("payment_intent")
        charge_id = params.get("charge")
        if intent_id is None and charge_id is None:
            return _Answer(
                400,
                error_body(
                    "invalid_request_error",
                    "One of the following params should be provided for this request: "
                    "payment_intent or charge.",
                    code="parameter_missing",
                ),
            )
        if intent_id is None:
            intent_id = next(
                (i["id"] for i in self.payment_intents.values() if i["latest_charge"] == charge_id),
                None,
            )
            param, missing = "charge", charge_id
        else:
            param, missing = "payment_intent", intent_id
        intent = self.payment_intents.get(intent_id) if intent_id else None
        if intent is None:
            return _Answer(
                400,
                error_body(
                    "invalid_request_error",
                    f"No such {param}: '{missing}'",
                    code="resource_missing",
                    param=param,
                ),
            )
        if intent["status"] != "succeeded":
            return _Answer(
                400,
                error_body(
                    "invalid_request_error",
                    "This PaymentIntent does not have a successful charge to refund.",
                    code="payment_intent_unexpected_state",
                    param="payment_intent",
                ),
            )
        reason = params.get("reason")
        if reason is not None and reason not in _REFUND_REASONS:
            return _Answer(
                400,
                error_body(
                    "invalid_request_error",
                    f"Invalid reason: must be one of {', '.join(sorted(_REFUND_REASONS))}",
                    code="parameter_invalid_string",
                    param="reason",
                ),
            )
        left = intent["amount_received"] - self._refunded.get(intent["id"], 0)
        if left <= 0:
            return _Answer(
                400,
                error_body(
                    "invalid_request_error",
                    f"Charge {intent['latest_charge']} has already been refunded.",
                    code="charge_already_refunded",
                ),
            )
        if "amount" in params:
            invalid = _require_positive_int(params, "amount")
            if invalid is not None:
                return invalid
            amount = int(params["amount"])
        else:
            amount = left
        if amount > left:
            return _Answer(
                400,
                error_body(
                    "invalid_request_error",
                    f"Refund amount ({_money(amount)}) is greater than unrefunded amount on "
                    f"charge ({_money(left)})",
                    code="amount_too_large",
                    param="amount",
                ),
            )
        self._refunded[intent["id"]] = self._refunded.get(intent["id"], 0) + amount
        refund_id = _new_id("re")
        refund = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "balance_transaction": _new_id("txn"),
            "charge": intent["latest_charge"],
            "created": int(self.now()),
            "currency": intent["currency"],
            "destination_details": {"card": {"type": "refund"}, "type": "card"},
            "metadata": {
                key[len("metadata[") : -1]: value
                for key, value in params.items()
                if key.startswith("metadata[") and key.endswith("]")
            },
            "payment_intent": intent["id"],
            "reason": reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
        self.refunds[refund_id] = refund
        return _Answer(200, json.loads(json.dumps(refund)))


def _money(minor: int) -> str:
    return f"${minor / 100:.2f}"


def _require(params: dict[str, str], name: str) -> _Answer | None:
    if params.get(name):
        return None
    return _Answer(
        400,
        error_body(
            "invalid_request_error",
            f"Missing required param: {name}.",
            code="parameter_missing",
            param=name,
        ),
    )


def _require_positive_int(params: dict[str, str], name: str) -> _Answer | None:
    missing = _require(params, name)
    if missing is not None:
        return missing
    value = params[name]
    if not value.isdigit() or int(value) <= 0:
        return _Answer(
            400,
            error_body(
                "invalid_request_error",
                f"Invalid positive integer: {name}",
                code="parameter_invalid_integer",
                param=name,
            ),
        )
    return None


class _Handler(BaseHTTPRequestHandler):
    owner: FakeStripe
    server_version = "FakeStripe/1.0"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8") if length else ""
        path, _, query = self.path.partition("?")
        params = dict(parse_qsl(raw or query, keep_blank_values=True))
        headers = {name.lower(): value for name, value in self.headers.items()}
        answer, delay = self.owner._handle(self.command, path, headers, params)
        if delay > 0:
            self.owner._stopping.wait(delay)
        payload = json.dumps(answer.body).encode("utf-8")
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Request-Id", _new_id("req"))
            self.send_header("Stripe-Version", headers.get("stripe-version", "2025-01-01"))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout under test)
