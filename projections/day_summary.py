"""Per-day totals of a read model's rows, bitemporal, so that a report reads a few rows per
day of its window instead of every row behind its figures.

A summary row is the exact total (a fraction, as text) and the number of a model's rows of
one currency, one UTC day (of their effective instant) and one kind, *as the ledger believed
them* during ``[recorded_from, recorded_to)``: each change of the rows behind it (a row
believed from an instant, a row no longer believed from another) closes the day's version at
that instant and opens the next, and a day's versions tile recorded time. The version believed
at K therefore adds up exactly the rows believed at K (``recorded_from <= K < recorded_to``),
and the versions believed now are those with ``recorded_to`` = ``FOREVER``: a report reads one
row per day and kind, whatever the size of the book.

The instants are the models' ``known_at`` stamps (``mrr.KnownAt``): they never go back along
the log, so a page's changes come after every version already stored. Changes at the instant
a version opened (the same stamp across two pages) change it in place, so the versions do not
depend on how the log was paged. A version with no rows is not stored: nothing believed then.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .bitemporal import FOREVER, fraction_text, parse_fraction
from .store import ViewCursor


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


Key = tuple[str, str, str]
"""(currency, day, kind)"""


class DaySummary:
    """The versioned per-day totals of one model, in ``table``."""

    def __init__(self, table: str) -> None:
        self.table = table

    def create(self, tx: ViewCursor) -> None:
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} (currency TEXT NOT NULL, day TEXT NOT NULL,"
            " kind TEXT NOT NULL, total TEXT NOT NULL, count BIGINT NOT NULL,"
            " recorded_from TEXT NOT NULL, recorded_to TEXT NOT NULL)"
        )
        # Reports read a currency's versions believed at K, day by day.
        tx.execute(f"CREATE INDEX IF NOT EXISTS {self.table}_believed"
                   f" ON {self.table} (currency, recorded_to, day)")

    def record(self, tx: ViewCursor, changes: Iterable[Change]) -> None:
        """Store a page's changes: each touched day's open version is replaced by the
        versions the changes make, in two statements."""
        by_key: defaultdict[Key, list[Change]] = defaultdict(list)
        for change in changes:
            by_key[change.currency, change.day, change.kind].append(change)
        if not by_key:
            return
        current = self._open(tx, list(by_key))
        rows: list[tuple[Any, ...]] = []
        for key, found in by_key.items():
            rows += _versions(key, current.get(key), found)
        tx.executemany(f"DELETE FROM {self.table} WHERE currency = ? AND day = ? AND kind = ?"
                       " AND recorded_to = ?", [(*key, FOREVER) for key in current])
        tx.executemany(f"INSERT INTO {self.table} (currency, day, kind, total, count, recorded_from,"
                       " recorded_to) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def _open(self, tx: ViewCursor, keys: list[Key]) -> dict[Key, tuple[Fraction, int, str]]:
        """The open version (total, count, recorded_from) of each key that has one."""
        days: defaultdict[str, set[str]] = defaultdict(set)
        for currency, day, _kind in keys:
            days[currency].add(day)
        wanted = set(keys)
        found: dict[Key, tuple[Fraction, int, str]] = {}
        for currency, each in days.items():
            ordered = sorted(each)
            for start in range(0, len(ordered), 500):
                chunk = ordered[start:start + 500]
                rows = tx.execute(
                    f"SELECT day, kind, total, count, recorded_from FROM {self.table}"
                    f" WHERE currency = ? AND recorded_to = ? AND day IN ({', '.join('?' * len(chunk))})",
                    (currency, FOREVER, *chunk)).fetchall()
                for day, kind, total, count, since in rows:
                    if (currency, day, kind) in wanted:
                        found[currency, day, kind] = (parse_fraction(total), int(count), since)
        return found

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


def _versions(key: Key, current: tuple[Fraction, int, str] | None,
              changes: list[Change]) -> list[tuple[Any, ...]]:
    """The rows that replace ``key``'s open version after ``changes`` (any order)."""
    total, count, since = current if current is not None else (Fraction(0), 0, None)
    out: list[tuple[Any, ...]] = []
    for change in sorted(changes, key=lambda c: c.at):
        if since is not None and change.at != since:
            if count:
                out.append((*key, fraction_text(total), count, since, change.at))
            since = None
        if since is None:
            since = change.at
        total += change.amount
        count += change.count
    if count and since is not None:
        out.append((*key, fraction_text(total), count, since, FOREVER))
    return out
