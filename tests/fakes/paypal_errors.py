"""PayPal's error documents and money objects, as the fake PayPal (``paypal.py``) answers
and reads them."""

from __future__ import annotations

import string
from decimal import Decimal
from typing import Any

from .provider_server import Answer, new_id

ID_ALPHABET = string.ascii_uppercase + string.digits
"""What PayPal's resource ids are made of."""
_ERRORS_DOC = "https://developer.paypal.com/api/rest/reference/orders/v2/errors/"


def paypal_error(status: int, name: str, message: str, detail: str | None = None,
                 description: str = "") -> Answer:
    body: dict[str, Any] = {"name": name, "message": message, "debug_id": new_id("", 13, ID_ALPHABET.lower())}
    if detail is not None:
        body["details"] = [{"issue": detail, "description": description or detail}]
        body["links"] = [{"href": _ERRORS_DOC + "#" + detail, "rel": "information_link", "method": "GET"}]
    return Answer(status, body)


def unprocessable(detail: str, description: str) -> Answer:
    return paypal_error(422, "UNPROCESSABLE_ENTITY", "The requested action could not be "
                        "performed, semantically incorrect, or failed business validation.",
                        detail, description)


def minor_units(amount: dict[str, Any]) -> tuple[int, Answer | None]:
    """PayPal's money object in cents (the fake takes two-decimal currencies and JPY)."""
    value, currency = amount.get("value"), amount.get("currency_code")
    places = 0 if currency in ("JPY", "HUF", "TWD") else 2
    try:
        decimal = Decimal(value)
    except Exception:  # noqa: BLE001 - any bad value is PayPal's 400
        decimal = Decimal("NaN")
    if not decimal.is_finite() or decimal <= 0 or -decimal.as_tuple().exponent > places:  # type: ignore[operator]
        detail = "DECIMAL_PRECISION" if decimal.is_finite() and decimal > 0 else "INVALID_PARAMETER_VALUE"
        return 0, paypal_error(422 if detail == "DECIMAL_PRECISION" else 400, "UNPROCESSABLE_ENTITY"
                               if detail == "DECIMAL_PRECISION" else "INVALID_REQUEST",
                               "The value of a field is invalid.", detail,
                               "If the currency supports decimals, only two decimal place precision is supported.")
    return int(decimal.scaleb(places)), None
