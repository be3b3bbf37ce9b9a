"""The ``paypal`` gateway: a vaulted card or PayPal wallet charged through the Orders v2 API.

A charge is one call, with the official ``paypal-server-sdk``: an order with ``intent:
CAPTURE`` and the saved payment method as its ``payment_source`` (``card.vault_id`` with a
merchant-initiated stored credential, or ``paypal.vault_id``), which PayPal creates and
captures at once. ``PayPal-Request-Id`` is the ledger's idempotency key: a retried call
answers the order the first one created, so PayPal never captures twice. PayPal keeps that
id for 6 hours: a retry whose earlier sending may be older looks its capture up by the
order's ``invoice_id`` (the key too) first (``paypal_lookup.py``); a refund, whose
``invoice_id`` is its key, is looked up among the order's refunds every time. A refund refunds
the capture, under the refund's key as ``PayPal-Request-Id``.

Tokens (``PUT /subscribers/{id}/payment-method {"gateway": "paypal", ...}``): a vault id of
a saved card (``<vault_id>`` or ``card:<vault_id>``), or ``paypal:<vault_id>`` for a saved
PayPal wallet. Amounts are decimal strings with the currency's decimals (none for JPY, HUF
and TWD, as PayPal wants; an amount with cents of TWD is a decline ``invalid_amount``).

How PayPal's answers map onto the port:

- capture ``COMPLETED`` (or ``PENDING``: PayPal took it and settles later) -> success,
  ``gateway_ref`` = the capture id (what a refund needs); a ``PENDING`` capture PayPal
  denies afterwards is reversed when its ``PAYMENT.CAPTURE.DENIED`` webhook arrives
  (``paypal_events.py``);
- an order created with status ``PAYER_ACTION_REQUIRED`` and no capture (3-D Secure wanted;
  nobody is there to do it) -> decline ``authentication_required``;
- capture ``DECLINED`` / ``FAILED`` -> a decline; the card's processor response code
  (``5120``, ``5400``, ...) or the 422 error detail (``INSTRUMENT_DECLINED``,
  ``PAYER_ACTION_REQUIRED``, ...) is mapped to the ledger's code by :data:`DECLINES`;
- 404 ``INVALID_RESOURCE_ID`` on a charge (the vault id is unknown) -> decline
  ``invalid_token``;
- 422 ``DUPLICATE_INVOICE_ID`` on a charge -> :class:`GatewayUnavailable`, logged at ERROR
  for an operator: an earlier sending of the attempt was captured and PayPal no longer knows
  its ``PayPal-Request-Id`` (kept 6 hours) while the look-up did not find the capture;
- 5xx, 429, 409, timeouts and connection errors -> :class:`GatewayUnavailable` (WARNING);
  401/403, a refused OAuth token and other 4xx -> :class:`GatewayUnavailable` logged at ERROR
  (a configuration error: nothing is recorded, the operator must act).
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from apimatic_core.exceptions.auth_validation_exception import AuthValidationException
from paypalserversdk.configuration import Configuration
from paypalserversdk.exceptions.api_exception import ApiException
from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials
from paypalserversdk.models.amount_with_breakdown import AmountWithBreakdown
from paypalserversdk.models.card_request import CardRequest
from paypalserversdk.models.card_stored_credential import CardStoredCredential
from paypalserversdk.models.money import Money
from paypalserversdk.models.order_request import OrderRequest
from paypalserversdk.models.payment_source import PaymentSource
from paypalserversdk.models.paypal_wallet import PaypalWallet
from paypalserversdk.models.purchase_unit_request import PurchaseUnitRequest
from paypalserversdk.models.refund_request import RefundRequest as PayPalRefundRequest
from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient

from . import ChargeRequest, ChargeResult, GatewayUnavailable, RefundRequest, RefundResult
from . import declines as d
from .amounts import UnrepresentableAmount, to_decimal_string
from .paypal_lookup import capture_owner, earlier_capture, earlier_refund

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api-m.paypal.com"
NO_DECIMALS = frozenset({"HUF", "JPY", "TWD"})
"""Currencies PayPal takes in whole units only."""

DECLINES: dict[str, str] = {
    # Processor response codes of a declined card capture.
    "0500": d.CARD_DECLINED, "5100": d.CARD_DECLINED, "9100": d.PROCESSING_ERROR,
    "5120": d.INSUFFICIENT_FUNDS, "5400": d.EXPIRED_CARD, "5110": d.INCORRECT_CVC,
    "5650": d.AUTHENTICATION_REQUIRED, "9500": d.FRAUDULENT, "1330": d.INVALID_TOKEN,
    "5180": d.INVALID_TOKEN,
    # Error details of a 422 on the order.
    "INSTRUMENT_DECLINED": d.CARD_DECLINED, "TRANSACTION_REFUSED": d.CARD_DECLINED,
    "PAYER_ACTION_REQUIRED": d.AUTHENTICATION_REQUIRED, "CARD_EXPIRED": d.EXPIRED_CARD,
    "PAYER_CANNOT_PAY": d.CARD_DECLINED, "COMPLIANCE_VIOLATION": d.FRAUDULENT,
    "INVALID_RESOURCE_ID": d.INVALID_TOKEN, "CURRENCY_NOT_SUPPORTED": d.CURRENCY_NOT_SUPPORTED,
    "DECIMAL_PRECISION": d.INVALID_AMOUNT, "AMOUNT_NOT_SUPPORTED": d.INVALID_AMOUNT,
}
_DECLINED_CAPTURE = frozenset({"DECLINED", "FAILED"})
_REFUND_REFUSALS = frozenset({
    "REFUND_AMOUNT_EXCEEDED", "CAPTURE_FULLY_REFUNDED", "REFUND_NOT_ALLOWED",
    "REFUND_TIME_LIMIT_EXCEEDED", "CAPTURE_STATUS_NOT_VALID", "REFUND_CURRENCY_MISMATCH",
    "INVALID_RESOURCE_ID", "TRANSACTION_DISPUTED", "PARTIAL_REFUND_NOT_ALLOWED",
    "DECIMAL_PRECISION", "CURRENCY_NOT_SUPPORTED",
})


class _Configuration(Configuration):
    """The SDK's configuration with any API base (a proxy, a test double) instead of its two
    fixed environments."""

    api_base = DEFAULT_API_BASE

    def get_base_uri(self, server: Any = None) -> str:
        return self.api_base


def _error_detail(err: ApiException) -> str | None:
    details = getattr(err, "details", None) or []
    return getattr(details[0], "issue", None) if details else None


def _describe(err: ApiException) -> str:
    name = getattr(err, "name", None) or type(err).__name__
    return (f"HTTP {err.response_code} {name} detail={_error_detail(err)} "
            f"debug_id={getattr(err, 'debug_id', None)}: {getattr(err, 'message', None) or err.reason}")


class PayPalGateway:
    """The port over PayPal's Orders and Payments APIs; see the module's docstring.

    The SDK makes no retries (``max_retries=0``): the billing clock is the retry loop."""

    name = "paypal"

    def __init__(self, client_id: str, client_secret: str, api_base: str = DEFAULT_API_BASE,
                 timeout: float = 30) -> None:
        if not client_id.strip() or not client_secret.strip():
            raise ValueError("the paypal gateway needs SUBLEDGER_PAYPAL_CLIENT_ID and "
                             "SUBLEDGER_PAYPAL_CLIENT_SECRET")
        config = _Configuration(
            timeout=timeout, max_retries=0,
            client_credentials_auth_credentials=ClientCredentialsAuthCredentials(
                o_auth_client_id=client_id.strip(), o_auth_client_secret=client_secret.strip()),
        )
        config.api_base = self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self._client = PaypalServersdkClient(config=config)

    def authorization(self) -> dict[str, str]:
        """The ``Authorization`` header for a call the SDK has no method for
        (verify-webhook-signature): the SDK's own OAuth token, fetched or renewed as for its
        calls. Unobtainable: :class:`GatewayUnavailable`."""
        oauth = self._client.oauth_2
        try:
            valid = oauth.is_valid()
        except (requests.RequestException, AuthValidationException) as err:
            raise self._unreachable("token", "-", err) from err
        if not valid:
            logger.error("paypal: no OAuth token, check the credentials and the API base")
            raise GatewayUnavailable("paypal: no OAuth token")
        headers: dict[str, str] = {}
        oauth.apply(_Headers(headers))
        return headers

    def charge(self, request: ChargeRequest) -> ChargeResult:
        try:
            value = to_decimal_string(request.amount, request.currency,
                                      places=0 if request.currency in NO_DECIMALS else None)
        except UnrepresentableAmount as refused:
            logger.info("paypal charge %s: %s", request.idempotency_key, refused)
            return ChargeResult(False, None, d.INVALID_AMOUNT)
        try:
            earlier = earlier_capture(self._client, request)
        except ApiException as err:
            raise self._unavailable("charge", request.idempotency_key, err) from err
        except (requests.RequestException, AuthValidationException) as err:
            raise self._unreachable("charge", request.idempotency_key, err) from err
        if earlier is not None:
            return earlier
        body = OrderRequest(intent="CAPTURE", purchase_units=[PurchaseUnitRequest(
            amount=AmountWithBreakdown(currency_code=request.currency, value=value),
            reference_id=request.metadata.get("invoice_id", "default")[:256],
            custom_id=request.customer_ref[:127], invoice_id=request.idempotency_key[:127],
            description=request.description[:127],
        )], payment_source=_payment_source(request.token))
        try:
            order = self._client.orders.create_order({
                "body": body, "paypal_request_id": request.idempotency_key,
                "prefer": "return=representation"}).body
        except ApiException as err:
            detail = _error_detail(err)
            if err.response_code in (404, 422) and detail in DECLINES:
                code = d.ledger_code(DECLINES, detail, gateway=self.name, logger=logger)
                return ChargeResult(False, None, code)
            if detail == "DUPLICATE_INVOICE_ID":
                raise _already_captured(request) from err
            raise self._unavailable("charge", request.idempotency_key, err) from err
        except (requests.RequestException, AuthValidationException) as err:
            raise self._unreachable("charge", request.idempotency_key, err) from err
        return self._charge_result(request, order)

    def _charge_result(self, request: ChargeRequest, order: Any) -> ChargeResult:
        units = getattr(order, "purchase_units", None) or []
        payments = getattr(units[0], "payments", None) if units else None
        captures = getattr(payments, "captures", None) or []
        if not captures and getattr(order, "status", None) == "PAYER_ACTION_REQUIRED":
            # 3-D Secure or an approval wanted: nobody is there to give it, and the same
            # PayPal-Request-Id answers this order again on every retry.
            logger.info("paypal charge %s: order %s wants the payer's action",
                        request.idempotency_key, getattr(order, "id", None))
            return ChargeResult(False, None, d.AUTHENTICATION_REQUIRED)
        if not captures:
            logger.error("paypal charge %s: order %s (%s) has no capture", request.idempotency_key,
                         getattr(order, "id", None), getattr(order, "status", None))
            raise GatewayUnavailable(f"paypal: order {getattr(order, 'id', None)} has no capture")
        capture = captures[0]
        if capture.status not in _DECLINED_CAPTURE:
            return ChargeResult(True, capture.id)
        response = getattr(capture, "processor_response", None)
        provider_code = getattr(response, "response_code", None) or capture.status
        return ChargeResult(False, capture.id,
                            d.ledger_code(DECLINES, provider_code, gateway=self.name, logger=logger))

    def refund(self, request: RefundRequest) -> RefundResult:
        try:
            value = to_decimal_string(request.amount, request.currency,
                                      places=0 if request.currency in NO_DECIMALS else None)
            if request.amount <= 0:
                raise UnrepresentableAmount("a refund must be above 0")
        except UnrepresentableAmount:
            return RefundResult(False, None, d.INVALID_AMOUNT)
        body = PayPalRefundRequest(amount=Money(currency_code=request.currency, value=value),
                                   invoice_id=request.idempotency_key[:127],
                                   note_to_payer=(request.reason or None) and request.reason[:255])
        try:
            # PayPal forgets the PayPal-Request-Id after 6 hours: an earlier sending's refund,
            # found by its invoice_id, is the answer.
            earlier = earlier_refund(self._client, request)
            if earlier is not None:
                return earlier
            refund = self._client.payments.refund_captured_payment({
                "capture_id": request.charge_gateway_ref, "body": body,
                "paypal_request_id": request.idempotency_key}).body
        except ApiException as err:
            detail = _error_detail(err)
            if err.response_code in (404, 422) and detail in _REFUND_REFUSALS:
                logger.info("paypal refund %s refused: %s", request.idempotency_key, _describe(err))
                return RefundResult(False, None, detail.lower())
            raise self._unavailable("refund", request.idempotency_key, err) from err
        except (requests.RequestException, AuthValidationException) as err:
            raise self._unreachable("refund", request.idempotency_key, err) from err
        if refund.status in ("COMPLETED", "PENDING"):
            return RefundResult(True, refund.id)
        return RefundResult(False, refund.id, (refund.status or "failed").lower())

    def charged_subscription(self, payment_ref: str) -> str | None:
        """The subscription a capture of this ledger's was for (``PaymentOwners``); None
        for one PayPal does not know or another system made."""
        try:
            return capture_owner(self._client, payment_ref)
        except ApiException as err:
            raise self._unavailable("look-up", payment_ref, err) from err
        except (requests.RequestException, AuthValidationException) as err:
            raise self._unreachable("look-up", payment_ref, err) from err

    def _unavailable(self, operation: str, key: str, err: ApiException) -> GatewayUnavailable:
        description = _describe(err)
        if err.response_code >= 500 or err.response_code in (409, 429):
            logger.warning("paypal %s %s: unavailable: %s", operation, key, description)
        else:
            logger.error("paypal %s %s: refused, check the configuration: %s", operation, key,
                         description)
        return GatewayUnavailable(f"paypal {operation}: {description}")

    @staticmethod
    def _unreachable(operation: str, key: str, err: Exception) -> GatewayUnavailable:
        if isinstance(err, AuthValidationException):
            # The SDK could not get an OAuth token: bad credentials, or PayPal unreachable.
            logger.error("paypal %s %s: no OAuth token, check the credentials and the API base: %s",
                         operation, key, err)
        else:
            logger.warning("paypal %s %s: unreachable: %s", operation, key, err)
        return GatewayUnavailable(f"paypal {operation}: {type(err).__name__}: {err}")


class _Headers:
    """What the SDK's auth manager adds its header to."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.add_header = headers.__setitem__


