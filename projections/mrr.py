"""Read model ``mrr``: every subscriber's MRR movements, bitemporal.

Each row is a movement (new, expansion, reactivation, contraction, churn) of one subscriber
in one currency at an effective instant, with the events that caused it, and the interval of
recorded time during which the ledger believed it: ``[recorded_from, recorded_to)``. When an
event changes a subscriber's past (a backdated second subscription, a correction), the
subscriber's movements are derived again from the log (`subledger.domain.mrr` and `movements`); rows no
longer true are closed at that event's ``recorded_at`` and the new ones open there. Each row
also keeps the log positions at which it was learned and retracted (``known_position``,
``retracted_position``): the Kafka relay streams movements in that order. So
"as known at K" is a query (``recorded_from <= K < recorded_to``), not a replay, and the
current figures always equal a from-scratch fold.
"""

from __future__ import annotations

import json
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from datetime import datetime
from fractions import Fraction
from itertools import groupby
from typing import Any
from uuid import UUID

from subledger.domain.movements import Movement, movements
from subledger.domain.mrr import SUBSCRIPTION_EVENT_TYPES, mrr_timeline
from subledger.domain.time import UTC

from .store import CHECKPOINTS, ViewCursor

History = Callable[[str, int], list[dict[str, Any]]]
"""(subscriber id, up to position) -> the subscriber's history envelopes."""

FOREVER = "9999-12-31T23:59:59.999999Z"

HISTORY_CACHE_LIMIT = 400_000
"""Envelopes a model keeps in its history cache: enough for every subscription event of a
book of ~25k subscribers; beyond it the least recently used subscribers are read from the
log again. An envelope takes about 2 KB of memory (measured), so up to ~800 MB per model
(``mrr`` and ``revenue`` each keep one), held for as long as the runner lives."""


