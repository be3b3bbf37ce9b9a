"""Finding what an earlier sending of a charge or refund did at Stripe, by the ledger's own
reference on it, for when Stripe may no longer know the idempotency key.

Stripe keeps an ``Idempotency-Key`` for 24 hours, then may prune it and treat the same
request as a new one. A charge therefore carries its key in the PaymentIntent's metadata
(:data:`ATTEMPT_KEY`); a retry whose earlier sending may be older than
:data:`LOOKUP_AFTER` looks for it first (:class:`EarlierPaymentIntents`):

- through the Search API: two reads at most, but not read-after-write (a minute behind
  normally, an hour at worst, which is why the hour of margin and why a younger retry
  trusts the key);
- through the List API where the account has no Search (Stripe offers it to no account in
  India): the PaymentIntents created since the attempt could first have been sent (and of
  the Customer the ledger charges, when it names one), newest first, read-after-write
  consistent, but one read per :data:`LIST_PAGE_LIMIT` of them, at most
  :data:`LIST_MAX_PAGES`.

Both look for the same metadata (:func:`_wanted`). A refund carries ``subledger_refund_id``
and is looked up every time among the refunds of its payment (the List API: consistent, and
a refund is rare enough).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import stripe

from . import ChargeRequest, GatewayUnavailable, RefundRequest
from .stripe_common import describe, get, logger, split_token, unavailable

KEY_RETENTION = timedelta(hours=24)
"""How long Stripe keeps an idempotency key at least (https://docs.stripe.com/api/idempotent_requests)."""
LOOKUP_AFTER = KEY_RETENTION - timedelta(hours=1)
"""A retry whose earlier sending may be older than this looks it up first."""
ATTEMPT_KEY = "subledger_key"
"""The PaymentIntent metadata field holding the ledger's idempotency key of the attempt."""
REFUND_KEY = "subledger_refund_id"
"""The Refund metadata field holding the ledger's idempotency key of the refund."""
LIST_PAGE_LIMIT = 100
"""Stripe's largest page."""
LIST_MAX_PAGES = 20
"""At most 2,000 PaymentIntents listed for one look-up: some ten seconds of reads at
Stripe's pace, under the billing clock's patience, and more than a Customer's in any span
a retry is late by. An account making more than that between an attempt falling due and
its retry, with tokens naming no Customer, has its late retries wait for an operator."""

# The earlier PaymentIntent that answers for an attempt: one that took the money first.
_PREFERENCE = {"succeeded": 0, "processing": 1}


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _wanted(request: ChargeRequest) -> list[dict[str, str]]:
    """The metadata the attempt's PaymentIntent carries, in order of preference: its key;
    or (a PaymentIntent created before the key was in the metadata) its invoice and attempt
    number. The first of these that any PaymentIntent carries decides."""
    wanted = [{ATTEMPT_KEY: request.idempotency_key}]
    invoice_id = request.metadata.get("invoice_id")
    if invoice_id:
        wanted.append({"invoice_id": invoice_id, "subledger_attempt": str(request.attempt)})
    return wanted


def _query(metadata: dict[str, str]) -> str:
    # Stripe's query language cannot mix AND with OR: one query per entry of _wanted.
    return " AND ".join(f"metadata[{_quoted(k)}]:{_quoted(v)}" for k, v in metadata.items())


def _carries(intent: Any, metadata: dict[str, str]) -> bool:
    carried = get(intent, "metadata")
    return all(get(carried, key) == value for key, value in metadata.items())


def _search_missing(err: stripe.StripeError) -> bool:
    """Whether Stripe refused a search because the account has none. Stripe documents no
    code for it; merchants in India report a 400 ``invalid_request_error`` naming no
    parameter ("The search feature is temporarily unavailable in your region"). A refusal
    naming the query or the limit is the ledger's own bug and stays one; a 403 (a restricted
    key allowed to list but not to search) is answered by the list as well."""
    if isinstance(err, stripe.PermissionError):
        return True
    return isinstance(err, stripe.InvalidRequestError) and err.http_status == 400 \
        and get(err.error, "param") not in ("query", "limit")


class EarlierPaymentIntents:
    """The PaymentIntent an earlier sending of an attempt created. Once Stripe refuses a
    search for want of Search, this process lists instead: an account's country, and so its
    Search, does not change under it."""

    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client
        self._search_missing = False

    def find(self, request: ChargeRequest) -> Any | None:
        """The PaymentIntent an earlier sending of this attempt created, when that sending
        may be older than Stripe's key retention; None when it is younger or there is none."""
        if not request.may_be_older_than(LOOKUP_AFTER):
            return None
        wanted = _wanted(request)
        intents = None if self._search_missing else self._searched(request, wanted)
        if intents is None:
            intents = self._listed(request, wanted)
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

    def _searched(self, request: ChargeRequest, wanted: list[dict[str, str]]) -> list[Any] | None:
        """What the Search API finds; None when the account has no Search."""
        for metadata in wanted:
            try:
                found = self._client.v1.payment_intents.search(
                    params={"query": _query(metadata), "limit": LIST_PAGE_LIMIT})
            except stripe.StripeError as err:
                if not _search_missing(err):
                    raise unavailable("charge", request.idempotency_key, err) from err
                self._search_missing = True
                logger.warning("stripe charge %s: search refused (%s); this process lists "
                               "PaymentIntents instead", request.idempotency_key, describe(err))
                return None
            intents = list(get(found, "data") or [])
            if intents:
                return intents
        return []

    def _listed(self, request: ChargeRequest, wanted: list[dict[str, str]]) -> list[Any]:
        """What the List API finds, page after page, newest first."""
        params: dict[str, Any] = {"limit": LIST_PAGE_LIMIT}
        earliest = request.earliest_sending()
        if earliest is not None:
            params["created"] = {"gte": int(earliest.timestamp())}
        customer, _ = split_token(request.token)
        if customer is not None:
            params["customer"] = customer
        found: list[list[Any]] = [[] for _ in wanted]
        for _ in range(LIST_MAX_PAGES):
            try:
                page = self._client.v1.payment_intents.list(params=params)  # type: ignore[arg-type]
            except stripe.StripeError as err:
                raise unavailable("charge", request.idempotency_key, err) from err
            intents = list(get(page, "data") or [])
            for intent in intents:
                for metadata, matched in zip(wanted, found, strict=True):
                    if _carries(intent, metadata):
                        matched.append(intent)
            if not intents or not get(page, "has_more"):
                return next((matched for matched in found if matched), [])
            params["starting_after"] = get(intents[-1], "id")
        logger.error(
            "stripe charge %s: more than %d PaymentIntents to list since %s for an earlier "
            "sending; not sent. Find it in the Dashboard (metadata subledger_key) and record "
            "it with POST /invoices/{invoice_id}/payments",
            request.idempotency_key, LIST_MAX_PAGES * LIST_PAGE_LIMIT, earliest,
        )
        raise GatewayUnavailable(
            f"stripe charge: more than {LIST_MAX_PAGES * LIST_PAGE_LIMIT} PaymentIntents "
            "to list for an earlier sending"
        )


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
