"""The ``razorpay`` gateway: a saved card token charged as a Razorpay recurring payment.

Through the official ``razorpay`` SDK: Razorpay charges a saved token in two calls, an order
(``POST /v1/orders``) and a recurring payment for it (``POST /v1/payments/create/recurring``,
which wants the customer's e-mail and phone, read from the Customer). Razorpay has no
idempotency key on these calls, so what guards a retry is the order's ``receipt``, derived
from the ledger's idempotency key (:func:`~.amounts.derived_reference`, at most 40
characters): every charge first looks its order up by receipt, and a retried charge finds
the order and its payments instead of making new ones; a charge that makes an order looks
again and goes on with the oldest one of that receipt, so two processes racing past the
first look-up pay the same order. It pays a found order only if no
payment on it succeeded or failed yet; a payment that is still ``created``/``authorized``
is :class:`GatewayUnavailable` (asked again later, with the same receipt). A refund is
guarded the same way: the refund's ``receipt`` is derived from its key, and the payment's
refunds are looked up first.

Tokens: ``cust_...:token_...`` (a Razorpay Customer and a token saved with it).
Amounts: integer subunits, the ledger's minor units (a three-decimal currency's last
decimal must be 0, as Razorpay wants: else a decline, or a failed refund, ``invalid_amount``,
Razorpay not called).

Answers: a ``captured`` payment (or one refunded after its capture) -> success
(``gateway_ref`` = the payment id); ``failed`` -> a decline, its ``error_reason`` mapped by
:data:`DECLINES`; an authorization Razorpay refunded uncaptured -> a decline
``processing_error`` (no money was taken); a token Razorpay refuses with no
payment made, or whose Customer Razorpay does not know -> ``invalid_token``. The SDK raises ``BadRequestError`` for every 4xx
(authentication included) and ``ServerError``/``GatewayError`` for 5xx: outside the payment
itself, a 4xx is a configuration error (:class:`GatewayUnavailable`, logged at ERROR); a 5xx,
a timeout or a refused connection is :class:`GatewayUnavailable` logged at WARNING.
"""

from __future__ import annotations

import logging
from typing import Any

import razorpay
import requests
from razorpay.errors import BadRequestError, GatewayError, ServerError

from . import ChargeRequest, ChargeResult, GatewayUnavailable, RefundRequest, RefundResult
from . import declines as d
from .amounts import UnrepresentableAmount, derived_reference, to_subunits

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.razorpay.com"
RECEIPT_MAX = 40
DECLINES: dict[str, str] = {
    "insufficient_funds": d.INSUFFICIENT_FUNDS, "insufficient_balance": d.INSUFFICIENT_FUNDS,
    "card_expired": d.EXPIRED_CARD, "expired_card": d.EXPIRED_CARD,
    "incorrect_cvv": d.INCORRECT_CVC, "invalid_cvv": d.INCORRECT_CVC,
    "authentication_failed": d.AUTHENTICATION_REQUIRED, "payment_risk_check_failed": d.FRAUDULENT,
    "bank_technical_error": d.PROCESSING_ERROR, "gateway_technical_error": d.PROCESSING_ERROR,
    "payment_declined": d.CARD_DECLINED, "card_declined": d.CARD_DECLINED,
    "payment_failed": d.CARD_DECLINED, "token_expired": d.INVALID_TOKEN,
    "mandate_not_active": d.INVALID_TOKEN, "invalid_token": d.INVALID_TOKEN,
}
_TRANSIENT = (ServerError, GatewayError, requests.RequestException)
"""5xx, and what the SDK lets through when Razorpay cannot be reached or answers no JSON."""