def sortable(instant: datetime | str) -> str:
    """Fixed-width UTC text, so that text order is time order on both databases."""
    if isinstance(instant, str):
        instant = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def fraction_text(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def parse_fraction(text: str) -> Fraction:
    return Fraction(text)


class KnownAt:
    """When the ledger knew each event: the running maximum of ``recorded_at`` along the log.

    ``recorded_at`` is read from a writer's clock before its transaction commits, so two
    writers can commit in the other order than their clocks were read. An event is known
    from the moment every event before it in the log had been recorded too: a prefix of the
    log, the state the ledger could actually have answered from. Kept per model in a
    one-row table, in the model's own transaction."""

    def __init__(self, table: str) -> None:
        self.table = table

    def create(self, tx: ViewCursor) -> None:
        tx.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (known_at TEXT NOT NULL)")

    def stamp(self, tx: ViewCursor, envelopes: list[dict[str, Any]]) -> dict[int, str]:
        """position -> known_at for the page (in log order); saves the new maximum."""
        row = tx.execute(f"SELECT known_at FROM {self.table}").fetchone()
        running = row[0] if row else ""
        stamps: dict[int, str] = {}
        for envelope in sorted(envelopes, key=lambda e: e["position"]):
            running = max(running, sortable(envelope["recorded_at"]))
            stamps[int(envelope["position"])] = running
        tx.execute(f"DELETE FROM {self.table}")
        tx.execute(f"INSERT INTO {self.table} (known_at) VALUES (?)", (running,))
        return stamps


class HistoryCache:
    """Subscribers' histories kept across pages, so that a page does not read from the log
    again what the pages before it already held. Only subscription events are kept (the
    folds of ``mrr`` and ``revenue`` skip every other event), least recently used
    subscribers first out beyond ``limit`` envelopes.

    Invariant: every cached list holds *every* subscription event of its subscriber with a
    position up to ``through``, in log order. The log is append-only and its order final
    (the recorder's table lock), so that never goes stale by itself; only a gap can break
    it. A page therefore extends the cache only when it starts right after ``through``: its
    model's checkpoint, read in the page's own transaction, must equal ``through`` (the
    page then holds every event in ``(through, page end]``). Otherwise (the first page, a
    page read again after its transaction rolled back, another runner that moved or reset
    the checkpoint, a scratch rebuild from 0) the cache is dropped first.

    A cache that has followed the log from position 0 without a gap (a rebuild) knows more:
    a subscriber it neither holds nor ever evicted has no events up to ``through``, so its
    history is the page's own events and the log is not asked at all."""

    def __init__(self, read: History, *, limit: int = HISTORY_CACHE_LIMIT) -> None:
        self.read = read
        self.limit = limit
        self.through: int | None = None
        self._entries: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        self._size = 0
        self._from_zero = False
        self._evicted: set[str] = set()
        """Subscribers evicted since position 0 (only kept while ``_from_zero``)."""
        self.hits = 0
        self.misses = 0

    def clear(self, *, start: int | None = None) -> None:
        self._entries.clear()
        self._size = 0
        self.through = None
        self._from_zero = start == 0
        self._evicted.clear()

    def begin_page(self, tx: ViewCursor, model: str, envelopes: list[dict[str, Any]]) -> None:
        """Take a page of ``model`` (its envelopes after its checkpoint, in ``tx``) in."""
        row = tx.execute(f"SELECT position FROM {CHECKPOINTS} WHERE name = ?", (model,)).fetchone()
        start = None if row is None else int(row[0])
        if start is None or start != self.through:
            self.clear(start=start)
        # Not trusted while being extended: an error half way leaves it cleared next page.
        self.through = None
        for envelope in sorted(envelopes, key=lambda e: e["position"]):
            if envelope["type"] not in SUBSCRIPTION_EVENT_TYPES:
                continue
            subscriber_id = envelope["subscriber_id"]
            entry = self._entries.get(subscriber_id)
            if entry is None and self._from_zero and subscriber_id not in self._evicted:
                entry = self._entries[subscriber_id] = []  # nothing of theirs before this page
            if entry is not None:
                entry.append(envelope)
                self._size += 1
        self.through = last_position(envelopes)
        self._evict()

    def history(self, subscriber_id: str, up_to: int) -> list[dict[str, Any]]:
        """The subscriber's subscription events up to ``up_to`` (the page's end); the list
        is the cache's own: read it, never change it."""
        if up_to != self.through:
            raise ValueError(f"history up to {up_to} asked of a cache complete up to {self.through}")
        entry = self._entries.get(subscriber_id)
        if entry is not None:
            self.hits += 1
            self._entries.move_to_end(subscriber_id)
            return entry
        self.misses += 1
        entry = [e for e in self.read(subscriber_id, up_to) if e["type"] in SUBSCRIPTION_EVENT_TYPES]
        self._evicted.discard(subscriber_id)
        self._entries[subscriber_id] = entry
        self._size += len(entry)
        self._evict()
        return entry

    def _evict(self) -> None:
        while self._size > self.limit and self._entries:
            subscriber_id, entry = self._entries.popitem(last=False)
            self._size -= len(entry)
            if self._from_zero:
                self._evicted.add(subscriber_id)


class MrrModel:
    name = "mrr"
    version = 3
    """Of the stored form: a new one rebuilds the model."""
    metrics_version = "mrr-v4"
    """Of the definitions of the MRR, movement and churn figures (v4: as of the report's
    ``as_of``, movement figures rounded cumulatively)."""
    tables = ("view_mrr_movements", "view_mrr_known_at")
    volatile = {"view_mrr_movements": ("known_position", "retracted_position")}
    """Columns that depend on how the log was paged (a belief closed and reopened at the
    same instant), left out when a rebuild is compared with the live model."""
    clock = KnownAt("view_mrr_known_at")

    def __init__(self, history: History, *, cache_limit: int = HISTORY_CACHE_LIMIT) -> None:
        self.cache = HistoryCache(history, limit=cache_limit)

    def create(self, tx: ViewCursor) -> None:
        self.clock.create(tx)
        tx.execute(
            "CREATE TABLE IF NOT EXISTS view_mrr_movements ("
            " subscriber_id TEXT NOT NULL, currency TEXT NOT NULL, at TEXT NOT NULL,"
            " kind TEXT NOT NULL, amount TEXT NOT NULL, mrr_before TEXT NOT NULL,"
            " mrr_after TEXT NOT NULL, event_ids TEXT NOT NULL, positions TEXT NOT NULL,"
            " recorded_from TEXT NOT NULL, recorded_to TEXT NOT NULL,"
            " known_position BIGINT NOT NULL, retracted_position BIGINT)"
        )
        tx.execute("CREATE INDEX IF NOT EXISTS view_mrr_movements_at"
                   " ON view_mrr_movements (currency, at)")
        tx.execute("CREATE INDEX IF NOT EXISTS view_mrr_movements_subscriber"
                   " ON view_mrr_movements (subscriber_id, recorded_to)")
        tx.execute("CREATE INDEX IF NOT EXISTS view_mrr_movements_known"
                   " ON view_mrr_movements (known_position)")
        tx.execute("CREATE INDEX IF NOT EXISTS view_mrr_movements_retracted"
                   " ON view_mrr_movements (retracted_position)")

    def apply(self, tx: ViewCursor, envelopes: list[dict[str, Any]]) -> None:
        stamps = self.clock.stamp(tx, envelopes)
        self.cache.begin_page(tx, self.name, envelopes)
        end = last_position(envelopes)
        relevant = [e for e in envelopes if e["type"] in SUBSCRIPTION_EVENT_TYPES]
        by_subscriber = sorted(relevant, key=lambda e: (e["subscriber_id"], e["position"]))
        believed = _believed(tx, sorted({e["subscriber_id"] for e in relevant}))
        writes = _Writes()
        for subscriber_id, events in groupby(by_subscriber, key=lambda e: e["subscriber_id"]):
            history: list[dict[str, Any]] | None = None
            # One belief per instant the ledger learned something, in ledger order.
            for known_at, group in groupby(events, key=lambda e: stamps[int(e["position"])]):
                last = list(group)[-1]["position"]
                if history is None:
                    history = self.cache.history(subscriber_id, end)
                known = [e for e in history if e["position"] <= last]
                self._revise(writes, believed[subscriber_id], subscriber_id, known, known_at, last)
        writes.flush(tx)

    @staticmethod
    def _revise(writes: _Writes, believed: set[tuple[str, ...]], subscriber_id: str,
                known: list[dict[str, Any]], recorded_at: str, position: int) -> None:
        """Close the subscriber's believed rows no longer true, open the new ones;
        ``believed`` (the rows open now) follows."""
        positions = {e["event_id"]: e["position"] for e in known}
        wanted = {_key(m): m for m in movements(mrr_timeline(known))}
        gone, new = believed - wanted.keys(), wanted.keys() - believed
        for key in gone:
            writes.retract(subscriber_id, key, recorded_at, position)
        for key in new:
            writes.insert(subscriber_id, key, json.dumps([positions.get(i) for i in wanted[key].event_ids]),
                          recorded_at, position)
        believed -= gone
        believed |= new


MOVEMENT_COLUMNS = "currency, at, kind, amount, mrr_before, mrr_after, event_ids"
"""The columns of a movement that say what it is (``_key``)."""


def _believed(tx: ViewCursor, subscribers: list[str]) -> defaultdict[str, set[tuple[str, ...]]]:
    """The movements believed now of each subscriber, read for a page at once."""
    found: defaultdict[str, set[tuple[str, ...]]] = defaultdict(set)
    for start in range(0, len(subscribers), 500):
        chunk = subscribers[start:start + 500]
        rows = tx.execute(
            f"SELECT subscriber_id, {MOVEMENT_COLUMNS} FROM view_mrr_movements"
            f" WHERE recorded_to = ? AND subscriber_id IN ({', '.join('?' * len(chunk))})",
            (FOREVER, *chunk),
        ).fetchall()
        for subscriber_id, *key in rows:
            found[subscriber_id].add(tuple(key))
    return found


class _Writes:
    """A page's changes to ``view_mrr_movements``, written at its end in two statements.

    A row opened and closed again within the page is inserted closed. Rows of earlier
    pages are closed before the page's new rows are inserted, so that closing a row never
    also closes a new row that says the same."""

    def __init__(self) -> None:
        self.closes: list[tuple[Any, ...]] = []
        self.inserts: list[list[Any]] = []
        self._open: dict[tuple[str, tuple[str, ...]], int] = {}
        """(subscriber, movement) -> index of its row in ``inserts``, while believed."""

    def retract(self, subscriber_id: str, key: tuple[str, ...], recorded_at: str, position: int) -> None:
        index = self._open.pop((subscriber_id, key), None)
        if index is None:
            self.closes.append((recorded_at, position, subscriber_id, FOREVER, *key))
        else:
            row = self.inserts[index]
            row[-3], row[-1] = recorded_at, position  # recorded_to, retracted_position

    def insert(self, subscriber_id: str, key: tuple[str, ...], positions: str, recorded_at: str,
               position: int) -> None:
        self._open[(subscriber_id, key)] = len(self.inserts)
        self.inserts.append([subscriber_id, *key, positions, recorded_at, FOREVER, position, None])

    def flush(self, tx: ViewCursor) -> None:
        tx.executemany(
            "UPDATE view_mrr_movements SET recorded_to = ?, retracted_position = ?"
            " WHERE subscriber_id = ?"
            " AND recorded_to = ? AND currency = ? AND at = ? AND kind = ? AND amount = ?"
            " AND mrr_before = ? AND mrr_after = ? AND event_ids = ?",
            self.closes,
        )
        tx.executemany(
            f"INSERT INTO view_mrr_movements (subscriber_id, {MOVEMENT_COLUMNS}, positions,"
            " recorded_from, recorded_to, known_position, retracted_position)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.inserts,
        )


def last_position(envelopes: list[dict[str, Any]]) -> int:
    return max(int(e["position"]) for e in envelopes)


def _key(movement: Movement) -> tuple[str, ...]:
    return (
        movement.currency, sortable(movement.at), movement.kind, fraction_text(movement.amount),
        fraction_text(movement.mrr_before), fraction_text(movement.mrr_after),
        json.dumps(list(movement.event_ids)),
    )


def history_reader(log: Any) -> History:
    """The subscriber's history from the log (pages of 1,000), up to a position."""

    def read(subscriber_id: str, up_to: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        after = 0
        while True:
            page = log.history(UUID(subscriber_id), after, 1000)
            found += [e for e in page.items if e["position"] <= up_to]
            if page.last_position is None or len(page.items) < 1000 or page.last_position >= up_to:
                return found
            after = page.last_position

    return read
