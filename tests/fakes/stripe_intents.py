"""FakeStripe's ``POST /v1/payment_intents``: a PaymentIntent created, and confirmed with one
of Stripe's test payment methods (see ``stripe.py``)."""

from __future__ import annotations

import json
import secrets
from typing import Any

from .stripe_errors import error_body
from .stripe_errors import require as _require
from .stripe_errors import require_positive_int as _require_positive_int
from .stripe_http import Answer as _Answer
from .stripe_http import new_id as _new_id

DECLINES: dict[str, tuple[str, str, str]] = {
    # payment method -> (code, decline_code, message)
    "pm_card_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
}


def create_payment_intent(
    intents: dict[str, dict[str, Any]], params: dict[str, str], now: float
) -> _Answer:
    """Stripe's ``POST /v1/payment_intents``: the intent is kept in ``intents``."""
    invalid = _require_positive_int(params, "amount") or _require(params, "currency")
    if invalid is not None:
        return invalid
    payment_method = params.get("payment_method")
    confirm = params.get("confirm") == "true"
    metadata = {
        key[len("metadata[") : -1]: value
        for key, value in params.items()
        if key.startswith("metadata[") and key.endswith("]")
    }
    if payment_method is not None and not (
        payment_method in DECLINES
        or payment_method
        in ("pm_card_visa", "pm_card_authenticationRequired", "pm_fake_processing")
    ):
        return _Answer(
            400,
            error_body(
                "invalid_request_error",
                f"No such PaymentMethod: '{payment_method}'",
                code="resource_missing",
                param="payment_method",
            ),
        )
    intent_id = _new_id("pi")
    amount = int(params["amount"])
    intent: dict[str, Any] = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": 0,
        "automatic_payment_methods": (
            {
                "enabled": params.get("automatic_payment_methods[enabled]") == "true",
                "allow_redirects": params.get(
                    "automatic_payment_methods[allow_redirects]", "always"
                ),
            }
            if "automatic_payment_methods[enabled]" in params
            else None
        ),
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
        "confirmation_method": "automatic",
        "created": int(now),
        "currency": params["currency"].lower(),
        "customer": params.get("customer"),
        "description": params.get("description"),
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": metadata,
        "next_action": None,
        "payment_method": payment_method,
        "payment_method_types": ["card"],
        "status": "requires_payment_method"
        if payment_method is None
        else "requires_confirmation",
    }
    intents[intent_id] = intent
    if not confirm or payment_method is None:
        return _Answer(200, json.loads(json.dumps(intent)))

    if payment_method in DECLINES:
        code, decline_code, message = DECLINES[payment_method]
        charge_id = _new_id("ch")
        error = error_body(
            "card_error",
            message,
            code=code,
            decline_code=decline_code,
            charge=charge_id,
            payment_method={"id": payment_method, "object": "payment_method", "type": "card"},
            request_log_url=f"https://dashboard.stripe.com/test/logs/{_new_id('req')}",
        )["error"]
        intent["status"] = "requires_payment_method"
        intent["latest_charge"] = charge_id
        intent["last_payment_error"] = {
            k: v for k, v in error.items() if k != "request_log_url"
        }
        error["payment_intent"] = json.loads(json.dumps(intent))
        return _Answer(402, {"error": error})

    if payment_method == "pm_card_authenticationRequired":
        intent["status"] = "requires_action"
        intent["next_action"] = {
            "type": "use_stripe_sdk",
            "use_stripe_sdk": {"type": "three_d_secure_redirect"},
        }
    elif payment_method == "pm_fake_processing":
        intent["status"] = "processing"
        intent["latest_charge"] = _new_id("ch")
    else:
        intent["status"] = "succeeded"
        intent["amount_received"] = amount
        intent["latest_charge"] = _new_id("ch")
    return _Answer(200, json.loads(json.dumps(intent)))
