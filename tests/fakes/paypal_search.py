"""FakePayPal's Transaction Search, from PayPal's reference (``GET /v1/reporting/transactions``).

``start_date`` and ``end_date`` (Internet date-time) are required and at most 31 days apart
(400 ``INVALID_REQUEST`` otherwise); ``page_size`` 1 to 500 (default 100), ``page`` from 1.
Each capture is listed as a ``transaction_details[].transaction_info`` with its
``transaction_id`` (the capture id), ``invoice_id``, ``custom_field``, amount and
``transaction_status`` (``S`` completed, ``P`` pending, ``D`` declined, ``V`` refunded). As
PayPal documents, a transaction appears only up to :data:`LISTING_LAG_SECONDS` after it was
executed ("it takes a maximum of three hours"); the fake always takes the maximum, or
``lag`` seconds (an outage on PayPal's side).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

LISTING_LAG_SECONDS = 3 * 3600
_MAX_RANGE_SECONDS = 31 * 24 * 3600
_STATUS = {"COMPLETED": "S", "PENDING": "P", "DECLINED": "D", "REFUNDED": "V",
           "PARTIALLY_REFUNDED": "S"}


def _invalid(description: str) -> tuple[int, dict[str, Any]]:
    return 400, {"name": "INVALID_REQUEST", "message": "Request is not well-formed, syntactically "
                 "incorrect, or violates schema.", "debug_id": "f00d1e2a3b4c5",
                 "details": [{"issue": "INVALID_PARAMETER_VALUE", "description": description}]}


def _instant(value: str | None) -> float | None:
    try:
        return datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return None


def _info(capture: dict[str, Any]) -> dict[str, Any]:
    initiated = datetime.fromtimestamp(capture["at"], UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
    return {"transaction_info": {
        "paypal_account_id": "CKR2X7ZQ3G7NC", "transaction_id": capture["id"],
        "transaction_event_code": "T0006", "transaction_initiation_date": initiated,
        "transaction_updated_date": initiated,
        "transaction_amount": capture["amount"],
        "transaction_status": _STATUS.get(capture["status"], "S"),
        "invoice_id": capture.get("invoice_id"), "custom_field": capture.get("custom_id")}}


def search_transactions(captures: dict[str, dict[str, Any]], query: dict[str, str],
                        now: float, lag: float = LISTING_LAG_SECONDS) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of ``GET /v1/reporting/transactions``."""
    start, end = _instant(query.get("start_date")), _instant(query.get("end_date"))
    if start is None or end is None:
        return _invalid("start_date and end_date are required, in Internet date-time format.")
    if end < start or end - start > _MAX_RANGE_SECONDS:
        return _invalid("The maximum supported range is 31 days.")
    page_size, page = query.get("page_size", "100"), query.get("page", "1")
    if not (page_size.isdigit() and 1 <= int(page_size) <= 500 and page.isdigit() and int(page) >= 1):
        return _invalid("page_size must be 1 to 500 and page at least 1.")
    size = int(page_size)
    listed = sorted((c for c in captures.values()
                     if start <= c["at"] <= end and now - c["at"] >= lag),
                    key=lambda c: c["at"])
    pages = max(1, -(-len(listed) // size))
    chunk = listed[(int(page) - 1) * size:int(page) * size]
    return 200, {"transaction_details": [_info(c) for c in chunk],
                 "account_number": "XZXSPECYZZLPE", "start_date": query["start_date"],
                 "end_date": query["end_date"], "page": int(page), "total_items": len(listed),
                 "total_pages": pages}
