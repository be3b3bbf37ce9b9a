"""Finding what an earlier sending of a PayPal charge did, for when PayPal may no longer
know its ``PayPal-Request-Id``.

PayPal keeps a ``PayPal-Request-Id`` for 6 hours (longer only by arrangement), then treats
the same request as a new one. Every order carries the ledger's key as its ``invoice_id``,
and PayPal's Transaction Search API (``GET /v1/reporting/transactions``) lists each capture
with that ``invoice_id``. The Orders API has no search, so a charge whose earlier sending may
be older than :data:`LOOKUP_AFTER` lists the captures of the time that sending may have
happened (at most 31 days a call, newest first, as far back as the API lists: three years)
and answers one with its ``invoice_id``. The listing is up to three hours behind; the
sendings it must find are at least five hours old. The REST app needs PayPal's "Transaction
Search" permission. Without it (403) the look-up is logged at ERROR and the order is sent:
its ``invoice_id`` is then the only guard (PayPal refuses a captured one again while the
account blocks duplicate invoice ids), rather than every attempt sent five hours after it
fell due (any attempt of a billing clock run daily) waiting for the permission.

A refund carries its key as the refund's ``invoice_id`` and is looked up every time, among
the refunds of the capture's order (``GET /v2/payments/captures/{id}`` names the order,
``GET /v2/checkout/orders/{id}`` lists them): two reads, consistent, and refunds are rare.
The same two reads tell whose payment a capture is (:func:`capture_owner`), for a webhook
about a capture whose answer the ledger lost.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from paypalserversdk.exceptions.api_exception import ApiException

from . import ChargeRequest, ChargeResult, RefundRequest, RefundResult, described_subscription
from . import declines as d

logger = logging.getLogger("subledger.commands.gateways.paypal")

REQUEST_ID_RETENTION = timedelta(hours=6)
"""How long PayPal keeps a PayPal-Request-Id (Orders v2, ``PayPal-Request-Id`` header)."""
LOOKUP_AFTER = REQUEST_ID_RETENTION - timedelta(hours=1)
"""A retry whose earlier sending may be older than this looks it up first."""
_SPAN = timedelta(days=31)  # PayPal's longest start_date..end_date range
_HISTORY = timedelta(days=3 * 365)  # how far back the API lists
_PAGE_SIZE = 500  # PayPal's largest page
# transaction_status: S success, P pending (PayPal took it and settles later), D denied,
# V reversed (refunded or charged back: it was taken).
_TAKEN = frozenset({"S", "P", "V"})


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _spans(request: ChargeRequest) -> Iterator[tuple[datetime, datetime]]:
    """The ranges an earlier sending PayPal may have forgotten can lie in, newest first."""
    first = request.earliest_sending()
    assert first is not None and request.sent_at is not None
    end = request.sent_at - LOOKUP_AFTER
    earliest = max(first, request.sent_at - _HISTORY)
    while end > earliest:
        start = max(end - _SPAN, earliest)
        yield start, end
        end = start


def _matching(response: Any, invoice_id: str) -> Any | None:
    for detail in getattr(response, "transaction_details", None) or []:
        info = getattr(detail, "transaction_info", None)
        if getattr(info, "invoice_id", None) == invoice_id:
            return info
    return None


def earlier_capture(client: Any, request: ChargeRequest) -> ChargeResult | None:
    """The answer of an earlier sending of this attempt that PayPal may have forgotten, by
    the order's ``invoice_id``; None when the attempt is young, when its times are unknown
    (there is no range to search: the request id alone guards it), or when nothing is
    listed. Raises the SDK's errors (the caller maps them)."""
    if request.due_at is None or request.sent_at is None \
            or not request.may_be_older_than(LOOKUP_AFTER):
        return None
    invoice_id = request.idempotency_key[:127]
    for start, end in _spans(request):
        page, pages = 1, 1
        while page <= pages:
            try:
                response = client.transaction_search.search_transactions({
                    "start_date": _iso(start), "end_date": _iso(end), "fields": "transaction_info",
                    "page_size": _PAGE_SIZE, "page": page}).body
            except ApiException as err:
                if err.response_code != 403:
                    raise
                logger.error("paypal charge %s: Transaction Search is not permitted to this REST"
                             " app; sent without looking for an earlier capture, guarded only by"
                             " the order's invoice_id: grant the app that permission",
                             request.idempotency_key)
                return None
            info = _matching(response, invoice_id)
            if info is not None:
                return _found(request, info)
            page, pages = page + 1, getattr(response, "total_pages", None) or 1
    return None


def _found(request: ChargeRequest, info: Any) -> ChargeResult:
    status = getattr(info, "transaction_status", None)
    logger.info("paypal charge %s: answered by the earlier capture %s (status %s)",
                request.idempotency_key, info.transaction_id, status)
    if status in _TAKEN:
        return ChargeResult(True, info.transaction_id)
    return ChargeResult(False, info.transaction_id, d.CARD_DECLINED)


def earlier_refund(client: Any, request: RefundRequest) -> RefundResult | None:
    """The refund an earlier sending of this refund made, by its ``invoice_id``; None when
    there is none (or the capture is unknown: the refund itself answers why). Raises the
    SDK's errors but a 404 (the caller maps them)."""
    order = _order_of(client, request.charge_gateway_ref)
    if order is None:
        return None
    invoice_id = request.idempotency_key[:127]
    for unit in getattr(order, "purchase_units", None) or []:
        for refund in getattr(getattr(unit, "payments", None), "refunds", None) or []:
            if getattr(refund, "invoice_id", None) == invoice_id:
                logger.info("paypal refund %s: answered by the earlier refund %s",
                            request.idempotency_key, refund.id)
                if refund.status in ("COMPLETED", "PENDING"):
                    return RefundResult(True, refund.id)
                return RefundResult(False, refund.id, (refund.status or "failed").lower())
    return None


def _order_of(client: Any, capture_id: str) -> Any | None:
    """The order a capture was made by (``GET /v2/payments/captures/{id}`` names it); None
    for a capture PayPal does not know. Raises the SDK's errors but a 404."""
    try:
        capture = client.payments.get_captured_payment({"capture_id": capture_id}).body
    except ApiException as err:
        if err.response_code == 404:
            return None
        raise
    related = getattr(getattr(capture, "supplementary_data", None), "related_ids", None)
    order_id = getattr(related, "order_id", None)
    return client.orders.get_order({"id": order_id}).body if order_id else None


def capture_owner(client: Any, capture_id: str) -> str | None:
    """The subscription a capture of this ledger's was for, read from the description the
    ledger gave its order; None for a capture PayPal does not know or another system made.
    Raises the SDK's errors but a 404."""
    order = _order_of(client, capture_id)
    units = getattr(order, "purchase_units", None) or []
    return described_subscription(getattr(units[0], "description", None) or "") if units else None
