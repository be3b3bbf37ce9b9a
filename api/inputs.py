"""The types of what clients send: each one checked by the domain's own rule at the edge and
published in the OpenAPI document with that rule's pattern and bounds, so a request the
schema allows is one the ledger accepts (rules that depend on the ledger's state or clock
are said in the descriptions).

Amounts are strict integers (a JSON number with a fraction is refused, never rounded);
times and days are text in one written form (a number is not a time).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, StrictInt, StrictStr, WithJsonSchema

from subledger.contract.envelope import EVENT_TYPES
from subledger.domain import text
from subledger.domain.coupons import PERCENT, parse_percent
from subledger.domain.errors import (
    AmountOutOfBounds,
    InvalidInput,
    UnknownCurrency,
    UnknownEventTypeName,
)
from subledger.domain.lifecycle import MAX_QUANTITY, check_quantity
from subledger.domain.money import MAX_AMOUNT, check_amount, iso_currencies
from subledger.domain.time import DATE, INSTANT, written_day, written_instant


def _as_field_error(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The domain's check, its refusal reported as the field's validation error."""

    def validate(value: Any) -> Any:
        try:
            return check(value)
        except InvalidInput as refused:
            raise ValueError(refused.detail) from None

    return validate


UUID_TEXT = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
"""An id as the API writes it (and reads it): hyphenated, 36 characters."""


