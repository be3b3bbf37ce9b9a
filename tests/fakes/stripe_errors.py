"""Stripe's error bodies, and the checks of required parameters and of the secret key, for
FakeStripe."""

from __future__ import annotations

from typing import Any

from .stripe_http import Answer as _Answer

TEST_KEY_PREFIX = "sk_test_"


def error_body(
    type_: str,
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    decline_code: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Stripe's error object: ``{"error": {"type", "message", "code"?, "param"?, ...}}``."""
    error: dict[str, Any] = {"type": type_, "message": message}
    if code is not None:
        error["code"] = code
        error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if decline_code is not None:
        error["decline_code"] = decline_code
    if param is not None:
        error["param"] = param
    error.update(extra)
    return {"error": error}


def card_error(
    code: str, decline_code: str | None = None, message: str = "Your card was declined."
) -> dict[str, Any]:
    """A 402 body, for :meth:`FakeStripe.fail_next` (``status=402``)."""
    return error_body("card_error", message, code=code, decline_code=decline_code or code)


def money(minor: int) -> str:
    return f"${minor / 100:.2f}"


def require(params: dict[str, str], name: str) -> _Answer | None:
    if params.get(name):
        return None
    return _Answer(
        400,
        error_body(
            "invalid_request_error",
            f"Missing required param: {name}.",
            code="parameter_missing",
            param=name,
        ),
    )


def require_positive_int(params: dict[str, str], name: str) -> _Answer | None:
    missing = require(params, name)
    if missing is not None:
        return missing
    value = params[name]
    if not value.isdigit() or int(value) <= 0:
        return _Answer(
            400,
            error_body(
                "invalid_request_error",
                f"Invalid positive integer: {name}",
                code="parameter_invalid_integer",
                param=name,
            ),
        )
    return None


def check_auth(authorization: str | None) -> _Answer | None:
    """Stripe's 401 for a missing or malformed secret key; None for a test key."""
    if not authorization:
        return _Answer(
            401,
            error_body(
                "invalid_request_error",
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY').",
            ),
        )
    scheme, _, key = authorization.partition(" ")
    if (
        scheme != "Bearer"
        or not key.startswith(TEST_KEY_PREFIX)
        or len(key) <= len(TEST_KEY_PREFIX)
    ):
        # Stripe's 401 carries type invalid_request_error; the SDK maps 401 to
        # AuthenticationError.
        masked = key[:8] + "*" * max(len(key) - 12, 0) + key[-4:] if len(key) > 12 else "****"
        return _Answer(
            401, error_body("invalid_request_error", f"Invalid API Key provided: {masked}")
        )
    return None
