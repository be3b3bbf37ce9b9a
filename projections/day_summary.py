"""Per-day totals of a read model's rows, bitemporal, so that a report reads a few rows per
day of its window instead of every row behind its figures.

A summary row is the exact total (a fraction, as text) and the number of a model's rows of
one currency, one UTC day (of their effective instant) and one kind, *as the ledger believed
them* during ``[recorded_from, recorded_to)``, versioned as :mod:`.versioned_totals` keeps
every such table: the versions believed at K add up exactly the rows believed at K, and the
versions believed now are those with ``recorded_to`` = ``FOREVER``, so a report reads one row
per day and kind, whatever the size of the book. The instants are the models' ``known_at``
stamps (``mrr.KnownAt``). A version with no rows is not stored: nothing believed then.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .bitemporal import parse_fraction
from .open_versions import OpenVersions
from .store import ViewCursor
from .versioned_totals import Delta, Values, VersionedTotals


@dataclass(frozen=True)
class Change:
    """A model's row of ``currency``, ``day`` and ``kind`` believed (``count`` 1) or no
    longer believed (-1) from the instant ``at``; ``amount`` is the row's, signed alike."""

    at: str
    currency: str
    day: str
    kind: str
    amount: Fraction
    count: int


class DaySummary(VersionedTotals):
    """The versioned per-day totals of one model, in ``table``: per (currency, day, kind),
    the exact ``total`` and the ``count`` of the rows behind it."""

    KEYS = ("currency", "day", "kind")
    VALUES = (("total", Fraction), ("count", int))

    def kept(self, values: Values) -> bool:
        return bool(values[1])  # a version with no rows: nothing believed then

    def create(self, tx: ViewCursor) -> None:
        self.create_table(tx)
        # Reports read a currency's versions believed at K, day by day.
        tx.execute(f"CREATE INDEX IF NOT EXISTS {self.table}_believed"
                   f" ON {self.table} (currency, recorded_to, day)")

    def record(self, tx: ViewCursor, changes: Iterable[Change], kept: OpenVersions | None = None) -> None:
        """Store a page's changes: each touched day's open version is replaced by the
        versions the changes make (``kept``: see :meth:`VersionedTotals.record_deltas`)."""
        self.record_deltas(tx, (Delta(c.at, (c.currency, c.day, c.kind), (c.amount, c.count))
                                for c in changes), kept)

    def read(self, tx: ViewCursor, currency: str, first_day: str, stop_day: str,
             believed: tuple[str, tuple[Any, ...]]) -> list[tuple[str, str, Fraction, int]]:
        """(day, kind, total, count) of each day in ``[first_day, stop_day)`` as believed
        where ``believed`` (a clause on ``recorded_from``/``recorded_to``) says."""
        clause, params = believed
        rows = tx.execute(
            f"SELECT day, kind, total, count FROM {self.table}"
            f" WHERE currency = ? AND day >= ? AND day < ? AND {clause}",
            (currency, first_day, stop_day, *params)).fetchall()
        return [(day, kind, parse_fraction(total), int(count)) for day, kind, total, count in rows]
