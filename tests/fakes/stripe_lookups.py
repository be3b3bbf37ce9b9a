"""FakeStripe's read endpoints for finding earlier objects, written from Stripe's API reference.

- ``GET /v1/payment_intents/search?query=...``: the Search API over PaymentIntents. The query
  language is trimmed to what a ledger needs: clauses ``metadata['key']:'value'``,
  ``status:'value'`` and ``customer:'value'`` (exact match) joined by ``AND``. As Stripe
  documents, search is not read-after-write: an object is searchable only
  :data:`SEARCH_LAG_SECONDS` after it was created (Stripe: "under normal operating
  conditions, data is searchable in less than a minute"). Answers a ``search_result``.
  An account without Search (Stripe offers it to no account in India) is answered
  :func:`search_unavailable`.
- ``GET /v1/payment_intents``: the List API over PaymentIntents, strongly consistent, newest
  first, filtered by ``customer`` and ``created[gt|gte|lt|lte]`` (epoch seconds), a page of
  ``limit`` (1 to 100, default 10) after the object ``starting_after``, ``has_more`` when
  more follow.
- ``GET /v1/refunds?payment_intent=pi_...`` (or ``charge=``): the List API, strongly
  consistent, newest first, ``limit`` 1 to 100 (default 10).
"""

from __future__ import annotations

import json
import re
from typing import Any

SEARCH_LAG_SECONDS = 60

_CLAUSE = re.compile(r"^(?:metadata\['([^'\]]+)'\]|(status|customer)):'([^']*)'$")


def _copy(obj: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(obj))


def _error(message: str, param: str) -> tuple[int, dict[str, Any]]:
    return 400, {"error": {"type": "invalid_request_error", "message": message, "param": param}}


def _limit(params: dict[str, str]) -> int | None:
    raw = params.get("limit", "10")
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= 100 else None


def search_payment_intents(
    intents: dict[str, dict[str, Any]], params: dict[str, str], now: float
) -> tuple[int, dict[str, Any]]:
    """Stripe's ``GET /v1/payment_intents/search``: (HTTP status, body)."""
    query = params.get("query", "").strip()
    clauses = [clause.strip() for clause in query.split(" AND ")] if query else []
    matches = [_CLAUSE.match(clause) for clause in clauses]
    if not clauses or not all(matches):
        return _error(f"Invalid query: {query!r}", "query")
    limit = _limit(params)
    if limit is None:
        return _error("Invalid limit: must be between 1 and 100", "limit")

    def matches_all(intent: dict[str, Any]) -> bool:
        for match in matches:
            assert match is not None
            meta_key, field, value = match.groups()
            actual = intent["metadata"].get(meta_key) if meta_key else intent.get(field)
            if actual != value:
                return False
        return True

    found = [
        _copy(intent)
        for intent in intents.values()
        if now - intent["created"] >= SEARCH_LAG_SECONDS and matches_all(intent)
    ]
    found.sort(key=lambda intent: intent["created"], reverse=True)
    return 200, {
        "object": "search_result",
        "url": "/v1/payment_intents/search",
        "has_more": len(found) > limit,
        "next_page": None,
        "data": found[:limit],
    }


def search_unavailable() -> tuple[int, dict[str, Any]]:
    """What Stripe answers a search on an account without Search, as reported by merchants
    in India: a 400 ``invalid_request_error`` without a code or a param."""
    return 400, {"error": {"type": "invalid_request_error",
                           "message": "The search feature is temporarily unavailable in your "
                                      "region."}}


_CREATED = {"gt": int.__gt__, "gte": int.__ge__, "lt": int.__lt__, "lte": int.__le__}


def list_payment_intents(
    intents: dict[str, dict[str, Any]], params: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    """Stripe's ``GET /v1/payment_intents``: (HTTP status, body)."""
    limit = _limit(params)
    if limit is None:
        return _error("Invalid limit: must be between 1 and 100", "limit")
    bounds = {op: params[f"created[{op}]"] for op in _CREATED if f"created[{op}]" in params}
    if not all(value.isdigit() for value in bounds.values()):
        return _error("Invalid integer: created", "created")
    # Newest first; of two created in the same second, the later one first.
    listed = sorted(reversed(list(intents.values())), key=lambda i: i["created"], reverse=True)
    after = params.get("starting_after")
    if after is not None:
        ids = [intent["id"] for intent in listed]
        if after not in ids:
            return 400, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                   "message": f"No such payment_intent: '{after}'",
                                   "param": "starting_after"}}
        listed = listed[ids.index(after) + 1:]
    found = [
        intent for intent in listed
        if params.get("customer", intent["customer"]) == intent["customer"]
        and all(_CREATED[op](intent["created"], int(value)) for op, value in bounds.items())
    ]
    return 200, {
        "object": "list",
        "url": "/v1/payment_intents",
        "has_more": len(found) > limit,
        "data": [_copy(intent) for intent in found[:limit]],
    }


def list_refunds(refunds: dict[str, dict[str, Any]], params: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """Stripe's ``GET /v1/refunds``, filtered by ``payment_intent`` or ``charge``."""
    limit = _limit(params)
    if limit is None:
        return _error("Invalid limit: must be between 1 and 100", "limit")
    found = [
        _copy(refund)
        for refund in reversed(list(refunds.values()))
        if all(
            refund.get(name) == params[name]
            for name in ("payment_intent", "charge")
            if name in params
        )
    ]
    return 200, {
        "object": "list",
        "url": "/v1/refunds",
        "has_more": len(found) > limit,
        "data": found[:limit],
    }
