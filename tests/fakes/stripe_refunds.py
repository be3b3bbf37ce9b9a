"""FakeStripe's ``POST /v1/refunds``: a refund of a succeeded PaymentIntent, at most what is
left of it after earlier refunds."""

from __future__ import annotations

import json
from typing import Any

from .stripe_errors import error_body
from .stripe_errors import money as _money
from .stripe_errors import require_positive_int as _require_positive_int
from .stripe_http import Answer as _Answer
from .stripe_http import new_id as _new_id

REFUND_REASONS = {"duplicate", "fraudulent", "requested_by_customer"}


def create_refund(
    intents: dict[str, dict[str, Any]],
    refunds: dict[str, dict[str, Any]],
    refunded: dict[str, int],
    params: dict[str, str],
    now: float,
) -> _Answer:
    """Stripe's ``POST /v1/refunds``: the refund is kept in ``refunds``, the amount refunded
    of each intent in ``refunded``."""
    intent_id = params.get("payment_intent")
    charge_id = params.get("charge")
    if intent_id is None and charge_id is None:
        return _Answer(
            400,
            error_body(
                "invalid_request_error",
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
                code="parameter_missing",
            ),
        )
    if intent_id is None:
        intent_id = next(
            (i["id"] for i in intents.values() if i["latest_charge"] == charge_id),
            None,
        )
        param, missing = "charge", charge_id
    else:
        param, missing = "payment_intent", intent_id
    intent = intents.get(intent_id) if intent_id else None
    if intent is None:
        return _Answer(
            400,
            error_body(
                "invalid_request_error",
                f"No such {param}: '{missing}'",
                code="resource_missing",
                param=param,
            ),
        )
    if intent["status"] != "succeeded":
        return _Answer(
            400,
            error_body(
                "invalid_request_error",
                "This PaymentIntent does not have a successful charge to refund.",
                code="payment_intent_unexpected_state",
                param="payment_intent",
            ),
        )
    reason = params.get("reason")
    if reason is not None and reason not in REFUND_REASONS:
        return _Answer(
            400,
            error_body(
                "invalid_request_error",
                f"Invalid reason: must be one of {', '.join(sorted(REFUND_REASONS))}",
                code="parameter_invalid_string",
                param="reason",
            ),
        )
    left = intent["amount_received"] - refunded.get(intent["id"], 0)
    if left <= 0:
        return _Answer(
            400,
            error_body(
                "invalid_request_error",
                f"Charge {intent['latest_charge']} has already been refunded.",
                code="charge_already_refunded",
            ),
        )
    if "amount" in params:
        invalid = _require_positive_int(params, "amount")
        if invalid is not None:
            return invalid
        amount = int(params["amount"])
    else:
        amount = left
    if amount > left:
        return _Answer(
            400,
            error_body(
                "invalid_request_error",
                f"Refund amount ({_money(amount)}) is greater than unrefunded amount on "
                f"charge ({_money(left)})",
                code="amount_too_large",
                param="amount",
            ),
        )
    refunded[intent["id"]] = refunded.get(intent["id"], 0) + amount
    refund_id = _new_id("re")
    refund = {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": _new_id("txn"),
        "charge": intent["latest_charge"],
        "created": int(now),
        "currency": intent["currency"],
        "destination_details": {"card": {"type": "refund"}, "type": "card"},
        "metadata": {
            key[len("metadata[") : -1]: value
            for key, value in params.items()
            if key.startswith("metadata[") and key.endswith("]")
        },
        "payment_intent": intent["id"],
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }
    refunds[refund_id] = refund
    return _Answer(200, json.loads(json.dumps(refund)))

