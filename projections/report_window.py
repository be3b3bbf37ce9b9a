"""What every report shares: its window of days cut into buckets, its currency, the log
position its read model had applied, and where it stands in time (:class:`Standpoint`).

A report "as known at K" reads the rows the ledger believed at K (bitemporal), not a replay:
movements by their interval of recorded time, the append-only cash and revenue lines by
when they were recorded. Without K, a report reads what the ledger believes now.

A report "as of T" counts only what was effective by T: movements, cash rows and the
settlement of revenue lines at or before T, in every bucket, whatever its window. So a
bucket reads the same in every window that contains it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from subledger.domain.errors import CurrencyRequired, InvalidWindow
from subledger.domain.money import round_minor
from subledger.domain.time import FIRST_DAY, LAST_DAY, UTC

from .mrr import DAYS, FOREVER, sortable
from .recognition import microseconds
from .revenue import CASH_DAYS
from .store import ViewCursor, ViewStore


@dataclass(frozen=True)
class Standpoint:
    """Where a report stands in time: the instant it is as of (only events effective by
    then count) and the recorded time it knows (None: everything recorded).
    ``domain.time.report_as_of`` decides ``as_of`` from what a client asks."""

    as_of: datetime
    as_known_at: datetime | None = None

    def movements(self) -> tuple[str, tuple[Any, ...]]:
        """Movement rows believed at K and effective by ``as_of``."""
        clause, params = believed(self.as_known_at)
        return f"at <= ? AND {clause}", (sortable(self.as_of), *params)

    def cash(self) -> tuple[str, tuple[Any, ...]]:
        """Cash rows recorded by K and effective by ``as_of``."""
        clause, params = recorded_by(self.as_known_at)
        return f"at <= ? AND {clause}", (sortable(self.as_of), *params)

    def lines(self, prefix: str = "") -> tuple[str, tuple[Any, ...]]:
        """Revenue lines recorded by K and settled by ``as_of``."""
        clause, params = recorded_by(self.as_known_at, f"{prefix}recorded_at")
        return f"{prefix}settled_us <= ? AND {clause}", (microseconds(self.as_of), *params)


@dataclass(frozen=True)
class Window:
    start: date
    end: date
    """Inclusive last day."""
    interval: str

    def buckets(self) -> Iterator[tuple[datetime, datetime]]:
        check_days(self.start, self.end)
        if self.interval not in ("day", "month"):
            raise InvalidWindow("interval must be 'day' or 'month'")
        stop = midnight(self.end + timedelta(days=1))
        cursor = midnight(self.start)
        count = 0
        while cursor < stop:
            if self.interval == "day":
                nxt = cursor + timedelta(days=1)
            else:
                nxt = (cursor.replace(day=1) + timedelta(days=32)).replace(day=1)
            yield cursor, min(nxt, stop)
            cursor = min(nxt, stop)
            count += 1
            if count > 5000:
                raise InvalidWindow("at most 5000 buckets per report")


def check_days(start: date, end: date) -> None:
    if end < start:
        raise InvalidWindow("'to' must not be before 'from'")
    if start < FIRST_DAY or end > LAST_DAY:
        raise InvalidWindow(f"reports cover days from {FIRST_DAY} to {LAST_DAY}")


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def as_of_day_bounds(standpoint: Standpoint) -> tuple[str, str, str]:
    """(``as_of``'s day, ``as_of``, the next midnight) as sortable text. A report reads
    ``as_of``'s day from the day's totals like any other, less the rows between ``as_of``
    and the next midnight: as of now, only those dated up to the clock's tolerance ahead."""
    as_of = sortable(standpoint.as_of)
    next_day = (standpoint.as_of.astimezone(UTC).date() + timedelta(days=1)).isoformat()
    return as_of[:10], as_of, next_day


def believed(as_known_at: datetime | None) -> tuple[str, tuple[Any, ...]]:
    """Bitemporal rows: those the ledger believed at K (now if None)."""
    if as_known_at is None:
        return "recorded_to = ?", (FOREVER,)
    k = sortable(as_known_at)
    return "recorded_from <= ? AND recorded_to > ?", (k, k)


def recorded_by(as_known_at: datetime | None, column: str = "recorded_at") -> tuple[str, tuple[Any, ...]]:
    """Append-only rows: those recorded by K."""
    if as_known_at is None:
        return "1 = 1", ()
    return f"{column} <= ?", (sortable(as_known_at),)


def currencies(store: ViewStore, as_known_at: datetime | None) -> list[str]:
    """The currencies of the movements and cash rows known at K (now if None): those of the
    per-day totals believed at K (a day's version is stored only while it holds rows)."""
    clause, params = believed(as_known_at)
    with store.transaction() as tx:
        found = _distinct_currencies(tx, DAYS.table, clause, params)
        found |= _distinct_currencies(tx, CASH_DAYS.table, clause, params)
    return sorted(found)


def _distinct_currencies(tx: ViewCursor, table: str, clause: str, params: tuple[Any, ...]) -> set[str]:
    """A skip scan: the next currency after the last one found, one indexed ``min`` each
    (``currency`` leads an index of both tables), rather than ``DISTINCT`` over every row;
    each kept if a version believed at K holds it, one indexed look-up. The belief is not
    part of the ``min``: the index orders a currency's versions by ``recorded_to``, closed
    ones first, so a ``min`` filtered by it walked every closed version of the book before
    the first open one."""
    found: set[str] = set()
    last = ""
    while True:
        row = tx.execute(f"SELECT min(currency) FROM {table} WHERE currency > ?", (last,)).fetchone()
        if row is None or row[0] is None:
            return found
        last = row[0]
        if tx.execute(f"SELECT 1 FROM {table} WHERE currency = ? AND {clause} LIMIT 1",
                      (last, *params)).fetchone() is not None:
            found.add(last)


def pick_currency(store: ViewStore, currency: str | None, as_known_at: datetime | None) -> str | None:
    return choose_currency(currencies(store, as_known_at), currency)


def choose_currency(held: list[str], currency: str | None) -> str | None:
    """A report's currency: the one named, else the only one ``held`` (None if none)."""
    if currency is not None:
        return currency.upper()
    if len(held) > 1:
        raise CurrencyRequired(f"the ledger holds several currencies ({', '.join(held)}): name one with currency=")
    return held[0] if held else None


def position(store: ViewStore, model: str = "mrr") -> int:
    with store.transaction() as tx:
        return tx.checkpoint(model) or 0


def report_head(store: ViewStore, window: Window, currency: str | None, standpoint: Standpoint,
                model: str, version: str) -> dict[str, Any]:
    """What every report answers besides its rows: its parameters, the log position its
    read model had applied, and the version of the definitions it was computed with."""
    known = standpoint.as_known_at
    return {"from": window.start.isoformat(), "to": window.end.isoformat(),
            "interval": window.interval, "currency": currency,
            "as_of": sortable(standpoint.as_of),
            "as_known_at": None if known is None else sortable(known),
            "position": position(store, model), "metrics_version": version}


def money(value: Fraction) -> str:
    """An exact amount as shown: rounded to minor units."""
    return str(round_minor(value))


def money_added(before: Fraction, amount: Fraction) -> str:
    """An amount a bucket adds to a running total, as shown: the rounded total after it
    less the rounded total before it, the total summed from a fixed origin (independent of
    the window). The buckets of a month then add up to the month exactly, and a bucket reads
    the same in every window."""
    return str(round_minor(before + amount) - round_minor(before))
