"""What the ``stripe`` adapter's modules share: reading Stripe's objects and its error map."""

from __future__ import annotations

import logging
from typing import Any

import stripe

from . import GatewayUnavailable

# One logger for the whole adapter, however its code is split across modules: operators
# (and alerting rules) filter on this name.
logger = logging.getLogger("subledger.commands.gateways.stripe")

# Stripe's limit on metadata values.
METADATA_VALUE_MAX = 500


def split_token(token: str) -> tuple[str | None, str]:
    """``cus_X:pm_Y`` -> (``cus_X``, ``pm_Y``); a bare ``pm_Y`` -> (None, ``pm_Y``)."""
    customer, sep, payment_method = token.partition(":")
    if sep and customer.startswith("cus_") and payment_method:
        return customer, payment_method
    return None, token


def get(obj: Any, name: str) -> Any:
    """An attribute of a StripeObject (or a key of a plain dict), None when absent."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    try:
        return obj[name]
    except (KeyError, TypeError, AttributeError):
        return getattr(obj, name, None)


def describe(err: stripe.StripeError) -> str:
    error = err.error
    parts = [type(err).__name__]
    if err.http_status is not None:
        parts.append(f"HTTP {err.http_status}")
    for label in ("type", "code", "param"):
        value = get(error, label)
        if value:
            parts.append(f"{label}={value}")
    if err.request_id:
        parts.append(f"request_id={err.request_id}")
    return f"{' '.join(parts)}: {err.user_message or '<no message>'}"


def unavailable(operation: str, key: str, err: stripe.StripeError) -> GatewayUnavailable:
    """The port's error for a Stripe error that is no result, logged by its kind."""
    description = describe(err)
    transient = isinstance(err, stripe.APIConnectionError | stripe.RateLimitError) or (
        err.http_status is not None and (err.http_status >= 500 or err.http_status == 409)
    )
    if transient:
        logger.warning("stripe %s %s: unavailable: %s", operation, key, description)
    else:
        # Authentication, permission, idempotency-key misuse, malformed request: a bug
        # or a misconfiguration that no retry will cure; nothing is recorded meanwhile.
        logger.error(
            "stripe %s %s: refused, check the configuration: %s", operation, key, description
        )
    return GatewayUnavailable(f"stripe {operation}: {description}")
