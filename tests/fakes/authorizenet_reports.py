"""FakeAuthorizeNet's settlement batches and the Transaction Reporting calls that read them,
as Authorize.net's API reference shapes them.

Settling (:meth:`Batches.settle`) moves every ``capturedPendingSettlement`` transaction into
a new batch (``batchId``, ``settlementTimeUTC``, ``settlementState``, ``paymentMethod``) and
marks it ``settledSuccessfully``; :meth:`Batches.mark` then changes a transaction's status as
Authorize.net does later (``returnedItem``, ``settlementError``, ``chargeback``; ``voided``
before a batch). The calls:

- ``getSettledBatchListRequest``: the batches settled from ``firstSettlementDate`` to
  ``lastSettlementDate``; a range longer than 31 days, or one end without the other, is an
  ``Error`` (:data:`RANGE_ERROR`);
- ``getTransactionListRequest``: a batch's transactions, paged (``paging.limit``, 1000 at
  most, and ``paging.offset``, the page number from 1), with ``totalNumInResultSet``;
- ``getUnsettledTransactionListRequest``: the transactions in no batch, paged the same way.

An empty answer is ``resultCode`` ``Ok`` with ``I00004`` "No records found."
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

RANGE_ERROR = "E00059"
"""The code the fake answers a settlement range it refuses with (the text says why)."""
_LIMIT = 1000


class Batches:
    """The batches of a fake Authorize.net account over its ``transactions``."""

    def __init__(self, transactions: dict[str, dict[str, Any]]) -> None:
        self.transactions = transactions
        self.batches: dict[str, dict[str, Any]] = {}
        self._next = 9_000_000

    def settle(self, at: datetime, payment_method: str = "creditCard",
               only: str | None = None) -> str | None:
        """A batch, settled at ``at``, of every transaction waiting for one (or of ``only``);
        its id."""
        waiting = [t for t in self.transactions.values() if only in (None, t["transId"])
                   and t["transactionStatus"] in ("capturedPendingSettlement", "refundPendingSettlement")]
        if not waiting:
            return None
        self._next += 1
        batch_id = str(self._next)
        self.batches[batch_id] = {
            "batchId": batch_id, "settlementTimeUTC": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "settlementTimeLocal": at.strftime("%Y-%m-%dT%H:%M:%S"),
            "settlementState": "settledSuccessfully", "paymentMethod": payment_method,
            "marketType": "eCommerce", "product": "Card Not Present", "at": at}
        for t in waiting:
            t["batchId"] = batch_id
            t["transactionStatus"] = ("settledSuccessfully" if t["transactionType"] == "authCaptureTransaction"
                                      else "refundSettledSuccessfully")
        return batch_id

    def mark(self, trans_id: str, status: str) -> None:
        """What Authorize.net later says of a transaction: ``voided`` before a batch only."""
        found = self.transactions[trans_id]
        if status == "voided" and found.get("batchId"):
            raise ValueError("a settled transaction cannot be voided")
        found["transactionStatus"] = status

    def answer(self, name: str, body: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """``(message code, body)`` of a reporting call, or None when ``name`` is not one."""
        if name == "getSettledBatchListRequest":
            return self._batches(body)
        if name == "getTransactionListRequest":
            batch = self.batches.get(str(body.get("batchId")))
            if batch is None:
                return "E00040", {"text": "The record cannot be found."}
            return _paged([t for t in self.transactions.values() if t.get("batchId") == batch["batchId"]], body)
        if name == "getUnsettledTransactionListRequest":
            return _paged([t for t in self.transactions.values() if not t.get("batchId")], body)
        return None

    def _batches(self, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        first, last = _instant(body.get("firstSettlementDate")), _instant(body.get("lastSettlementDate"))
        if (first is None) != (last is None):
            return RANGE_ERROR, {"text": "Both firstSettlementDate and lastSettlementDate are required."}
        if first is None or last is None:
            first, last = datetime.now(UTC) - timedelta(days=1), datetime.now(UTC)
        if last < first:
            return RANGE_ERROR, {"text": "The first settlement date is after the last."}
        if last - first > timedelta(days=31):
            return RANGE_ERROR, {"text": "The date range cannot exceed 31 days."}
        found = [{k: v for k, v in b.items() if k != "at"} for b in self.batches.values()
                 if first <= b["at"] <= last]
        return ("I00001", {"batchList": found}) if found else ("I00004", {})


def _paged(found: list[dict[str, Any]], body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    paging = body.get("paging") or {}
    limit, page = int(paging.get("limit") or _LIMIT), int(paging.get("offset") or 1)
    if not 1 <= limit <= _LIMIT or page < 1:
        return "E00003", {"text": "The paging element has an invalid value."}
    found = sorted(found, key=lambda t: int(t["transId"]),
                   reverse=str((body.get("sorting") or {}).get("orderDescending")).lower() == "true")
    if not found:
        return "I00004", {}
    return "I00001", {"transactions": [summary(t) for t in found[(page - 1) * limit:page * limit]],
                      "totalNumInResultSet": len(found)}


def summary(t: dict[str, Any]) -> dict[str, Any]:
    """A transaction as Authorize.net lists it."""
    listed = {"transId": t["transId"], "submitTimeUTC": t["submitTimeUTC"],
              "submitTimeLocal": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t["at"])),
              "transactionStatus": t["transactionStatus"], "invoiceNumber": t["invoiceNumber"],
              "accountType": "Visa", "accountNumber": "XXXX1111", "settleAmount": str(t["amount"]),
              "marketType": "eCommerce", "product": "Card Not Present",
              "profile": {"customerProfileId": t.get("customer", ""), "customerPaymentProfileId": t["payment"]}}
    if t["transactionStatus"] == "returnedItem":
        listed["hasReturnedItems"] = True
    return listed


def _instant(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)
