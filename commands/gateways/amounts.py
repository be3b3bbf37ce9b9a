"""Amounts in the formats the providers speak, converted exactly from the ledger's minor units.

The ledger counts integer minor units with the exponents of Babel (CLDR's digits:
:func:`subledger.domain.money.minor_unit_exponent`; HUF, IDR, ISK and COP have none there,
though ISO 4217 gives them two). A provider wants a decimal string (PayPal, Authorize.net),
integer subunits (Razorpay), or integers in its own exponent for each currency (Stripe). Every conversion is exact: an amount
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


STRIPE_ZERO_DECIMAL = frozenset(
    "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
"""Stripe's zero-decimal currencies; ``BHD JOD KWD OMR TND`` take three decimals, every other
currency two (ISK and HUF too: ``100`` is one króna or forint there)."""
STRIPE_THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())


def stripe_exponent(currency: str) -> int:
    """The decimals of Stripe's integer amounts in ``currency``."""
    code = currency.upper()
    return 0 if code in STRIPE_ZERO_DECIMAL else 3 if code in STRIPE_THREE_DECIMAL else 2


def to_stripe_amount(amount: int, currency: str) -> int:
    """The ledger's minor units as Stripe's integer amount: ``5000`` HUF (forints) ->
    ``500000``; ``1999`` USD -> ``1999``. A three-decimal currency's last digit must be 0
    (Stripe's rule for card payments)."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise UnrepresentableAmount(f"{amount!r} is not a non-negative integer of minor units")
    shift = stripe_exponent(currency) - minor_unit_exponent(currency)
    if shift < 0 and amount % 10**-shift:
        raise UnrepresentableAmount(
            f"{amount} minor units of {currency} has more decimals than Stripe takes")
    scaled = amount * 10**shift if shift >= 0 else amount // 10**-shift
    if stripe_exponent(currency) == 3 and scaled % 10:
        raise UnrepresentableAmount(
            f"{amount} minor units of {currency}: Stripe takes the last decimal as 0 only")
    return scaled


def from_stripe_amount(amount: int, currency: str) -> int:
    """The inverse of :func:`to_stripe_amount`: Stripe's ``500000`` HUF -> ``5000``. An
    amount finer than the ledger's minor unit raises ValueError."""
    shift = stripe_exponent(currency) - minor_unit_exponent(currency)
    if shift <= 0:
        return amount * 10**-shift
    if amount % 10**shift:
        raise ValueError(f"{amount} of {currency} in Stripe's units is finer than the ledger's")
    return amount // 10**shift


def derived_reference(idempotency_key: str, max_length: int, prefix: str = "sl") -> str:
    """A provider-side reference derived from the ledger's idempotency key, at most
    ``max_length`` characters (Razorpay's receipt: 40; Authorize.net's refId and invoice
    number: 20): the key itself when it fits, else ``prefix`` + the first hex digits of its
    SHA-256. The same decision always gives the same reference."""
    if len(idempotency_key) <= max_length:
        return idempotency_key
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()
    return prefix + digest[: max_length - len(prefix)]
