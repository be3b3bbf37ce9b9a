"""What every report shares: its window of days cut into buckets, its currency, the log
position its read model had applied, and the recorded time it answers from.

A report "as known at K" reads the rows the ledger believed at K (bitemporal), not a replay:
movements by their interval of recorded time, the append-only cash and revenue lines by
when they were recorded. Without K, a report reads what the ledger believes now.
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

from .mrr import FOREVER, sortable
from .store import CHECKPOINTS, ViewCursor, ViewStore


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
    """The currencies of the movements and cash rows known at K (now if None)."""
    clause, params = believed(as_known_at)
    known, known_params = recorded_by(as_known_at)
    with store.transaction() as tx:
        found = _distinct_currencies(tx, "view_mrr_movements", clause, params)
        found |= _distinct_currencies(tx, "view_revenue_cash", known, known_params)
    return sorted(found)


def _distinct_currencies(tx: ViewCursor, table: str, clause: str, params: tuple[Any, ...]) -> set[str]:
    """A skip scan: the next currency after the last one found, one indexed ``min`` each
    (``currency`` leads an index of both tables), rather than ``DISTINCT`` over every row."""
    found: set[str] = set()
    last = ""
    while True:
        row = tx.execute(f"SELECT min(currency) FROM {table} WHERE currency > ? AND {clause}",
                         (last, *params)).fetchone()
        if row is None or row[0] is None:
            return found
        last = row[0]
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
        row = tx.execute(f"SELECT position FROM {CHECKPOINTS} WHERE name = ?", (model,)).fetchone()
    return int(row[0]) if row else 0


def report_head(store: ViewStore, window: Window, currency: str | None, as_known_at: datetime | None,
                model: str, version: str) -> dict[str, Any]:
    """What every report answers besides its rows: its parameters, the log position its
    read model had applied, and the version of the definitions it was computed with."""
    return {"from": window.start.isoformat(), "to": window.end.isoformat(),
            "interval": window.interval, "currency": currency,
            "as_known_at": None if as_known_at is None else sortable(as_known_at),
            "position": position(store, model), "metrics_version": version}


def money(value: Fraction) -> str:
    """An exact amount as shown: rounded to minor units."""
    return str(round_minor(value))
