"""FakePayPal: the few endpoints of PayPal's REST API the adapter uses, from PayPal's docs.

- ``POST /v1/oauth2/token``: client credentials in HTTP Basic auth, form
  ``grant_type=client_credentials``; answers a bearer token (401 ``invalid_client`` for
  other credentials than :data:`CLIENT_ID` / :data:`CLIENT_SECRET`).
- ``POST /v2/checkout/orders``: an order with ``intent: CAPTURE`` and a vaulted
  ``payment_source`` (``card.vault_id`` or ``paypal.vault_id``) is created and captured in
  one call (201, status ``COMPLETED``, the capture in ``purchase_units[0].payments``).
  ``PayPal-Request-Id`` is required with a payment source; the same id again answers the
  order it created (200) without capturing again, for :data:`REQUEST_ID_RETENTION` seconds
  of the fake's clock (PayPal: "The server stores keys for 6 hours"); after that the request
  is a new one. With :attr:`FakePayPal.block_duplicate_invoice_ids` (the account setting
  "block accidental payments", on by default here), an order whose ``invoice_id`` was already
  captured is refused: 422 ``DUPLICATE_INVOICE_ID``.
- ``GET /v2/payments/captures/{id}`` (with ``supplementary_data.related_ids.order_id``) and
  ``GET /v2/checkout/orders/{id}`` (its captures and the refunds made of them, each with the
  ``invoice_id`` its refund request set).
- ``GET /v1/reporting/transactions``: Transaction Search over the captures
  (``paypal_search.py``).
- ``POST /v2/payments/captures/{id}/refund``: a refund of ``amount`` (default: what is left)
  of a completed capture, under ``PayPal-Request-Id`` too.
- ``POST /v1/notifications/verify-webhook-signature``: the webhooks the fake sends
  (:meth:`FakePayPal.deny`, :meth:`FakePayPal.refund_in_dashboard`, signed by
  ``webhooks.signed``) verified as PayPal does (``paypal_webhooks.py``).

Errors are PayPal's: ``{"name", "message", "debug_id", "details": [{"issue",
"description"}], "links"}`` with 400/401/404/422, and 500 ``INTERNAL_SERVER_ERROR``.

Vault ids (tokens) for tests:

- ``card_ok`` / ``paypal_ok``: the capture completes;
- ``card_pending`` / ``paypal_pending``: the capture is ``PENDING`` (``PENDING_REVIEW``):
  PayPal took it and settles later, or denies it (:meth:`FakePayPal.deny`);
- ``card_<code>``: the capture is ``DECLINED`` with processor response code ``<code>``
  (``card_5120`` insufficient funds, ``card_5400`` expired card, ``card_0500`` do not honor);
- ``paypal_declined``: 422 ``INSTRUMENT_DECLINED``; ``paypal_action``: 422
  ``PAYER_ACTION_REQUIRED``;
- ``card_3ds``: the card wants 3-D Secure: the order is created (201) with status
  ``PAYER_ACTION_REQUIRED``, a ``payer-action`` link and no capture;
- anything else: 404 ``RESOURCE_NOT_FOUND`` / ``INVALID_RESOURCE_ID``.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qsl

from .paypal_errors import ID_ALPHABET as _ID
from .paypal_errors import minor_units as _minor
from .paypal_errors import paypal_error
from .paypal_errors import unprocessable as _unprocessable
from .paypal_search import LISTING_LAG_SECONDS, search_transactions
from .paypal_webhooks import Webhooks, event, refund_resource
from .provider_server import Answer, FakeProvider, Recorded, new_id

CLIENT_ID = "AcmeClientId-sandbox"
CLIENT_SECRET = "EL1tVxAjhT7cJimnz5-Nsx9k2reTKSVfErNQF-CmrwJgxRtylkGTKlU4RvrX"
REQUEST_ID_RETENTION = 6 * 3600
"""How long PayPal keeps a PayPal-Request-Id (seconds), its documented default."""


class FakePayPal(FakeProvider):
    name = "paypal"

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()
        self.orders: dict[str, dict[str, Any]] = {}
        self.captures: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self._by_request_id: dict[tuple[str, str], tuple[Answer, float]] = {}
        self.block_duplicate_invoice_ids = True
        self.listing_lag = LISTING_LAG_SECONDS
        self.transaction_search_permitted = True
        self.webhooks = Webhooks(self)
        """The REST app's "Transaction Search" permission; without it PayPal answers 403."""
        """How long a capture takes to appear in Transaction Search (seconds)."""

    def server_error(self, status: int) -> Answer:
        return paypal_error(status, "INTERNAL_SERVER_ERROR", "An internal server error occurred.",
                            "INTERNAL_SERVICE_ERROR", "An internal service error has occurred.")

    def captured(self) -> int:
        return sum(c["minor"] for c in self.captures.values() if c["status"] != "DECLINED")

    def refunded(self) -> int:
        return sum(r["minor"] for r in self.refunds.values())

    def route(self, request: Recorded) -> Answer:
        if request.method == "POST" and request.path == "/v1/oauth2/token":
            return self._token(request)
        if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.tokens:
            return paypal_error(401, "AUTHENTICATION_FAILURE", "Authentication failed due to "
                                "invalid authentication credentials or a missing Authorization header.")
        if request.method == "GET" and request.path == "/v1/reporting/transactions":
            if not self.transaction_search_permitted:
                return paypal_error(403, "NOT_AUTHORIZED", "Authorization failed due to"
                                    " insufficient permissions.", "PERMISSION_DENIED",
                                    "You do not have permission to access or perform operations"
                                    " on this resource.")
            return Answer(*search_transactions(self.captures, request.query, self.now(),
                                              self.listing_lag))
        if request.method == "POST" and request.path == "/v2/checkout/orders":
            return self._idempotent(request, "orders", self._create_order)
        if request.method == "POST" and request.path == "/v1/notifications/verify-webhook-signature":
            return self.webhooks.verify(request)
        parts = request.path.strip("/").split("/")
        if request.method == "GET" and parts[:3] == ["v2", "payments", "captures"] and len(parts) == 4:
            return self._get_capture(parts[3])
        if request.method == "GET" and parts[:3] == ["v2", "checkout", "orders"] and len(parts) == 4:
            return self._get_order(parts[3])
        if request.method == "POST" and parts[:3] == ["v2", "payments", "captures"] and parts[4:] == ["refund"]:
            return self._idempotent(request, "refunds", lambda r: self._refund(r, parts[3]))
        return paypal_error(404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.")

    def _token(self, request: Recorded) -> Answer:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        form = dict(parse_qsl(request.body.decode()))
        if scheme != "Basic" or credentials != expected:
            return Answer(401, {"error": "invalid_client", "error_description": "Client Authentication failed"})
        if form.get("grant_type") != "client_credentials":
            return Answer(400, {"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"})
        token = "A21AA" + new_id("", 60)
        self.tokens.add(token)
        return Answer(200, {"scope": "https://uri.paypal.com/services/payments/payment",
                            "access_token": token, "token_type": "Bearer",
                            "app_id": "APP-80W284485P519543T", "expires_in": 32400,
                            "nonce": new_id("2026-12-04T09:00:00Z", 30)})

    def _idempotent(self, request: Recorded, kind: str, create: Any) -> Answer:
        request_id = request.headers.get("paypal-request-id")
        if request_id is None:
            return paypal_error(400, "INVALID_REQUEST", "Request is not well-formed, syntactically "
                                "incorrect, or violates schema.", "PAYPAL_REQUEST_ID_REQUIRED",
                                "A PayPal-Request-Id is required if you are trying to process "
                                "payment for an Order.")
        stored = self._by_request_id.get((kind, request_id))
        if stored is not None and self.now() - stored[1] < REQUEST_ID_RETENTION:
            # PayPal answers the resource it made, with 200
            return Answer(200, stored[0].body, stored[0].headers)
        answer = create(request)
        if answer.status in (200, 201):
            self._by_request_id[(kind, request_id)] = (answer, self.now())
        return answer

    def _create_order(self, request: Recorded) -> Answer:
        body = request.json() or {}
        units = body.get("purchase_units") or []
        source = body.get("payment_source") or {}
        kind, vaulted = next(iter(source.items()), (None, {}))
        vault_id = (vaulted or {}).get("vault_id")
        if body.get("intent") != "CAPTURE" or len(units) != 1 or not vault_id:
            return paypal_error(400, "INVALID_REQUEST", "Request is not well-formed, syntactically "
                                "incorrect, or violates schema.", "MISSING_REQUIRED_PARAMETER",
                                "A required field / parameter is missing.")
        amount = units[0].get("amount") or {}
        minor, invalid = _minor(amount)
        if invalid is not None:
            return invalid
        if vault_id == "paypal_declined":
            return _unprocessable("INSTRUMENT_DECLINED", "The instrument presented was either "
                                  "declined by the processor or bank, or it can't be used for this payment.")
        if vault_id == "paypal_action":
            return _unprocessable("PAYER_ACTION_REQUIRED", "Transaction cannot complete "
                                  "successfully, instruct the buyer to return to PayPal.")
        invoice_id = units[0].get("invoice_id")
        if self.block_duplicate_invoice_ids and invoice_id and any(
                c["invoice_id"] == invoice_id and c["status"] != "DECLINED"
                for c in self.captures.values()):
            return _unprocessable("DUPLICATE_INVOICE_ID", "Requested invoice number has been "
                                  "previously captured. Possible duplicate transaction.")
        if vault_id == "card_3ds":
            return self._awaiting_payer(units[0], kind, vault_id)
        if vault_id not in ("card_ok", "paypal_ok", "paypal_pending") \
                and not (kind == "card" and vault_id.startswith("card_")):
            return paypal_error(404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.",
                                "INVALID_RESOURCE_ID", "Specified resource ID does not exist. "
                                "Please check the resource ID and try again.")
        code = "0000" if vault_id.endswith(("_ok", "_pending")) else vault_id.removeprefix("card_")
        capture_id = new_id("", 17, _ID)
        status = "PENDING" if vault_id.endswith("_pending") else "COMPLETED" if code == "0000" \
            else "DECLINED"
        capture = {"id": capture_id, "status": status,
                   "amount": amount, "final_capture": True, "minor": minor,
                   "invoice_id": units[0].get("invoice_id"), "custom_id": units[0].get("custom_id"),
                   "create_time": "2026-12-04T09:00:00Z", "at": self.now()}
        if status == "PENDING":  # PayPal took it and settles it later
            capture["status_details"] = {"reason": "PENDING_REVIEW"}
        if kind == "card":
            capture["processor_response"] = {"avs_code": "Y", "cvv_code": "X", "response_code": code}
        self.captures[capture_id] = capture
        order_id = capture["order_id"] = new_id("", 17, _ID)
        order = {"id": order_id, "intent": "CAPTURE", "status": "COMPLETED",
                 "payment_source": {kind: {"vault_id": vault_id}},
                 "purchase_units": [{**units[0], "payments": {"captures": [
                     _public(capture)]}}],
                 "create_time": "2026-12-04T09:00:00Z",
                 "links": [{"href": f"{self.url}/v2/checkout/orders/{order_id}", "rel": "self",
                            "method": "GET"}]}
        self.orders[order_id] = order
        return Answer(201, order)

    def deny(self, capture_id: str) -> dict[str, Any]:
        """PayPal denies a pending capture (the eCheck bounced, the review failed): the
        ``PAYMENT.CAPTURE.DENIED`` event it sends."""
        capture = self.captures[capture_id]
        capture["status"] = "DECLINED"
        capture.pop("status_details", None)
        return event("PAYMENT.CAPTURE.DENIED", "capture", _public(capture),
                     f"Payment denied for {capture['amount']['value']} {capture['amount']['currency_code']}")

    def refund_in_dashboard(self, capture_id: str, minor: int) -> dict[str, Any]:
        """A refund made in PayPal's dashboard (no invoice id): the
        ``PAYMENT.CAPTURE.REFUNDED`` event PayPal sends."""
        capture = self.captures[capture_id]
        value = f"{minor // 100}.{minor % 100:02d}"
        refund_id = new_id("", 17, _ID)
        self.refunds[refund_id] = refund = {
            "id": refund_id, "capture_id": capture_id, "minor": minor, "status": "COMPLETED",
            "amount": {"currency_code": capture["amount"]["currency_code"], "value": value},
            "invoice_id": None}
        return self.refunded_event(refund)

    def refunded_event(self, refund: dict[str, Any]) -> dict[str, Any]:
        """The ``PAYMENT.CAPTURE.REFUNDED`` event of a refund, however it was made."""
        return event("PAYMENT.CAPTURE.REFUNDED", "refund", refund_resource(self.url, refund),
                     f"A {refund['amount']['value']} {refund['amount']['currency_code']} capture"
                     " payment was refunded")

    def _get_capture(self, capture_id: str) -> Answer:
        capture = self.captures.get(capture_id)
        if capture is None:
            return paypal_error(404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.",
                                "INVALID_RESOURCE_ID", "Specified resource ID does not exist.")
        return Answer(200, {**_public(capture), "supplementary_data": {
            "related_ids": {"order_id": capture["order_id"]}}})

    def _get_order(self, order_id: str) -> Answer:
        """The order as it is now: its capture's status and the refunds made of it."""
        order = self.orders.get(order_id)
        if order is None:
            return paypal_error(404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.",
                                "INVALID_RESOURCE_ID", "Specified resource ID does not exist.")
        captures = [c for c in self.captures.values() if c.get("order_id") == order_id]
        refunds = [{k: v for k, v in r.items() if k not in ("minor", "capture_id")}
                   for r in self.refunds.values() if r["capture_id"] in {c["id"] for c in captures}]
        unit = {**order["purchase_units"][0], "payments": {
            "captures": [_public(c) for c in captures], **({"refunds": refunds} if refunds else {})}}
        return Answer(200, {**order, "purchase_units": [unit]})

    def _awaiting_payer(self, unit: dict[str, Any], kind: str, vault_id: str) -> Answer:
        order_id = new_id("", 17, _ID)
        order = {"id": order_id, "intent": "CAPTURE", "status": "PAYER_ACTION_REQUIRED",
                 "payment_source": {kind: {"vault_id": vault_id}}, "purchase_units": [unit],
                 "create_time": "2026-12-04T09:00:00Z",
                 "links": [{"href": f"{self.url}/v2/checkout/orders/{order_id}", "rel": "self",
                            "method": "GET"},
                           {"href": f"https://www.paypal.com/webapps/helios?action=verify"
                                    f"&flow=3ds&cart_id={order_id}", "rel": "payer-action",
                            "method": "GET"}]}
        self.orders[order_id] = order
        return Answer(201, order)

    def _refund(self, request: Recorded, capture_id: str) -> Answer:
        capture = self.captures.get(capture_id)
        if capture is None:
            return paypal_error(404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.",
                                "INVALID_RESOURCE_ID", "Specified resource ID does not exist.")
        left = capture["minor"] - sum(r["minor"] for r in self.refunds.values()
                                      if r["capture_id"] == capture_id)
        if capture["status"] == "DECLINED":
            return _unprocessable("CAPTURE_STATUS_NOT_VALID", "Invalid capture status. Capture "
                                  "must be in COMPLETED or PARTIALLY_REFUNDED status.")
        if left <= 0:
            return _unprocessable("CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded.")
        amount = (request.json() or {}).get("amount") or {**capture["amount"], "value": None}
        if amount.get("value") is None:
            minor, amount = left, {**capture["amount"]}
        else:
            minor, invalid = _minor(amount)
            if invalid is not None:
                return invalid
        if amount.get("currency_code") != capture["amount"]["currency_code"]:
            return _unprocessable("REFUND_CURRENCY_MISMATCH", "Refund must be in the same currency as the capture.")
        if minor > left:
            return _unprocessable("REFUND_AMOUNT_EXCEEDED", "The refund amount must be less than or "
                                  "equal to the capture amount that has not yet been refunded.")
        refund_id = new_id("", 17, _ID)
        self.refunds[refund_id] = {"id": refund_id, "capture_id": capture_id, "minor": minor,
                                   "status": "COMPLETED", "amount": amount,
                                   "invoice_id": (request.json() or {}).get("invoice_id")}
        capture["status"] = "REFUNDED" if minor == left else "PARTIALLY_REFUNDED"
        return Answer(201, {"id": refund_id, "status": "COMPLETED", "amount": amount,
                            "links": [{"href": f"{self.url}/v2/payments/refunds/{refund_id}",
                                       "rel": "self", "method": "GET"}]})


def _public(capture: dict[str, Any]) -> dict[str, Any]:
    """A capture as PayPal shows it (without the fake's own bookkeeping)."""
    return {k: v for k, v in capture.items() if k not in ("minor", "at", "order_id")}
