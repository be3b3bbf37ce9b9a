"""What Authorize.net's Transaction Reporting API says became of the ledger's charges after
they were approved, read into :class:`~.notices.GatewayNotice`.

Authorize.net approves a charge (``capturedPendingSettlement``) and settles it in a nightly
batch; the charge may then end ``settlementError``, an eCheck may come back days later as
``returnedItem``, a merchant may void it in the Merchant Interface before the batch
(``voided``), and a card's chargeback shows as ``chargeback``. Authorize.net sends no
webhook for any of these, so the ledger asks:

- ``getSettledBatchListRequest`` with ``firstSettlementDate``/``lastSettlementDate`` (UTC,
  at most :data:`MAX_WINDOW` apart: a longer range is asked window by window);
- ``getTransactionListRequest`` per ``batchId`` (paged, :data:`PAGE` a page): a batch lists
  its transactions with their status now, so a return shows in the batch it settled in;
- ``getUnsettledTransactionListRequest`` (paged): a void before settlement never reaches a
  batch;
- ``getTransactionDetailsRequest`` for each transaction found reversed: whether it is a refund.

No records (``I00004``, result ``Ok``) is an empty list. Each transaction in one of
:data:`REVERSED` is a ``charge_denied`` notice naming its ``transId``, ``reason`` its status;
a refund among them (``getTransactionDetailsRequest``: its ``transactionType`` and
``refTransId``) is a ``refund_failed`` notice of its charge. A ``chargeback`` is the
ledger's lost dispute (``dispute_closed``, ``lost``, of the whole charge: the list names no
amount, and what was refunded already stays the seller's): the payer's bank took the money
back, as a Stripe dispute lost does, and the card is not charged again. Which of them are
this ledger's is for the notice machinery to say.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from .notices import CHARGE_DENIED, DISPUTE_CLOSED, REFUND_FAILED, GatewayNotice

MAX_WINDOW = timedelta(days=31)
PAGE = 1000
CHARGEBACK = "chargeback"
REVERSED = frozenset({"settlementError", "returnedItem", "voided", CHARGEBACK})
"""The statuses of a transaction whose money did not reach the merchant after all."""

Call = Callable[[str, dict[str, Any]], dict[str, Any]]
"""One Authorize.net request by name and body, answered as JSON (the gateway's ``_call``)."""


def windows(since: datetime, until: datetime) -> Iterator[tuple[datetime, datetime]]:
    """``[since, until]`` cut into windows of at most :data:`MAX_WINDOW`, in order."""
    if since.tzinfo is None or until.tzinfo is None:
        raise ValueError("settlement windows are instants with an offset")
    if since > until:
        raise ValueError(f"since ({since.isoformat()}) is after until ({until.isoformat()})")
    start = since
    while True:
        end = min(start + MAX_WINDOW, until)
        yield start, end
        if end >= until:
            return
        start = end


def settlement_notices(call: Call, since: datetime, until: datetime) -> list[GatewayNotice]:
    """The notices of every reversed transaction settled between ``since`` and ``until``,
    then of those voided before a batch (the unsettled list, as it is now)."""
    notices: dict[tuple[str, str], GatewayNotice] = {}
    for start, end in windows(since, until):
        answer = call("getSettledBatchListRequest", {
            "firstSettlementDate": _utc(start), "lastSettlementDate": _utc(end)})
        for batch in answer.get("batchList") or []:
            settled = _instant(batch.get("settlementTimeUTC")) or end
            for found in _pages(call, "getTransactionListRequest", {"batchId": batch["batchId"]}):
                _add(notices, found, settled, until)
    for found in _pages(call, "getUnsettledTransactionListRequest", {}):
        _add(notices, found, until, until)
    return [_of_refund(call, notice) for notice in notices.values()]


def _of_refund(call: Call, notice: GatewayNotice) -> GatewayNotice:
    """A reversed refund is a refund that failed (the money stayed with the merchant), named
    by its charge: the lists say neither, one transaction's details do."""
    if notice.kind != CHARGE_DENIED:
        return notice
    details = call("getTransactionDetailsRequest", {"transId": notice.ref}).get("transaction") or {}
    if details.get("transactionType") != "refundTransaction" or not details.get("refTransId"):
        return notice
    return replace(notice, kind=REFUND_FAILED, charge_refs=(str(details["refTransId"]),))


def _add(notices: dict[tuple[str, str], GatewayNotice], found: dict[str, Any],
         settled: datetime, learned: datetime) -> None:
    status, trans_id = found.get("transactionStatus"), found.get("transId")
    if status not in REVERSED or not trans_id:
        return
    # A settlement error happens at the batch; when a return, a void or a chargeback
    # happened the lists do not say, so it counts from when the ledger asked.
    at = settled if status == "settlementError" else learned
    ref = str(trans_id)
    notices[(ref, status)] = GatewayNotice(
        kind=CHARGE_DENIED, occurred_at=at, ref=ref, charge_refs=(ref,), reason=status,
    ) if status != CHARGEBACK else GatewayNotice(
        kind=DISPUTE_CLOSED, occurred_at=at, ref=ref, charge_refs=(ref,), outcome="lost",
        reason=status)


def _pages(call: Call, name: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    offset = 1
    while True:
        answer = call(name, {**body, "sorting": {"orderBy": "submitTimeUTC",
                                                 "orderDescending": False},
                             "paging": {"limit": PAGE, "offset": offset}})
        page = answer.get("transactions") or []
        yield from page
        total = int(answer.get("totalNumInResultSet") or 0)
        if len(page) < PAGE or offset * PAGE >= total:
            return
        offset += 1


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(text: Any) -> datetime | None:
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00")) if isinstance(text, str) else None
    except ValueError:
        return None
    return instant if instant is None or instant.tzinfo else instant.replace(tzinfo=UTC)
