"""Refunds of the ``stripe`` gateway: a Refund of the PaymentIntent (or Charge), under the
refund's idempotency key. How Stripe's answers map onto the port is in ``stripe.py``."""

from __future__ import annotations

from typing import Any

import stripe

from . import RefundRequest, RefundResult
from .amounts import UnrepresentableAmount, to_stripe_amount
from .stripe_common import METADATA_VALUE_MAX, describe, get, logger, unavailable
from .stripe_lookup import REFUND_KEY, earlier_refund

# Stripe's enum for Refund.reason; any other reason goes to the refund's metadata.
_STRIPE_REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})

# Invalid-request codes with which Stripe refuses a refund on its merits: a result, not a bug.
_REFUND_REFUSAL_CODES = frozenset(
    {
        "amount_too_large",
        "amount_too_small",
        "charge_already_refunded",
        "charge_disputed",
        "refund_disputed_payment",
        "charge_not_refundable",
        "payment_intent_unexpected_state",
        "resource_missing",
    }
)
_REFUND_REFUSAL_PARAMS = frozenset({"amount", "payment_intent", "charge"})


def _refund_params(request: RefundRequest) -> dict[str, Any] | None:
    """Stripe's parameters of a refund (None: an amount Stripe cannot take)."""
    try:
        amount = to_stripe_amount(request.amount, request.currency)
    except UnrepresentableAmount:
        return None
    if amount <= 0:
        return None
    ref = request.charge_gateway_ref
    params: dict[str, Any] = {"amount": amount}
    # A payment recorded by hand may carry a Charge id rather than a PaymentIntent id.
    params["charge" if ref.startswith(("ch_", "py_")) else "payment_intent"] = ref
    # Stripe announces every refund (refund.created), this one too: the metadata tells the
    # ledger's inbound events that it is the ledger's own (stripe_events.py).
    params["metadata"] = {REFUND_KEY: request.idempotency_key[:METADATA_VALUE_MAX]}
    if request.reason in _STRIPE_REFUND_REASONS:
        params["reason"] = request.reason
    elif request.reason:
        params["metadata"]["subledger_reason"] = request.reason[:METADATA_VALUE_MAX]
    return params


def refund(client: stripe.StripeClient, request: RefundRequest) -> RefundResult:
    """Refund through Stripe; see the ``stripe`` module's docstring for the mapping."""
    params = _refund_params(request)
    if params is None:
        return RefundResult(succeeded=False, gateway_ref=None, failure_code="invalid_amount")
    # Stripe may have forgotten the key of an earlier sending (24 hours): its refund, found
    # among the payment's by the ledger's metadata, is the answer.
    target = {name: params[name] for name in ("payment_intent", "charge") if name in params}
    earlier = earlier_refund(client, request, target)
    if earlier is not None:
        return refund_result(request, earlier)
    try:
        created = client.v1.refunds.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": request.idempotency_key},
        )
    except (stripe.InvalidRequestError, stripe.CardError) as err:
        code = err.code or get(err.error, "code")
        param = get(err.error, "param")
        if (
            isinstance(err, stripe.CardError)
            or code in _REFUND_REFUSAL_CODES
            or param in _REFUND_REFUSAL_PARAMS
        ):
            logger.info("stripe refund %s refused: %s", request.idempotency_key, describe(err))
            return RefundResult(
                succeeded=False,
                gateway_ref=None,
                failure_code=code or f"invalid_{param or 'request'}",
            )
        raise unavailable("refund", request.idempotency_key, err) from err
    except stripe.StripeError as err:
        raise unavailable("refund", request.idempotency_key, err) from err
    return refund_result(request, created)


def refund_result(request: RefundRequest, created: Any) -> RefundResult:
    """The port's answer for a Stripe Refund object."""
    status = get(created, "status")
    refund_id = get(created, "id")
    currency = get(created, "currency")
    if currency and currency.lower() != request.currency.lower():
        logger.error(
            "stripe refund %s: Stripe refunded in %s, the ledger asked for %s",
            request.idempotency_key,
            currency,
            request.currency,
        )
    if status in ("succeeded", "pending"):
        return RefundResult(succeeded=True, gateway_ref=refund_id)
    failure = get(created, "failure_reason") or status or "failed"
    logger.info(
        "stripe refund %s failed: Refund %s status %s (%s)",
        request.idempotency_key,
        refund_id,
        status,
        failure,
    )
    return RefundResult(succeeded=False, gateway_ref=refund_id, failure_code=failure)
