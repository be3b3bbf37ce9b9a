"""The text forms the read models store instants and exact amounts in, and the end of
recorded time: what makes their bitemporal rows comparable as text on both databases."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction

from subledger.domain.time import UTC

FOREVER = "9999-12-31T23:59:59.999999Z"
"""The end of recorded time: the `recorded_to` of a row still believed."""


def sortable(instant: datetime | str) -> str:
    """Fixed-width UTC text, so that text order is time order on both databases."""
    if isinstance(instant, str):
        if (len(instant) == 27 and instant[26] == "Z" and instant[19] == "." and instant[10] == "T"
                and instant[4] == "-" and instant[7] == "-" and instant[13] == ":" and instant[16] == ":"):
            # Already the form (an envelope's instant with its microseconds): what the long
            # way would write, once it is known to be a real instant.
            datetime.fromisoformat(instant[:26])
            return instant
        instant = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    # ``isoformat`` writes the same text as ``strftime("%Y-%m-%dT%H:%M:%S.%fZ")`` for the
    # ledger's years (1969-2200) at a fifth of the cost: a model stamps every event with it.
    return instant.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def fraction_text(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def parse_fraction(text: str) -> Fraction:
    """A fraction as :func:`fraction_text` stores it (``"n/d"``), or any text ``Fraction``
    reads. Split by hand: ``Fraction``'s own parsing goes through a regular expression, once
    per summary row a report reads."""
    numerator, slash, denominator = text.partition("/")
    try:
        if not slash or denominator == "1":
            return Fraction(int(numerator))
        return Fraction(int(numerator), int(denominator))
    except ValueError:
        return Fraction(text)
