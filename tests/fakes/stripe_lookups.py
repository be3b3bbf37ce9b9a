"""FakeStripe's read endpoints for finding earlier objects, written from Stripe's API reference.

- ``GET /v1/payment_intents/search?query=...``: the Search API over PaymentIntents. The query
  language is trimmed to what a ledger needs: clauses ``metadata['key']:'value'``,
  ``status:'value'`` and ``customer:'value'`` (exact match) joined by ``AND``. As Stripe
  documents, search is not read-after-write: an object is searchable only
  :data:`SEARCH_LAG_SECONDS` after it was created (Stripe: "under normal operating
  conditions, data is searchable in less than a minute"). Answers a ``search_result``.
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
