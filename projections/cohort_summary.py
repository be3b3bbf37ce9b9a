"""The ``mrr`` model's cohort totals: what each signup day's subscribers add to their MRR and
their number of paying subscribers, day by day, bitemporal.

A subscriber's cohort in a currency is the day of their ``new`` movement there
(``replay.cohorts``). Each of their movements in that currency changes the cohort's MRR by
its signed amount and its paying subscribers by 1 (new, reactivation), -1 (churn) or 0, on
the day it is effective: a row per (currency, cohort day, effective day) holds the exact
totals of those changes. A cell of the matrix (a cohort's MRR and subscribers at a month's
end) is then the sum of its cohort days' rows before that day, and the cohort's size and
starting MRR are kept in the rows whose effective day is ``""``.

The rows are versioned by recorded time like ``day_summary``'s: each change closes a key's
open version at the instant it was known and opens the next, so the versions believed at K
(``recorded_from <= K < recorded_to``) add up exactly the subscribers as known at K. A
subscriber whose ``new`` moves (a backdated event) leaves one cohort and joins another at
that instant: :func:`contributions` is recomputed from their believed movements and only the
difference is recorded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .bitemporal import parse_fraction
from .open_versions import OpenVersions
from .store import ViewCursor
from .versioned_totals import Delta, VersionedTotals

SIGN = {"new": 1, "expansion": 1, "reactivation": 1, "contraction": -1, "churn": -1}
"""Each movement changes its subscriber's MRR by ``SIGN[kind] x amount``."""
HEADCOUNT = {"new": 1, "reactivation": 1, "churn": -1}
"""... and whether they pay (MRR > 0) by this."""
START = ""
"""The effective day of the rows that hold a cohort's size and starting MRR."""

Key = tuple[str, str, str]
"""(currency, cohort day, effective day)"""
Totals = dict[Key, tuple[int, Fraction]]
"""Key -> (subscribers, MRR)"""


@dataclass(frozen=True)
class CohortChange:
    """``subscribers`` and ``mrr`` added to ``key``'s totals from the instant ``at``."""

    at: str
    key: Key
    subscribers: int
    mrr: Fraction


def contributions(movements: Iterable[tuple[str, ...]]) -> Totals:
    """What one subscriber adds to the cohort totals, from their believed movement keys
    (``mrr._key``: currency, at, kind, amount, ...)."""
    by_currency: defaultdict[str, list[tuple[str, ...]]] = defaultdict(list)
    for movement in movements:
        by_currency[movement[0]].append(movement)
    found: Totals = {}
    for currency, rows in by_currency.items():
        new = min((row for row in rows if row[2] == "new"), key=lambda row: row[1], default=None)
        if new is None:
            continue
        cohort = new[1][:10]
        found[currency, cohort, START] = (1, parse_fraction(new[3]))
        for _currency, at, kind, amount, *_rest in rows:
            key = (currency, cohort, at[:10])
            subscribers, mrr = found.get(key, (0, Fraction(0)))
            found[key] = (subscribers + HEADCOUNT.get(kind, 0), mrr + SIGN[kind] * parse_fraction(amount))
    return found


def difference(at: str, before: Totals, after: Totals) -> list[CohortChange]:
    """The changes that turn ``before`` into ``after`` at the instant ``at``."""
    out = []
    for key in before.keys() | after.keys():
        old, new = before.get(key, (0, Fraction(0))), after.get(key, (0, Fraction(0)))
        if old != new:
            out.append(CohortChange(at, key, new[0] - old[0], new[1] - old[1]))
    return out


class CohortSummary(VersionedTotals):
    """The versioned cohort totals, in ``table``: per (currency, cohort day, effective day),
    the paying ``subscribers`` and the ``mrr`` they add."""

    KEYS = ("currency", "cohort", "day")
    VALUES = (("subscribers", int), ("mrr", Fraction))

    def create(self, tx: ViewCursor) -> None:
        self.create_table(tx)
        # The matrix reads a currency's versions believed at K, cohort by cohort.
        tx.execute(f"CREATE INDEX IF NOT EXISTS {self.table}_believed"
                   f" ON {self.table} (currency, recorded_to, cohort)")

    def record(self, tx: ViewCursor, changes: Iterable[CohortChange],
               kept: OpenVersions | None = None) -> None:
        """Store a page's changes: each touched key's open version is replaced by the
        versions the changes make (``kept``: see :meth:`VersionedTotals.record_deltas`)."""
        self.record_deltas(tx, (Delta(c.at, c.key, (c.subscribers, c.mrr)) for c in changes), kept)

    def read(self, tx: ViewCursor, currency: str, first: str, stop: str,
             believed: tuple[str, tuple[Any, ...]]) -> list[tuple[str, str, int, Fraction]]:
        """(cohort, day, subscribers, mrr) of the cohorts of ``[first, stop)``, their days
        before ``stop``, as believed where ``believed`` says."""
        clause, params = believed
        rows = tx.execute(
            f"SELECT cohort, day, subscribers, mrr FROM {self.table}"
            f" WHERE currency = ? AND cohort >= ? AND cohort < ? AND day < ? AND {clause}",
            (currency, first, stop, stop, *params)).fetchall()
        return [(cohort, day, int(subscribers), parse_fraction(mrr)) for cohort, day, subscribers, mrr in rows]
