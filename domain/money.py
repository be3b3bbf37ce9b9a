"""Money: integer amounts in a currency's minor unit, with an ISO 4217 code.

Exponents come from CLDR through Babel (maintained upstream), not a hand-typed table.
Derived figures that are not whole minor units are exact ``Decimal``s and are rounded only
when shown (:func:`round_minor`, :func:`round_rate`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

from babel.core import get_global
from babel.numbers import get_currency_precision

from .errors import AmountNotSettleable, AmountOutOfBounds, CurrencyMismatch, UnknownCurrency

MAX_AMOUNT = 10**12
"""Largest amount accepted from a client, in minor units (docs/http-api.md)."""

# Codes that ISO 4217 reserves for testing, precious metals and "no currency": not money a
# subscription business bills in.
_NON_MONETARY = frozenset({"XAU", "XAG", "XPT", "XPD", "XTS", "XXX", "XBA", "XBB", "XBC", "XBD",
                           "XDR", "XSU", "XUA"})


@lru_cache(maxsize=1)
def iso_currencies() -> frozenset[str]:
    """Currencies in current legal tender somewhere, per CLDR's territory data."""
    codes: set[str] = set()
    for entries in get_global("territory_currencies").values():
        for code, _start, end, tender in entries:
            if end is None and tender:
                codes.add(code)
    return frozenset(codes - _NON_MONETARY)


def normalize_currency(code: str) -> str:
    """Upper-cased ISO 4217 code, or :class:`UnknownCurrency`."""
    if not isinstance(code, str) or len(code) != 3 or code.upper() not in iso_currencies():
        raise UnknownCurrency(f"{code!r} is not an ISO 4217 currency in use")
    return code.upper()


def minor_unit_exponent(currency: str) -> int:
    """Digits after the decimal point of the currency's minor unit (USD 2, JPY 0, KWD 3)."""
    return int(get_currency_precision(normalize_currency(currency)))


def settlement_increment(currency: str) -> int:
    """The smallest step, in minor units, in which ``currency`` is charged and refunded: 10
    where the minor unit has three digits (BHD, JOD, KWD, LYD, OMR, TND), 1 elsewhere.

    Card networks settle those currencies to the hundredth of the major unit only, and the
    providers refuse a last digit other than 0 (Stripe: 5.124 KWD must be sent as 5.120).
    So the ledger never computes, nor accepts, an amount finer than this: every invoice
    total, charge and refund is then a multiple of it by construction."""
    return 10 if minor_unit_exponent(currency) == 3 else 1


def round_to_increment(value: Fraction | Decimal | int, increment: int = 1) -> int:
    """``value`` (minor units) rounded half-even to a multiple of ``increment`` (a
    :func:`settlement_increment`), once, from the exact value: how every amount the ledger
    computes (a proration line, a percent discount) is rounded."""
    return increment * round_half_even(Fraction(value) / increment)


def check_settleable(amount: int, currency: str, field: str = "amount") -> int:
    """An amount a client gives in ``currency`` must be a multiple of its
    :func:`settlement_increment` (``AmountNotSettleable`` otherwise), or it could never be
    charged or refunded as it stands."""
    increment = settlement_increment(currency)
    if amount % increment:
        raise AmountNotSettleable(
            f"{field} must be a multiple of {increment} minor units in {currency}: card payments"
            f" settle it to {minor_unit_exponent(currency) - 1} decimals, so the last of its"
            f" {minor_unit_exponent(currency)} is 0")
    return amount


def check_amount(amount: int, field: str = "amount") -> int:
    """An amount a client may send: an int in [0, 10^12] minor units."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise AmountOutOfBounds(f"{field} must be an integer number of minor units")
    if not 0 <= amount <= MAX_AMOUNT:
        raise AmountOutOfBounds(f"{field} must be between 0 and {MAX_AMOUNT} minor units")
    return amount


@dataclass(frozen=True, order=True)
class Money:
    """An integer amount of a currency's minor unit."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError("Money.amount must be an int of minor units")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def _same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} and {other.currency}")

    def to_major(self) -> Decimal:
        """The amount in major units (12345 USD cents -> Decimal('123.45'))."""
        return Decimal(self.amount).scaleb(-minor_unit_exponent(self.currency))


