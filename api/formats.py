"""How pages and documents show money and days: from integer minor units with the
currency's exponent (``USD 1,234.50``, ``JPY 1,500``), never through a float; days in UTC.

The one Jinja2 environment (:func:`.pages.templates`) has both as filters."""

from __future__ import annotations

from datetime import datetime

from subledger.domain.money import Money
from subledger.domain.time import parse_instant


def money(amount: int, currency: str) -> str:
    """``USD 1,234.50`` from 123450 (the currency's exponent; a negative amount ``USD -5.00``)."""
    return f"{currency} {Money(amount, currency).to_major():,}"


def day(instant: datetime | str | None) -> str:
    return "" if instant is None else parse_instant(instant).date().isoformat()