def _already_captured(request: ChargeRequest) -> GatewayUnavailable:
    """PayPal refuses the order because an earlier sending of this attempt was captured, and
    the look-up did not find it (Transaction Search lags up to three hours, or the sending
    was beyond its range): the attempt stays pending for a person, never charged again
    (docs/billing.md, "Plugging PayPal")."""
    logger.error(
        "paypal charge %s: PayPal already captured invoice_id %s (an earlier sending whose "
        "answer was lost); find the capture in PayPal by that invoice id and record it with "
        "POST /invoices/%s/payments", request.idempotency_key, request.idempotency_key[:127],
        request.metadata.get("invoice_id", "{invoice_id}"))
    return GatewayUnavailable(f"paypal charge: invoice_id {request.idempotency_key[:127]} was "
                              "already captured; record that capture by hand")


def _payment_source(token: str) -> PaymentSource:
    kind, sep, vault_id = token.partition(":")
    if sep and kind == "paypal":
        return PaymentSource(paypal=PaypalWallet(vault_id=vault_id))
    vault_id = vault_id if sep and kind == "card" else token
    # A merchant-initiated charge of a card the payer saved: what card networks require
    # for subscriptions; a dunning retry is a re-attempt of the same one.
    return PaymentSource(card=CardRequest(vault_id=vault_id, stored_credential=CardStoredCredential(
        payment_initiator="MERCHANT", payment_type="RECURRING", usage="SUBSEQUENT")))
