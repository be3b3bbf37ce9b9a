"""FakeRazorpay: the endpoints of Razorpay's API the adapter uses, from Razorpay's docs.

HTTP Basic auth with :data:`KEY_ID` / :data:`KEY_SECRET` (else 401). JSON bodies; amounts in
currency subunits. Entities trimmed to the useful fields; errors are Razorpay's
``{"error": {"code", "description", "source", "step", "reason", "metadata", "field"}}``.

- ``POST /v1/orders``, ``GET /v1/orders?receipt=...`` (newest first), ``GET
  /v1/orders/{id}/payments``;
- ``GET /v1/customers/{id}`` (the saved customers: :attr:`FakeRazorpay.customers`);
- ``POST /v1/payments/create/recurring``: charges a saved token for an order; answers
  ``razorpay_payment_id``/``razorpay_order_id``/``razorpay_signature``. A declined token
  records a ``failed`` payment on the order and answers 400 with its error;
- ``GET /v1/payments/{id}``, ``GET /v1/payments/{id}/refunds``, ``POST
  /v1/payments/{id}/refund``.

Tokens of customer ``cust_Ada0000000001`` (the only customer unless tests add some):
``token_ok`` (captured), ``token_<reason>`` (failed with error reason ``<reason>``, e.g.
``token_insufficient_funds``); any other token: 400 without a payment.
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

from .provider_server import Answer, FakeProvider, Recorded, new_id

KEY_ID = "rzp_test_1DP5mmOlF5G5ag"
KEY_SECRET = "thisissupersecret"
CUSTOMER = "cust_Ada0000000001"


def razorpay_error(status: int, code: str, description: str, *, reason: str = "NA",
                   field: str | None = None, metadata: dict[str, Any] | None = None,
                   source: str = "NA", step: str = "NA") -> Answer:
    return Answer(status, {"error": {"code": code, "description": description, "source": source,
                                     "step": step, "reason": reason, "metadata": metadata or {},
                                     "field": field}})


def _collection(items: list[dict[str, Any]]) -> Answer:
    return Answer(200, {"entity": "collection", "count": len(items), "items": items})


def _bad(description: str, field: str | None = None, reason: str = "input_validation_failed") -> Answer:
    return razorpay_error(400, "BAD_REQUEST_ERROR", description, reason=reason, field=field,
                          source="business", step="payment_initiation")


class FakeRazorpay(FakeProvider):
    name = "razorpay"

    def __init__(self) -> None:
        super().__init__()
        self.customers: dict[str, dict[str, Any]] = {CUSTOMER: {
            "id": CUSTOMER, "entity": "customer", "name": "Ada Lovelace", "email": "ada@example.com",
            "contact": "+919000090000", "gstin": None, "notes": {}, "created_at": 1764835200}}
        self.orders: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}

    def server_error(self, status: int) -> Answer:
        return razorpay_error(status, "SERVER_ERROR", "The server encountered an error. The "
                              "incident has been reported to admins.")

    def captured(self) -> int:
        return sum(p["amount"] for p in self.payments.values() if p["captured"])

    def refunded(self) -> int:
        return sum(r["amount"] for r in self.refunds.values())

    def route(self, request: Recorded) -> Answer:
        expected = base64.b64encode(f"{KEY_ID}:{KEY_SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return razorpay_error(401, "BAD_REQUEST_ERROR", "Authentication failed")
        parts = request.path.strip("/").split("/")
        method = request.method
        if parts[:1] != ["v1"]:
            return _bad("The requested URL was not found on the server.", reason="NA")
        route = (method, *parts[1:])
        if route == ("POST", "orders"):
            return self._create_order(request.json() or {})
        if route == ("GET", "orders"):
            receipt = request.query.get("receipt")
            items = [o for o in self.orders.values() if receipt is None or o["receipt"] == receipt]
            return _collection(sorted(items, key=lambda o: -o["created_at"]))
        if method == "GET" and parts[1:2] == ["orders"] and parts[3:] == ["payments"]:
            return _collection([p for p in self.payments.values() if p["order_id"] == parts[2]])
        if method == "GET" and parts[1:2] == ["customers"] and len(parts) == 3:
            customer = self.customers.get(parts[2])
            return Answer(200, customer) if customer else _bad("The id provided does not exist", "id")
        if route == ("POST", "payments", "create", "recurring"):
            return self._recurring(request.json() or {})
        if parts[1:2] == ["payments"] and len(parts) >= 3:
            return self._payment_route(method, parts[2], parts[3:], request)
        return _bad("The requested URL was not found on the server.", reason="NA")

    def _payment_route(self, method: str, payment_id: str, rest: list[str], request: Recorded) -> Answer:
        payment = self.payments.get(payment_id)
        if payment is None:
            return _bad("The id provided does not exist", "id")
        if method == "GET" and not rest:
            return Answer(200, payment)
        if method == "GET" and rest == ["refunds"]:
            return _collection([r for r in self.refunds.values() if r["payment_id"] == payment_id])
        if method == "POST" and rest == ["refund"]:
            return self._refund(payment, request.json() or {})
        return _bad("The requested URL was not found on the server.", reason="NA")

    def _create_order(self, body: dict[str, Any]) -> Answer:
        amount = body.get("amount")
        if not isinstance(amount, int) or amount < 100:
            return _bad("The amount must be atleast INR 1.00", "amount")
        if not isinstance(body.get("currency"), str) or len(body["currency"]) != 3:
            return _bad("The currency field is required.", "currency")
        if len(body.get("receipt") or "") > 40:
            return _bad("The receipt may not be greater than 40 characters.", "receipt")
        order = {"id": new_id("order_", 14), "entity": "order", "amount": amount, "amount_paid": 0,
                 "amount_due": amount, "currency": body["currency"], "receipt": body.get("receipt"),
                 "offer_id": None, "status": "created", "attempts": 0,
                 "notes": body.get("notes") or {}, "created_at": time.time_ns()}
        self.orders[order["id"]] = order
        return Answer(200, order)

    def _recurring(self, body: dict[str, Any]) -> Answer:
        order = self.orders.get(body.get("order_id") or "")
        if order is None:
            return _bad("The id provided does not exist", "order_id")
        customer = self.customers.get(body.get("customer_id") or "")
        if customer is None or body.get("email") != customer["email"] or body.get("contact") != customer["contact"]:
            return _bad("The customer_id, email or contact is invalid.", "customer_id")
        if body.get("amount") != order["amount"] or body.get("currency") != order["currency"]:
            return _bad("The amount must match the order amount.", "amount")
        if order["status"] == "paid":
            return _bad("Order has already been paid.", "order_id", "order_already_paid")
        token = body.get("token") or ""
        if not token.startswith("token_") or str(body.get("recurring")) not in ("1", "true", "True"):
            return _bad("The token id provided does not exist", "token")
        reason = token.removeprefix("token_")
        order["attempts"] += 1
        payment = {"id": new_id("pay_", 14), "entity": "payment", "amount": order["amount"],
                   "currency": order["currency"], "status": "captured", "order_id": order["id"],
                   "method": "card", "amount_refunded": 0, "refund_status": None, "captured": True,
                   "description": body.get("description"), "email": customer["email"],
                   "contact": customer["contact"], "customer_id": customer["id"], "token_id": token,
                   "notes": body.get("notes") or {}, "error_code": None, "error_description": None,
                   "error_source": None, "error_step": None, "error_reason": None,
                   "created_at": int(time.time())}
        self.payments[payment["id"]] = payment
        if reason != "ok":
            payment.update(status="failed", captured=False, error_code="BAD_REQUEST_ERROR",
                           error_description="Payment failed", error_source="bank",
                           error_step="payment_authorization", error_reason=reason)
            order["status"] = "attempted"
            return razorpay_error(400, "BAD_REQUEST_ERROR", "Payment failed", reason=reason,
                                  source="bank", step="payment_authorization",
                                  metadata={"payment_id": payment["id"], "order_id": order["id"]})
        order.update(status="paid", amount_paid=order["amount"], amount_due=0)
        signature = hashlib.sha256(f"{order['id']}|{payment['id']}".encode()).hexdigest()
        return Answer(200, {"razorpay_payment_id": payment["id"], "razorpay_order_id": order["id"],
                            "razorpay_signature": signature})

    def _refund(self, payment: dict[str, Any], body: dict[str, Any]) -> Answer:
        if payment["status"] not in ("captured", "refunded"):
            return _bad("The payment has not been captured", "payment_id")
        left = payment["amount"] - payment["amount_refunded"]
        amount = body.get("amount", left)
        if not isinstance(amount, int) or amount < 100:
            return _bad("The amount must be atleast INR 1.00", "amount")
        if left == 0:
            return _bad("The payment has been fully refunded already", "payment_id")
        if amount > left:
            return _bad("The refund amount provided is greater than amount captured", "amount")
        refund = {"id": new_id("rfnd_", 14), "entity": "refund", "amount": amount,
                  "currency": payment["currency"], "payment_id": payment["id"],
                  "notes": body.get("notes") or {}, "receipt": body.get("receipt"),
                  "acquirer_data": {"arn": None}, "created_at": int(time.time()), "batch_id": None,
                  "status": "processed", "speed_processed": "normal",
                  "speed_requested": body.get("speed", "normal")}
        self.refunds[refund["id"]] = refund
        payment["amount_refunded"] += amount
        payment["refund_status"] = "full" if payment["amount_refunded"] == payment["amount"] else "partial"
        if payment["refund_status"] == "full":
            payment["status"] = "refunded"
        return Answer(200, refund)