class RazorpayGateway:
    """The port over Razorpay's Orders, Payments and Refunds APIs; see the module docstring.

    The SDK's own retries stay off: the billing clock is the retry loop."""

    name = "razorpay"

    def __init__(self, key_id: str, key_secret: str, api_base: str = DEFAULT_API_BASE,
                 timeout: float = 30) -> None:
        if not key_id.strip() or not key_secret.strip():
            raise ValueError("the razorpay gateway needs SUBLEDGER_RAZORPAY_KEY_ID and "
                             "SUBLEDGER_RAZORPAY_KEY_SECRET")
        self._client = razorpay.Client(auth=(key_id.strip(), key_secret.strip()),
                                       base_url=api_base.rstrip("/"))
        self._timeout = timeout

    def charge(self, request: ChargeRequest) -> ChargeResult:
        customer_id, sep, token_id = request.token.partition(":")
        if not sep or not customer_id.startswith("cust_") or not token_id:
            return ChargeResult(False, None, d.INVALID_TOKEN)
        try:
            amount = to_subunits(request.amount, request.currency)
        except UnrepresentableAmount as refused:
            logger.info("razorpay charge %s: %s", request.idempotency_key, refused)
            return ChargeResult(False, None, d.INVALID_AMOUNT)
        receipt = derived_reference(request.idempotency_key, RECEIPT_MAX)
        with self._errors("charge", request.idempotency_key):
            order = self._order(request, receipt, amount)
            outcome = self._outcome(order["id"])
            if outcome is not None:
                return outcome
            try:
                customer = self._client.customer.fetch(customer_id, timeout=self._timeout)
            except BadRequestError as refused:
                # The order's look-up just passed with these keys: the customer is unknown.
                logger.info("razorpay charge %s: customer refused: %s", request.idempotency_key,
                            refused)
                return ChargeResult(False, None, d.INVALID_TOKEN)
            try:
                self._client.payment.createRecurring({
                    "email": customer.get("email"), "contact": customer.get("contact"),
                    "amount": amount, "currency": request.currency, "order_id": order["id"],
                    "customer_id": customer_id, "token": token_id, "recurring": "1",
                    "description": request.description[:255],
                    "notes": {"subledger_customer_ref": request.customer_ref[:256]},
                }, timeout=self._timeout)
            except BadRequestError as refused:
                # The SDK keeps only the description: the order's payments say why.
                outcome = self._outcome(order["id"])
                if outcome is not None:
                    return outcome
                logger.info("razorpay charge %s: token refused: %s", request.idempotency_key, refused)
                return ChargeResult(False, None, d.INVALID_TOKEN)
            outcome = self._outcome(order["id"])
        if outcome is None:
            raise GatewayUnavailable(f"razorpay: order {order['id']} has no payment yet")
        return outcome

    def _order(self, request: ChargeRequest, receipt: str, amount: int) -> dict[str, Any]:
        """The order of this charge: the first one made with its receipt, by this try or
        an earlier or concurrent one."""
        found = self._orders(receipt)
        if not found:
            self._client.order.create({
                "amount": amount, "currency": request.currency, "receipt": receipt,
                "payment_capture": True,
                "notes": {k: str(v)[:256] for k, v in list(request.metadata.items())[:14]},
            }, timeout=self._timeout)
            # Another process may have made one too since the look-up: every try settles
            # on the oldest, so that only one order of the attempt is ever paid.
            found = self._orders(receipt)
        if not found:
            raise GatewayUnavailable(f"razorpay: no order with receipt {receipt} after making one")
        return dict(min(found, key=lambda o: (o.get("created_at") or 0, o.get("id") or "")))

    def _orders(self, receipt: str) -> list[dict[str, Any]]:
        return list(self._client.order.all({"receipt": receipt}, timeout=self._timeout)
                    .get("items") or [])

    def _outcome(self, order_id: str) -> ChargeResult | None:
        """The answer the order's payments give: success, a decline, or None (none yet)."""
        payments = self._client.order.payments(order_id, timeout=self._timeout).get("items") or []
        captured = [p for p in payments if p.get("status") == "captured"
                    or (p.get("status") == "refunded" and p.get("captured") is True)]
        if captured:
            return ChargeResult(True, captured[0]["id"])
        pending = [p for p in payments if p.get("status") in ("created", "authorized")]
        if pending:
            raise GatewayUnavailable(f"razorpay: payment {pending[0]['id']} is {pending[0]['status']}")
        # An authorization never captured is refunded by Razorpay itself: no money was taken.
        failed = [p for p in payments if p.get("status") in ("failed", "refunded")]
        if not failed:
            return None
        payment = max(failed, key=lambda p: p.get("created_at") or 0)
        if payment.get("status") == "refunded":
            return ChargeResult(False, payment["id"], d.PROCESSING_ERROR)
        reason = payment.get("error_reason") or payment.get("error_code")
        return ChargeResult(False, payment["id"],
                            d.ledger_code(DECLINES, reason, gateway=self.name, logger=logger))

    def refund(self, request: RefundRequest) -> RefundResult:
        try:
            amount = to_subunits(request.amount, request.currency)
        except UnrepresentableAmount as refused:
            logger.info("razorpay refund %s: %s", request.idempotency_key, refused)
            return RefundResult(False, None, d.INVALID_AMOUNT)
        if amount <= 0:
            return RefundResult(False, None, d.INVALID_AMOUNT)
        receipt = derived_reference(request.idempotency_key, RECEIPT_MAX)
        payment_id = request.charge_gateway_ref
        with self._errors("refund", request.idempotency_key):
            try:
                payment = self._client.payment.fetch(payment_id, timeout=self._timeout)
            except BadRequestError:
                return RefundResult(False, None, "resource_missing")
            made = self._client.payment.fetch_multiple_refund(payment_id, timeout=self._timeout)
            earlier = [r for r in made.get("items") or [] if r.get("receipt") == receipt]
            if earlier:
                return _refund_result(earlier[0])
            left = int(payment.get("amount", 0)) - int(payment.get("amount_refunded", 0))
            if payment.get("status") not in ("captured", "refunded"):
                return RefundResult(False, None, "payment_not_captured")
            if left <= 0 or amount > left:
                return RefundResult(False, None,
                                    "charge_already_refunded" if left <= 0 else "amount_too_large")
            try:
                refund = self._client.payment.refund(payment_id, {
                    "amount": amount, "speed": "normal", "receipt": receipt,
                    "notes": {"subledger_reason": (request.reason or "")[:256]},
                }, timeout=self._timeout)
            except BadRequestError as refused:
                logger.info("razorpay refund %s refused: %s", request.idempotency_key, refused)
                return RefundResult(False, None, "refund_refused")
        return _refund_result(refund)

    def _errors(self, operation: str, key: str) -> _Errors:
        return _Errors(operation, key)


def _refund_result(refund: dict[str, Any]) -> RefundResult:
    if refund.get("status") in ("processed", "pending"):
        return RefundResult(True, refund.get("id"))
    return RefundResult(False, refund.get("id"), refund.get("status") or "failed")


class _Errors:
    """Turns what the SDK raises into :class:`GatewayUnavailable`, logged as it deserves."""

    def __init__(self, operation: str, key: str) -> None:
        self.operation, self.key = operation, key

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, _tb: Any) -> bool:
        if err is None or isinstance(err, GatewayUnavailable):
            return False
        if isinstance(err, _TRANSIENT):
            logger.warning("razorpay %s %s: unavailable: %s: %s", self.operation, self.key,
                           type(err).__name__, err)
        elif isinstance(err, BadRequestError):
            logger.error("razorpay %s %s: refused, check the configuration: %s", self.operation,
                         self.key, err)
        else:
            return False
        raise GatewayUnavailable(f"razorpay {self.operation}: {type(err).__name__}: {err}") from err
