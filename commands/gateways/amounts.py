"""Amounts in the formats the providers speak, converted exactly from the ledger's minor units.

The ledger counts integer minor units with ISO 4217 exponents from Babel
(:func:`subledger.domain.money.minor_unit_exponent`). A provider wants a decimal string
(PayPal, Authorize.net) or integer subunits (Razorpay). Every conversion is exact: an amount
a provider cannot express (PayPal takes no decimals for TWD, which ISO gives two; Razorpay wants the
last of three decimals to be 0) raises :class:`UnrepresentableAmount` instead of rounding,
and the adapter answers it as a decline ``invalid_amount`` without calling the provider.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal

from subledger.domain.money import minor_unit_exponent

_DECIMAL = re.compile(r"^(0|[1-9][0-9]*)(?:\.([0-9]+))?$")


class UnrepresentableAmount(ValueError):
    """The provider cannot express this amount exactly in this currency."""


def to_decimal_string(amount: int, currency: str, *, places: int | None = None) -> str:
    """``1999`` USD -> ``"19.99"``; ``500`` JPY -> ``"500"``; ``1234`` KWD -> ``"1.234"``.

    ``places`` is how many decimals the provider takes for this currency when it takes fewer
    than the currency's exponent; the amount must then be a whole number of those units."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise UnrepresentableAmount(f"{amount!r} is not a non-negative integer of minor units")
    exponent = minor_unit_exponent(currency)
    digits = exponent if places is None else min(places, exponent)
    dropped = 10 ** (exponent - digits)
    if amount % dropped:
        raise UnrepresentableAmount(
            f"{amount} minor units of {currency} is not a whole number of units with "
            f"{digits} decimals"
        )
    whole, fraction = divmod(amount // dropped, 10**digits)
    return f"{whole}.{fraction:0{digits}d}" if digits else str(whole)


def from_decimal_string(text: str, currency: str) -> int:
    """The inverse of :func:`to_decimal_string`: ``"19.99"`` USD -> ``1999``. A value with
    more decimals than the currency has, or not a plain decimal, raises ValueError."""
    match = _DECIMAL.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not a decimal amount")
    exponent = minor_unit_exponent(currency)
    fraction = (match[2] or "").rstrip("0")
    if len(fraction) > exponent:
        raise ValueError(f"{text!r} has more decimals than {currency} has ({exponent})")
    return int(Decimal(match[0]).scaleb(exponent))


def to_subunits(amount: int, currency: str, *, last_digit_zero_from: int = 3) -> int:
    """Razorpay's "amount in currency subunits": the ledger's minor units, except that for a
    currency with ``last_digit_zero_from`` decimals or more the last one must be 0 (Razorpay
    says so of KWD, BHD and OMR: 295.991 cannot be charged, 295.990 is sent as 295990)."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise UnrepresentableAmount(f"{amount!r} is not a non-negative integer of minor units")
    if minor_unit_exponent(currency) >= last_digit_zero_from and amount % 10:
        raise UnrepresentableAmount(
            f"{amount} minor units of {currency}: the provider takes the last decimal as 0 only"
        )
    return amount


def derived_reference(idempotency_key: str, max_length: int, prefix: str = "sl") -> str:
    """A provider-side reference derived from the ledger's idempotency key, at most
    ``max_length`` characters (Razorpay's receipt: 40; Authorize.net's refId and invoice
    number: 20): the key itself when it fits, else ``prefix`` + the first hex digits of its
    SHA-256. The same decision always gives the same reference."""
    if len(idempotency_key) <= max_length:
        return idempotency_key
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()
    return prefix + digest[: max_length - len(prefix)]