def uuid_text(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(UUID_TEXT, value):
        raise ValueError("an id is a UUID written with hyphens, 36 characters")
    return value.lower()


Uuid = Annotated[StrictStr, AfterValidator(uuid_text),
                 WithJsonSchema({"type": "string", "format": "uuid", "pattern": UUID_TEXT})]


def _encodable(value: str) -> str:
    """Text must be valid Unicode (a lone surrogate such as "\\ud800" cannot be stored)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return value


def _text(schema: dict[str, Any]) -> Any:
    """Text whose rule the domain checks when the command runs (its refusal keeps the
    rule's own problem type); the schema publishes the same rule."""
    return Annotated[StrictStr, AfterValidator(_encodable),
                     WithJsonSchema({"type": "string", **schema})]


def _positive_amount(value: int) -> int:
    if check_amount(value) == 0:
        raise AmountOutOfBounds(f"the amount must be between 1 and {MAX_AMOUNT} minor units")
    return value


def _currency(value: Any) -> str:
    if value not in iso_currencies():
        raise UnknownCurrency(f"{value!r} is not an ISO 4217 currency in use (in capitals)")
    return value


def _checked(check: Callable[[Any], Any], schema: dict[str, Any]) -> Any:
    """Text the domain's ``check`` accepts, checked at the edge (a query parameter runs no
    command that would check it), its refusal reported as the parameter's validation
    error; the schema publishes the same rule."""
    return Annotated[StrictStr, AfterValidator(_encodable), AfterValidator(_as_field_error(check)),
                     WithJsonSchema({"type": "string", **schema})]


Identifier = _text({"pattern": text.IDENTIFIER, "maxLength": 64})
Name = _text({"minLength": 1, "maxLength": text.MAX_NAME, "pattern": text.NAME})
ExternalRef = _text({"minLength": 1, "maxLength": text.MAX_NAME, "pattern": text.REFERENCE})
Reference = _text({"minLength": 1, "maxLength": text.MAX_REFERENCE, "pattern": text.REFERENCE})
Comment = _text({"maxLength": text.MAX_COMMENT, "pattern": text.FREE_TEXT})
Reason = _text({"minLength": 1, "maxLength": text.MAX_COMMENT, "pattern": text.REASON})
Email = _text({"maxLength": text.MAX_EMAIL, "pattern": text.EMAIL})
IdentifierFilter = _checked(lambda v: text.check_identifier(v, "plan_id"),
                            {"pattern": text.IDENTIFIER, "maxLength": 64})
EmailFilter = _checked(text.check_email, {"maxLength": text.MAX_EMAIL, "pattern": text.EMAIL})
ReferenceFilter = _checked(lambda v: text.check_reference(v, "external_ref"),
                           {"minLength": 1, "maxLength": text.MAX_REFERENCE,
                            "pattern": text.REFERENCE})
Currency = Annotated[StrictStr, AfterValidator(_currency), WithJsonSchema(
    {"type": "string", "enum": sorted(iso_currencies()),
     "description": "ISO 4217 code in use, in capitals"})]

Instant = Annotated[datetime, BeforeValidator(_as_field_error(written_instant)), WithJsonSchema(
    {"type": "string", "format": "date-time", "pattern": INSTANT,
     "description": "RFC 3339 with seconds and a UTC offset, on a day from 1970-01-01 to"
                    " 2199-12-31 both as written and in UTC"})]
"""RFC 3339 with seconds and an offset, on a day from 1970 to 2199 as written and in UTC (the
pattern sees the written day; which offsets move an instant of the first or last day out of
the range it cannot practically say, so the description does)."""
Day = Annotated[date, BeforeValidator(_as_field_error(written_day)), WithJsonSchema(
    {"type": "string", "format": "date", "pattern": DATE})]
"""YYYY-MM-DD, from 1970-01-01 to 2199-12-31."""


_WHOLE_DIGITS = 4300
"""The most digits a whole number written with a point or an exponent may have to be read as
one: Python's own limit on an integer literal, so ``1e30`` answers as ``10**30`` written out
does (out of bounds), and ``1e999999999`` is not expanded into a billion digits."""


def _whole(value: Any) -> Any:
    """A JSON number, read exactly (``json_bodies``), with nothing after its point (``1900.0``,
    ``1e3``) is the whole number it writes, as JSON Schema's ``integer`` says; any other stays
    a decimal, refused, never rounded (``1899.9999999999999999`` is not 1900)."""
    if (isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value()
            and value.adjusted() < _WHOLE_DIGITS):
        return int(value)
    return value


def bounded(low: int, high: int, check: Callable[[Any], Any] | None = None) -> Any:
    """A whole number from ``low`` to ``high`` (checked by the domain's ``check`` if given,
    so its refusal keeps the rule's own problem type)."""
    checks = [AfterValidator(check)] if check is not None else []
    return Annotated[StrictInt, BeforeValidator(_whole), *checks,
                     WithJsonSchema({"type": "integer", "minimum": low, "maximum": high})]


Amount = bounded(0, MAX_AMOUNT, check_amount)
"""Minor units, 0 to 10^12."""
PositiveAmount = bounded(1, MAX_AMOUNT, _positive_amount)
Quantity = bounded(1, MAX_QUANTITY, check_quantity)


def _nonzero_amount(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value == 0 \
            or not -MAX_AMOUNT <= value <= MAX_AMOUNT:
        raise AmountOutOfBounds(f"the amount must be a whole number of minor units from"
                                f" -{MAX_AMOUNT} to {MAX_AMOUNT}, not 0")
    return value


SignedAmount = Annotated[StrictInt, BeforeValidator(_whole), AfterValidator(_nonzero_amount),
                         WithJsonSchema({"type": "integer", "minimum": -MAX_AMOUNT,
                                         "maximum": MAX_AMOUNT, "not": {"const": 0}})]
"""Minor units, positive or negative, never 0."""


def _percent(value: Any) -> Decimal:
    value = _whole(value)
    if isinstance(value, int) and not isinstance(value, bool) and not 1 <= value <= 100:
        raise InvalidInput("percent_off must be more than 0 and at most 100")
    if not isinstance(value, int | str):
        raise InvalidInput("percent_off must be a whole number or a decimal written as text")
    return parse_percent(value)


Percent = Annotated[Decimal, BeforeValidator(_percent), WithJsonSchema({"anyOf": [
    {"type": "integer", "minimum": 1, "maximum": 100},
    {"type": "string", "pattern": PERCENT}]})]
"""A whole number from 1 to 100, or a decimal written as text ("12.5"); never a number with a
fraction."""


def _event_type(value: str) -> str:
    if value not in EVENT_TYPES:
        raise UnknownEventTypeName(f"unknown event type {value!r}; known: {', '.join(EVENT_TYPES)}")
    return value


EventType = Annotated[StrictStr, AfterValidator(_event_type),
                      WithJsonSchema({"enum": list(EVENT_TYPES)})]
