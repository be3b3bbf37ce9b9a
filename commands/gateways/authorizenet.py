"""The ``authorizenet`` gateway: a Customer Information Manager profile charged by Authorize.net.

Authorize.net's documented JSON API (one endpoint, ``{api base}/xml/v1/request.api``) over
httpx; the official ``authorizenet`` SDK is not used (docs/decisions.md says why). Tokens are
``<customerProfileId>:<customerPaymentProfileId>``; amounts are decimal strings with the
currency's decimals, sent with the currency code.

Authorize.net has no idempotency key. What guards a retry: the transaction's
``order.invoiceNumber`` (and ``refId``) is derived from the ledger's idempotency key
(:func:`~.amounts.derived_reference`, 20 characters), and

1. before every charge and refund the profile's recent transactions are looked up
   (``getTransactionListForCustomerRequest``, newest first): a transaction with that invoice
   number is the answer, and nothing is sent again;
2. the transaction carries ``duplicateWindow`` = 8 hours (Authorize.net's maximum): should two
   tries race past the look-up, Authorize.net refuses the second as a duplicate (reason code
   11), and the adapter answers with the look-up again.

Answers (``transactionResponse.responseCode``): 1 approved -> success (``gateway_ref`` = the
``transId``); 2 declined and 3 error -> a decline, the reason code mapped by
:data:`DECLINES`; 4 held for review -> :class:`GatewayUnavailable` until a review decides
(the look-up then finds it). A profile Authorize.net does not know (``E00040``) is
``invalid_token``. Authentication errors (``E00007`` ...) and other refusals of the request
are configuration errors: :class:`GatewayUnavailable` logged at ERROR. HTTP 5xx, timeouts
and refused connections: :class:`GatewayUnavailable` logged at WARNING.

A refund reads the charge (``getTransactionDetailsRequest``) for its profile, then sends a
``refundTransaction`` to that profile with ``refTransId``. Authorize.net refunds settled
transactions only (reason code 54, ``transaction_not_settled``) and at most what was
charged (55, ``amount_too_large``). A refund refused as a duplicate (11) is answered by the
look-up, as a charge is.

What became of a charge after its approval (a settlement error, a returned eCheck, a void
before the batch, a chargeback) Authorize.net tells no one: :meth:`AuthorizeNetGateway.
settlement_notices` asks its Transaction Reporting API (:mod:`.authorizenet_reports`).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

import httpx

from . import ChargeRequest, ChargeResult, GatewayUnavailable, RefundRequest, RefundResult
from . import declines as d
from .amounts import UnrepresentableAmount, derived_reference, to_decimal_string
from .authorizenet_reports import settlement_notices
from .notices import GatewayNotice

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.authorize.net"
ENDPOINT = "/xml/v1/request.api"
REFERENCE_MAX = 20
DUPLICATE_WINDOW = 28_800
DECLINES: dict[str, str] = {
    "2": d.CARD_DECLINED, "3": d.CARD_DECLINED, "4": d.CARD_DECLINED, "27": d.CARD_DECLINED,
    "127": d.CARD_DECLINED, "8": d.EXPIRED_CARD, "6": d.INVALID_TOKEN, "37": d.INVALID_TOKEN,
    "44": d.INCORRECT_CVC, "45": d.INCORRECT_CVC, "65": d.INCORRECT_CVC, "250": d.FRAUDULENT,
    "251": d.FRAUDULENT, "254": d.FRAUDULENT, "19": d.PROCESSING_ERROR, "57": d.PROCESSING_ERROR,
    "E00040": d.INVALID_TOKEN, "39": d.CURRENCY_NOT_SUPPORTED, "5": d.INVALID_AMOUNT,
    "declined": d.CARD_DECLINED, "generalError": d.PROCESSING_ERROR,
}
_REFUND_FAILURES = {"54": "transaction_not_settled", "55": "amount_too_large",
                    "16": "resource_missing", "E00040": "resource_missing"}
_PAID = frozenset({"capturedPendingSettlement", "settledSuccessfully", "refundSettledSuccessfully",
                   "refundPendingSettlement"})
_HELD = frozenset({"FDSPendingReview", "FDSAuthorizedPendingReview", "authorizedPendingCapture",
                   "underReview"})


class _Refused(Exception):
    """Authorize.net answered ``resultCode: Error`` without a transaction response."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.code = code


