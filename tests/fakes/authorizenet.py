"""FakeAuthorizeNet: the JSON API calls the adapter makes, from Authorize.net's API reference.

One endpoint, ``POST /xml/v1/request.api``, a JSON body ``{"<name>Request": {...}}`` with
``merchantAuthentication`` (:data:`LOGIN_ID` / :data:`TRANSACTION_KEY`, else ``E00007``).
Every answer is HTTP 200 starting with a UTF-8 byte-order mark, as Authorize.net's JSON is;
``messages.resultCode`` says ``Ok`` or ``Error``. Calls:

- ``createTransactionRequest``: ``authCaptureTransaction`` of a customer profile (settled at
  once, unlike the real one's nightly batch, unless :attr:`FakeAuthorizeNet.settle` is
  False), ``refundTransaction`` of a settled transaction (reason 54 otherwise, 55 above what
  is left). ``duplicateWindow`` (seconds, default 120) is honoured on the fake's clock: the
  same profile, amount and invoice number inside the window is refused with reason code 11;
  outside it, it is a new transaction, as Authorize.net's.
- ``getTransactionListForCustomerRequest``: the profile's transactions, newest first.
- ``getTransactionDetailsRequest``: one transaction;
- the Transaction Reporting calls over settlement batches (:mod:`.authorizenet_reports`):
  :attr:`FakeAuthorizeNet.batches` settles and marks transactions.

Payment profiles of customer profile :data:`CUSTOMER` (``"<CUSTOMER>:<payment profile>"``):
``1000`` approves; ``20<nn>`` is declined with reason code ``<nn>`` (``2002`` declined,
``2008`` expired card, ``2045`` CVV); ``4000`` is held for fraud review; any other payment
profile is ``E00040`` (record not found).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .authorizenet_reports import Batches, summary
from .provider_server import Answer, FakeProvider, Recorded, new_id

LOGIN_ID = "5KP3u95bQpv"
TRANSACTION_KEY = "346HZ32z3fP4hTG2"
CUSTOMER = "1929820324"
_REASONS = {"1": "This transaction has been approved.", "2": "This transaction has been declined.",
            "8": "The credit card has expired.", "11": "A duplicate transaction has been submitted.",
            "45": "This transaction has been declined.", "54": "The referenced transaction does "
            "not meet the criteria for issuing a credit.", "55": "The sum of credits against the "
            "referenced transaction would exceed original debit amount.",
            "252": "Your order has been received. Thank you for your business!"}


def _messages(code: str = "I00001", text: str = "Successful.", ok: bool = True) -> dict[str, Any]:
    return {"resultCode": "Ok" if ok else "Error", "message": [{"code": code, "text": text}]}


def _answer(body: dict[str, Any]) -> Answer:
    return Answer(200, "\ufeff" + json.dumps(body))


def _error(code: str, text: str, ref_id: str | None = None) -> Answer:
    return _answer({"refId": ref_id, "messages": _messages(code, text, ok=False)})


class FakeAuthorizeNet(FakeProvider):
    name = "authorizenet"

    def __init__(self) -> None:
        super().__init__()
        self.transactions: dict[str, dict[str, Any]] = {}
        self.settle = True
        self.batches = Batches(self.transactions)
        self._next_id = 60_000_000_000

    def server_error(self, status: int) -> Answer:
        return Answer(status, "<html><body><h1>503 Service Unavailable</h1></body></html>",
                      content_type="text/html")

    def captured(self) -> int:
        return sum(t["minor"] for t in self.transactions.values()
                   if t["transactionType"] == "authCaptureTransaction" and t["responseCode"] == "1")

    def refunded(self) -> int:
        return sum(t["minor"] for t in self.transactions.values()
                   if t["transactionType"] == "refundTransaction" and t["responseCode"] == "1")

    def route(self, request: Recorded) -> Answer:
        if request.method != "POST" or request.path != "/xml/v1/request.api":
            return Answer(404, "<html><body>Not Found</body></html>", content_type="text/html")
        try:
            [(name, body)] = (request.json() or {}).items()
        except ValueError:
            return _error("E00003", "An error occurred while parsing the JSON request.")
        auth = body.get("merchantAuthentication") or {}
        if (auth.get("name"), auth.get("transactionKey")) != (LOGIN_ID, TRANSACTION_KEY):
            return _error("E00007", "User authentication failed due to invalid authentication values.",
                          body.get("refId"))
        if name == "createTransactionRequest":
            return self._create(body)
        if name == "getTransactionListForCustomerRequest":
            return self._list(body)
        if name == "getTransactionDetailsRequest":
            found = self.transactions.get(str(body.get("transId")))
            if found is None:
                return _error("E00040", "The record cannot be found.")
            return _answer({"transaction": _details(found), "messages": _messages()})
        reported = self.batches.answer(name, body)
        if reported is None:
            return _error("E00044", f"Method {name} is not supported.")
        code, found = reported
        if code.startswith("E"):
            return _error(code, found["text"])
        text = "No records found." if code == "I00004" else "Successful."
        return _answer({**found, "messages": _messages(code, text)})

    def _create(self, body: dict[str, Any]) -> Answer:
        request = body.get("transactionRequest") or {}
        profile = request.get("profile") or {}
        customer = profile.get("customerProfileId")
        payment = (profile.get("paymentProfile") or {}).get("paymentProfileId")
        if customer != CUSTOMER or not (payment in ("1000", "4000") or str(payment).startswith("20")):
            return _error("E00040", "The record cannot be found.", body.get("refId"))
        kind = request.get("transactionType")
        amount = Decimal(str(request.get("amount")))
        invoice = (request.get("order") or {}).get("invoiceNumber")
        window = next((int(s["settingValue"]) for s in (request.get("transactionSettings") or {})
                       .get("setting", []) if s.get("settingName") == "duplicateWindow"), 120)
        if any(t["invoiceNumber"] == invoice and t["amount"] == amount and t["payment"] == payment
               and t["transactionType"] == kind and self.now() - t["at"] < window
               for t in self.transactions.values()):
            return self._response(body, "3", "11", None)
        if kind == "refundTransaction":
            return self._refund(body, request, amount, invoice, payment)
        if kind != "authCaptureTransaction":
            return _error("E00003", "The element 'transactionType' has an invalid value.")
        code, reason = ("1", "1") if payment == "1000" else ("4", "252") if payment == "4000" \
            else ("2", str(int(str(payment)[2:])))
        status = {"1": "capturedPendingSettlement", "4": "FDSPendingReview"}.get(code, "declined")
        made = self._record(kind, amount, invoice, payment, code, status, refTransId=None)
        if self.settle:
            self.batches.settle(datetime.fromtimestamp(self.now(), UTC), only=made["transId"])
        return self._response(body, code, reason, made["transId"])

    def _refund(self, body: dict[str, Any], request: dict[str, Any], amount: Decimal,
                invoice: str | None, payment: str | None) -> Answer:
        original = self.transactions.get(str(request.get("refTransId")))
        if original is None or original["transactionStatus"] != "settledSuccessfully":
            return self._response(body, "3", "54" if original else "16", None)
        left = original["amount"] - sum(t["amount"] for t in self.transactions.values()
                                         if t["refTransId"] == original["transId"] and t["responseCode"] == "1")
        if amount > left:
            return self._response(body, "3", "55", None)
        made = self._record("refundTransaction", amount, invoice, payment, "1",
                            "refundPendingSettlement", refTransId=original["transId"])
        return self._response(body, "1", "1", made["transId"])

    def _record(self, kind: str, amount: Decimal, invoice: str | None, payment: str | None,
                code: str, status: str, **extra: Any) -> dict[str, Any]:
        self._next_id += 1
        made = {"transId": str(self._next_id), "transactionType": kind, "amount": amount,
                "minor": int(amount.scaleb(2)), "invoiceNumber": invoice, "payment": payment,
                "responseCode": code, "transactionStatus": status, "at": self.now(), "customer": CUSTOMER,
                "submitTimeUTC": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(self.now())),
                **extra}
        self.transactions[made["transId"]] = made
        return made

    def _response(self, body: dict[str, Any], code: str, reason: str, trans_id: str | None) -> Answer:
        response: dict[str, Any] = {"responseCode": code, "authCode": new_id("", 6) if code == "1" else "",
                                    "avsResultCode": "Y", "cvvResultCode": "P", "transId": trans_id or "0",
                                    "refTransID": "", "transHash": "", "testRequest": "0",
                                    "accountNumber": "XXXX1111", "accountType": "Visa"}
        text = _REASONS.get(reason, "This transaction has been declined.")
        if code in ("1", "4"):
            response["messages"] = [{"code": reason, "description": text}]
        else:
            response["errors"] = [{"errorCode": reason, "errorText": text}]
        messages = _messages() if code in ("1", "4") else _messages("E00027", "The transaction was unsuccessful.", ok=False)
        return _answer({"transactionResponse": response, "refId": body.get("refId"), "messages": messages})

    def _list(self, body: dict[str, Any]) -> Answer:
        if body.get("customerProfileId") != CUSTOMER:
            return _error("E00040", "The record cannot be found.")
        payment = body.get("customerPaymentProfileId")
        found = [t for t in self.transactions.values() if payment in (None, t["payment"])]
        found.sort(key=lambda t: t["transId"], reverse=True)
        if not found:
            return _answer({"messages": _messages("I00004", "No records found.")})
        return _answer({"transactions": [summary(t) for t in found],
                        "totalNumInResultSet": len(found), "messages": _messages()})


def _details(t: dict[str, Any]) -> dict[str, Any]:
    return {**summary(t), "transactionType": t["transactionType"], "responseCode": int(t["responseCode"]),
            "authAmount": str(t["amount"]), "order": {"invoiceNumber": t["invoiceNumber"]},
            "payment": {"creditCard": {"cardNumber": "XXXX1111", "expirationDate": "XXXX", "cardType": "Visa"}},
            **({"refTransId": t["refTransId"]} if t.get("refTransId") else {})}
