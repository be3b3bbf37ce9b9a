"""Finding what an earlier sending of a charge or refund did at Stripe, by the ledger's own
reference on it, for when Stripe may no longer know the idempotency key.

Stripe keeps an ``Idempotency-Key`` for 24 hours, then may prune it and treat the same
request as a new one. A charge therefore carries its key in the PaymentIntent's metadata
(:data:`ATTEMPT_KEY`); a retry whose earlier sending may be older than
:data:`LOOKUP_AFTER` searches for it first (the Search API: not read-after-write, a minute
behind normally, an hour at worst, which is why the hour of margin and why a younger retry
trusts the key). A refund carries ``subledger_refund_id`` and is looked up every time among
the refunds of its payment (the List API: consistent, and a refund is rare enough).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import stripe

from . import ChargeRequest, RefundRequest
from .stripe_common import get, logger, unavailable

KEY_RETENTION = timedelta(hours=24)
"""How long Stripe keeps an idempotency key at least (https://docs.stripe.com/api/idempotent_requests)."""
LOOKUP_AFTER = KEY_RETENTION - timedelta(hours=1)
"""A retry whose earlier sending may be older than this looks it up first."""
ATTEMPT_KEY = "subledger_key"
"""The PaymentIntent metadata field holding the ledger's idempotency key of the attempt."""
REFUND_KEY = "subledger_refund_id"
"""The Refund metadata field holding the ledger's idempotency key of the refund."""

# The earlier PaymentIntent that answers for an attempt: one that took the money first.
_PREFERENCE = {"succeeded": 0, "processing": 1}


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _queries(request: ChargeRequest) -> list[str]:
    """Search queries for the attempt's PaymentIntent: by its key, then (a PaymentIntent
    created before the key was in the metadata) by its invoice and attempt number. Stripe's
    query language cannot mix AND with OR, hence two queries."""
    queries = [f"metadata[{_quoted(ATTEMPT_KEY)}]:{_quoted(request.idempotency_key)}"]
    invoice_id = request.metadata.get("invoice_id")
    if invoice_id:
        queries.append(f"metadata['invoice_id']:{_quoted(invoice_id)} AND "
                       f"metadata['subledger_attempt']:{_quoted(str(request.attempt))}")
    return queries


def earlier_payment_intent(client: stripe.StripeClient, request: ChargeRequest) -> Any | None:
    """The PaymentIntent an earlier sending of this attempt created, when that sending may
    be older than Stripe's key retention; None when it is younger or there is none."""
    if not request.may_be_older_than(LOOKUP_AFTER):
        return None
    intents: list[Any] = []
    for query in _queries(request):
        try:
            found = client.v1.payment_intents.search(params={"query": query, "limit": 100})
        except stripe.StripeError as err:
            raise unavailable("charge", request.idempotency_key, err) from err
        intents = list(get(found, "data") or [])
        if intents:
            break
    if not intents:
        return None
    intent = min(intents, key=lambda i: _PREFERENCE.get(get(i, "status"), 2))
    logger.info(
        "stripe charge %s: answered by the earlier PaymentIntent %s (%s)",
        request.idempotency_key,
        get(intent, "id"),
        get(intent, "status"),
    )
    return intent


def earlier_refund(client: stripe.StripeClient, request: RefundRequest,
                   target: dict[str, Any]) -> Any | None:
    """The Refund an earlier sending of this refund made on the payment ``target``
    (``{"payment_intent": id}`` or ``{"charge": id}``), or None."""
    try:
        listed = client.v1.refunds.list(params={**target, "limit": 100})  # type: ignore[arg-type]
    except stripe.InvalidRequestError:
        return None  # an unknown payment: the refund itself answers why
    except stripe.StripeError as err:
        raise unavailable("refund", request.idempotency_key, err) from err
    for refund in get(listed, "data") or []:
        if (get(get(refund, "metadata"), REFUND_KEY)) == request.idempotency_key:
            logger.info("stripe refund %s: answered by the earlier Refund %s",
                        request.idempotency_key, get(refund, "id"))
            return refund
    return None