class AuthorizeNetGateway:
    """The port over Authorize.net's API; see the module's docstring."""

    name = "authorizenet"

    def __init__(self, login_id: str, transaction_key: str, api_base: str = DEFAULT_API_BASE,
                 timeout: float = 30) -> None:
        if not login_id.strip() or not transaction_key.strip():
            raise ValueError("the authorizenet gateway needs SUBLEDGER_AUTHORIZENET_LOGIN_ID and "
                             "SUBLEDGER_AUTHORIZENET_TRANSACTION_KEY")
        self._auth = {"name": login_id.strip(), "transactionKey": transaction_key.strip()}
        self._url = api_base.rstrip("/") + ENDPOINT
        self._http = httpx.Client(timeout=timeout, headers={"Content-Type": "application/json"})

    def charge(self, request: ChargeRequest) -> ChargeResult:
        customer, sep, payment = request.token.partition(":")
        if not (sep and customer.isdigit() and payment.isdigit()):
            return ChargeResult(False, None, d.INVALID_TOKEN)
        try:
            amount = to_decimal_string(request.amount, request.currency)
        except UnrepresentableAmount:
            return ChargeResult(False, None, d.INVALID_AMOUNT)
        invoice = derived_reference(request.idempotency_key, REFERENCE_MAX)
        try:
            found = self._find(customer, payment, invoice, "charge", request.idempotency_key)
            if found is not None:
                return self._charge_found(found)
            answer = self._call("createTransactionRequest", "charge", request.idempotency_key, {
                "refId": invoice,
                "transactionRequest": {
                    "transactionType": "authCaptureTransaction", "amount": amount,
                    "currencyCode": request.currency,
                    "profile": {"customerProfileId": customer,
                                "paymentProfile": {"paymentProfileId": payment}},
                    "order": {"invoiceNumber": invoice, "description": request.description[:255]},
                    "transactionSettings": {"setting": [
                        {"settingName": "duplicateWindow", "settingValue": str(DUPLICATE_WINDOW)}]},
                }})
            response = answer.get("transactionResponse") or {}
            if _reason(response) == "11":  # a duplicate: a concurrent try got there first
                found = self._find(customer, payment, invoice, "charge", request.idempotency_key)
                if found is None:
                    raise GatewayUnavailable("authorizenet: a duplicate of a transaction not found yet")
                return self._charge_found(found)
        except _Refused as refused:
            if refused.code in DECLINES:
                return ChargeResult(False, None, d.ledger_code(DECLINES, refused.code,
                                                               gateway=self.name, logger=logger))
            raise self._misconfigured("charge", request.idempotency_key, refused) from refused
        return self._charge_result(response, _reason(response))

    def _charge_result(self, response: dict[str, Any], reason: str | None) -> ChargeResult:
        code, trans_id = str(response.get("responseCode")), response.get("transId") or None
        if code == "1":
            return ChargeResult(True, trans_id)
        if code == "4":
            raise GatewayUnavailable(f"authorizenet: transaction {trans_id} is held for review")
        return ChargeResult(False, None if trans_id in (None, "0") else trans_id,
                            d.ledger_code(DECLINES, reason, gateway=self.name, logger=logger))

    def _charge_found(self, found: dict[str, Any]) -> ChargeResult:
        status = found.get("transactionStatus")
        if status in _PAID:
            return ChargeResult(True, found.get("transId"))
        if status in _HELD:
            raise GatewayUnavailable(f"authorizenet: transaction {found.get('transId')} is {status}")
        return ChargeResult(False, found.get("transId"),
                            d.ledger_code(DECLINES, status, gateway=self.name, logger=logger))

    def refund(self, request: RefundRequest) -> RefundResult:
        try:
            amount = to_decimal_string(request.amount, request.currency)
            if request.amount <= 0:
                raise UnrepresentableAmount("a refund must be above 0")
        except UnrepresentableAmount:
            return RefundResult(False, None, d.INVALID_AMOUNT)
        invoice = derived_reference(request.idempotency_key, REFERENCE_MAX)
        key = request.idempotency_key
        try:
            details = self._call("getTransactionDetailsRequest", "refund", key,
                                 {"transId": request.charge_gateway_ref}).get("transaction") or {}
            profile = details.get("profile") or {}
            customer, payment = profile.get("customerProfileId"), profile.get("customerPaymentProfileId")
            found = self._find(customer, payment, invoice, "refund", key) if customer else None
            if found is not None:
                return _refund_found(found)
            answer = self._call("createTransactionRequest", "refund", key, {
                "refId": invoice,
                "transactionRequest": {
                    "transactionType": "refundTransaction", "amount": amount,
                    "currencyCode": request.currency,
                    "profile": {"customerProfileId": customer,
                                "paymentProfile": {"paymentProfileId": payment}},
                    "refTransId": request.charge_gateway_ref,
                    "order": {"invoiceNumber": invoice,
                              "description": (request.reason or "refund")[:255]},
                    "transactionSettings": {"setting": [
                        {"settingName": "duplicateWindow", "settingValue": str(DUPLICATE_WINDOW)}]},
                }})
            response = answer.get("transactionResponse") or {}
            if _reason(response) == "11":  # a duplicate: a concurrent try refunded first
                found = self._find(customer, payment, invoice, "refund", key) if customer else None
                if found is None:
                    raise GatewayUnavailable("authorizenet: a duplicate of a refund not found yet")
                return _refund_found(found)
        except _Refused as refused:
            if refused.code in _REFUND_FAILURES:
                return RefundResult(False, None, _REFUND_FAILURES[refused.code])
            raise self._misconfigured("refund", key, refused) from refused
        if str(response.get("responseCode")) == "1":
            return RefundResult(True, response.get("transId"))
        reason = _reason(response) or "failed"
        logger.info("authorizenet refund %s refused: reason code %s", key, reason)
        return RefundResult(False, None, _REFUND_FAILURES.get(reason, f"reason_{reason}"))

    def settlement_notices(self, since: datetime, until: datetime) -> list[GatewayNotice]:
        """What became of the transactions settled between ``since`` and ``until``
        (:mod:`.authorizenet_reports`); a refusal is a configuration error."""
        window = f"{since.isoformat()}/{until.isoformat()}"

        def call(name: str, body: dict[str, Any]) -> dict[str, Any]:
            try:
                return self._call(name, "settlement report", window, body)
            except _Refused as refused:
                raise self._misconfigured("settlement report", window, refused) from refused

        return settlement_notices(call, since, until)

    def _find(self, customer: str | None, payment: str | None, invoice: str, operation: str,
              key: str) -> dict[str, Any] | None:
        """The profile's recent transaction with this invoice number, if there is one."""
        try:
            answer = self._call("getTransactionListForCustomerRequest", operation, key, {
                "customerProfileId": customer, "customerPaymentProfileId": payment,
                "sorting": {"orderBy": "submitTimeUTC", "orderDescending": True},
                "paging": {"limit": 1000, "offset": 1}})
        except _Refused as refused:
            if refused.code == "E00040":  # no such profile: nothing made for it either
                return None
            raise
        return next((t for t in answer.get("transactions") or []
                     if t.get("invoiceNumber") == invoice), None)

    def _call(self, name: str, operation: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = {name: {"merchantAuthentication": self._auth, **body}}
        try:
            response = self._http.post(self._url, content=json.dumps(payload))
        except httpx.HTTPError as err:
            logger.warning("authorizenet %s %s: unreachable: %s: %s", operation, key,
                           type(err).__name__, err)
            raise GatewayUnavailable(f"authorizenet {operation}: {type(err).__name__}: {err}") from err
        if response.status_code != 200:
            logger.warning("authorizenet %s %s: unavailable: HTTP %s", operation, key,
                           response.status_code)
            raise GatewayUnavailable(f"authorizenet {operation}: HTTP {response.status_code}")
        try:
            answer = json.loads(response.content.decode("utf-8-sig"))  # it starts with a BOM
        except ValueError as err:
            logger.warning("authorizenet %s %s: an answer that is not JSON", operation, key)
            raise GatewayUnavailable(f"authorizenet {operation}: an answer that is not JSON") from err
        messages = answer.get("messages") or {}
        if messages.get("resultCode") == "Error" and not answer.get("transactionResponse"):
            message = (messages.get("message") or [{}])[0]
            raise _Refused(str(message.get("code")), str(message.get("text")))
        return dict(answer)

    @staticmethod
    def _misconfigured(operation: str, key: str, refused: _Refused) -> GatewayUnavailable:
        logger.error("authorizenet %s %s: refused, check the configuration: %s", operation, key, refused)
        return GatewayUnavailable(f"authorizenet {operation}: {refused}")


def _refund_found(found: dict[str, Any]) -> RefundResult:
    paid = found.get("transactionStatus") in _PAID
    return RefundResult(paid, found.get("transId"), None if paid else "failed")


def _reason(response: dict[str, Any]) -> str | None:
    errors = response.get("errors") or []
    return str(errors[0].get("errorCode")) if errors else None