def exact(value: Any, field: str) -> Fraction:
    """An exact number from a message field (int, decimal string, Decimal); never a float."""
    if isinstance(value, float | bool):
        raise TypeError(f"{field} must be an int or a decimal string, not {type(value).__name__}")
    return Fraction(str(value)) if isinstance(value, Decimal) else Fraction(value)


def round_half_even(value: Fraction | Decimal) -> int:
    """Nearest integer, ties to even: how every money line is rounded to minor units."""
    if isinstance(value, Fraction):
        floor, rest = divmod(value.numerator, value.denominator)
        twice = 2 * rest
        if twice > value.denominator or (twice == value.denominator and floor % 2 == 1):
            return floor + 1
        return floor
    return int(value.to_integral_value(rounding=ROUND_HALF_EVEN))


GUARD_DIGITS = 24
"""Digits kept below the shown ones when a sum is added up by integer division."""


def round_minor_sum(parts: Mapping[int, int]) -> Decimal:
    """``round_minor`` of the sum of ``numerator / denominator`` over ``{denominator:
    numerator}``, exactly, without adding the fractions up.

    Adding thousands of fractions with unrelated denominators (revenue lines of every
    length) makes a ``Fraction`` sum's denominator grow towards their least common multiple,
    and each addition with it. Instead each part is divided once, to ``GUARD_DIGITS`` digits
    below the cent's hundredths, rounding down: the true sum then lies in
    ``[floor sum, floor sum + inexact parts)``, an interval far narrower than a hundredth.
    If no rounding boundary (a half hundredth) lies in it, that decides the rounding;
    otherwise (a true tie, or within ``10**-24`` of one) the fractions are added up exactly."""
    decided = round_minor_between(*floor_sum(parts, GUARD_DIGITS), GUARD_DIGITS)
    if decided is None:
        return _quantize(sum((Fraction(n, d) for d, n in parts.items()), Fraction(0)), 2)
    return decided


def floor_sum(parts: Mapping[int, int], digits: int) -> tuple[int, int]:
    """The sum of ``numerator / denominator`` over ``{denominator: numerator}`` as ``(low,
    width)`` for :func:`round_minor_between`: each part rounded down to ``digits`` digits
    below the hundredth, and how many of them lost something."""
    scale = 10 ** (2 + digits)
    low, width = 0, 0
    for denominator, numerator in parts.items():
        quotient, remainder = divmod(numerator * scale, denominator)
        low += quotient
        width += remainder != 0
    return low, width


def round_minor_between(low: int, width: int, digits: int) -> Decimal | None:
    """``round_minor`` of a value known to within ``width`` units of ``10**-(2 + digits)``:
    the value x 10**(2 + digits) is ``low`` when ``width`` is 0, else strictly between ``low``
    and ``low + width``. None when a rounding boundary (a half hundredth) may lie in there:
    only the exact value can decide."""
    unit = 10**digits
    hundredths, rest = divmod(low, unit)  # the value x 100 is hundredths + (rest + less than width) / unit
    half = unit // 2
    if width == 0:
        up = rest > half or (rest == half and hundredths % 2 == 1)
    elif rest + width <= half:
        up = False  # below the half-way point
    elif rest >= half and rest + width <= unit + half:
        up = True  # above it, and below the next one
    else:
        return None
    return Decimal(f"{hundredths + up}E-2")


def _quantize(value: Decimal | Fraction, places: int) -> Decimal:
    """``value`` rounded half-even to ``places`` decimals, exactly (a Fraction is rounded
    once, from its exact value, never through an intermediate Decimal)."""
    if isinstance(value, Fraction):
        scaled = round_half_even(value * 10**places)
        return Decimal(f"{scaled}E-{places}")  # exact, whatever the context precision
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def round_minor(value: Decimal | Fraction) -> Decimal:
    """A derived money figure in minor units, shown with 2 decimals, half-even ("833.33")."""
    return _quantize(value, 2)


def round_rate(value: Decimal | Fraction) -> Decimal:
    """A rate shown with 6 decimals, half-even ("0.041667")."""
    return _quantize(value, 6)


def round_places(value: Decimal | Fraction, places: int) -> Decimal:
    """``value`` rounded half-even to ``places`` decimals, exactly: where a derived figure
    leaves the ledger as a fixed-point number (an export's ``decimal128`` column)."""
    return _quantize(value, places)
