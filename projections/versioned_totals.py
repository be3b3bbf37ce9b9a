"""Exact totals per key, versioned by recorded time: the storage both the per-day summaries
(``day_summary``) and the cohort totals (``cohort_summary``) keep.

A row holds a key's totals as the ledger believed them during ``[recorded_from,
recorded_to)``. Each change to a key closes its open version (``recorded_to`` = ``FOREVER``)
at the instant it was known and opens the next, so a key's versions tile recorded time and
the versions believed at K (``recorded_from <= K < recorded_to``) add up exactly what was
believed at K. The instants never go back along the log, so a page's changes come after every
version already stored; changes at the instant a version opened change it in place, so the
versions do not depend on how the log was paged. A version whose totals say nothing (see
:meth:`VersionedTotals.kept`) is not stored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

from .bitemporal import FOREVER, fraction_text, parse_fraction
from .open_versions import OpenVersions
from .store import ViewCursor

Key = tuple[str, str, str]
"""(currency, the column rows are looked up by, a third key column)"""
Values = tuple[Any, ...]
"""A key's totals, in the order of :attr:`VersionedTotals.VALUES`: ints and Fractions."""


@dataclass(frozen=True)
class Delta:
    """``values`` added to ``key``'s totals from the instant ``at``."""

    at: str
    key: Key
    values: Values


class VersionedTotals:
    """The versioned totals of one table. A subclass names its columns and says which
    versions are worth storing."""

    KEYS: ClassVar[tuple[str, str, str]]
    """The key columns: the currency first, then the column a page's keys are selected by."""
    VALUES: ClassVar[tuple[tuple[str, type], ...]]
    """The total columns and their types (``int``, or ``Fraction`` stored as exact text)."""
    DERIVED: ClassVar[tuple[tuple[str, str, Callable[[Values], Any]], ...]] = ()
    """Columns computed from a version's totals as it is stored: (name, SQL type, how).
    Read by reports, never added up (the totals are)."""

    def __init__(self, table: str) -> None:
        self.table = table

    def kept(self, values: Values) -> bool:
        """Whether a version with these totals is stored (one that adds nothing is not)."""
        return any(values)

    def create_table(self, tx: ViewCursor) -> None:
        keys = ", ".join(f"{name} TEXT NOT NULL" for name in self.KEYS)
        values = ", ".join([*(f"{name} {'TEXT' if kind is Fraction else 'BIGINT'} NOT NULL"
                              for name, kind in self.VALUES),
                            *(f"{name} {sql_type} NOT NULL" for name, sql_type, _ in self.DERIVED)])
        tx.execute(f"CREATE TABLE IF NOT EXISTS {self.table} ({keys}, {values},"
                   " recorded_from TEXT NOT NULL, recorded_to TEXT NOT NULL)")

    def record_deltas(self, tx: ViewCursor, deltas: Iterable[Delta],
                      kept: OpenVersions | None = None) -> None:
        """Store a page's deltas: each touched key's open version is replaced by the
        versions the deltas make, the first of them written over it (an update, cheaper
        than a delete and an insert), the rest inserted; deleted if they make none.
        ``kept``: the model's open versions from its last page (:mod:`.open_versions`),
        read from the table only for keys it does not hold, and kept up to date."""
        by_key: defaultdict[Key, list[Delta]] = defaultdict(list)
        for delta in deltas:
            by_key[delta.key].append(delta)
        if not by_key:
            return
        known = kept.known if kept is not None else {}
        current = {key: found for key in by_key
                   if (found := known.get((self.table, key))) is not None}
        if kept is None or not kept.complete:
            current.update(self._open(tx, [key for key in by_key if (self.table, key) not in known]))
        updates: list[tuple[Any, ...]] = []
        deletes: list[tuple[Any, ...]] = []
        rows: list[tuple[Any, ...]] = []
        for key, found in by_key.items():
            opened = current.get(key)
            versions, known[self.table, key] = self._versions(key, opened, found)
            if opened is not None and versions:
                first, *versions = versions
                updates.append((*first[len(key):], *key, FOREVER))
            elif opened is not None:
                deletes.append((*key, FOREVER))
            rows += versions
        self._write(tx, updates, deletes, rows)

    def _write(self, tx: ViewCursor, updates: list[tuple[Any, ...]],
               deletes: list[tuple[Any, ...]], rows: list[tuple[Any, ...]]) -> None:
        """Open versions updated or deleted before new versions are inserted: the
        statements find a key's open version by ``recorded_to`` = ``FOREVER``."""
        k0, k1, k2 = self.KEYS
        where = f" WHERE {k0} = ? AND {k1} = ? AND {k2} = ? AND recorded_to = ?"
        stored = (*(name for name, _ in self.VALUES), *(name for name, _, _ in self.DERIVED))
        assignments = ", ".join(f"{name} = ?" for name in (*stored, "recorded_from", "recorded_to"))
        tx.executemany(f"UPDATE {self.table} SET {assignments}{where}", updates)
        tx.executemany(f"DELETE FROM {self.table}{where}", deletes)
        tx.insert(self.table, (*self.KEYS, *stored, "recorded_from", "recorded_to"), rows)

    def parsed(self, stored: Iterable[Any]) -> Values:
        """Stored totals as ints and Fractions."""
        return tuple(parse_fraction(value) if kind is Fraction else int(value)
                     for value, (_, kind) in zip(stored, self.VALUES, strict=True))

    def _open(self, tx: ViewCursor, keys: list[Key]) -> dict[Key, tuple[Values, str]]:
        """The open version (totals, recorded_from) of each key that has one."""
        selected: defaultdict[str, set[str]] = defaultdict(set)
        for currency, by, _third in keys:
            selected[currency].add(by)
        wanted = set(keys)
        found: dict[Key, tuple[Values, str]] = {}
        k0, k1, k2 = self.KEYS
        values = ", ".join(name for name, _ in self.VALUES)
        for currency, each in selected.items():
            rows = tx.select_in(f"SELECT {k1}, {k2}, {values}, recorded_from FROM {self.table}"
                                f" WHERE {k0} = ? AND recorded_to = ? AND {k1} IN ({{marks}})",
                                sorted(each), (currency, FOREVER))
            for by, third, *stored, since in rows:
                if (currency, by, third) in wanted:
                    found[currency, by, third] = (self.parsed(stored), since)
        return found

    def _versions(self, key: Key, current: tuple[Values, str] | None,
                  deltas: list[Delta]) -> tuple[list[tuple[Any, ...]], tuple[Values, str] | None]:
        """The rows that replace ``key``'s open version after ``deltas`` (any order), and
        the open version they leave (None if none)."""
        zero = tuple(kind() for _, kind in self.VALUES)
        totals, since = current if current is not None else (zero, None)
        out: list[tuple[Any, ...]] = []
        for delta in sorted(deltas, key=lambda d: d.at):
            if since is not None and delta.at != since:
                if self.kept(totals):
                    out.append((*key, *self._stored(totals), since, delta.at))
                since = None
            if since is None:
                since = delta.at
            totals = tuple(a + b for a, b in zip(totals, delta.values, strict=True))
        if since is not None and self.kept(totals):
            out.append((*key, *self._stored(totals), since, FOREVER))
            return out, (totals, since)
        return out, None

    def _stored(self, totals: Values) -> tuple[Any, ...]:
        return (*(fraction_text(value) if kind is Fraction else value
                  for value, (_, kind) in zip(totals, self.VALUES, strict=True)),
                *(how(totals) for _, _, how in self.DERIVED))
