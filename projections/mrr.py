"""Read model ``mrr``: every subscriber's MRR movements, bitemporal.

Each row is a movement (new, expansion, reactivation, contraction, churn) of one subscriber
in one currency at an effective instant, with the events that caused it, and the interval of
recorded time during which the ledger believed it: ``[recorded_from, recorded_to)``. Each
belief (the subscriber's events learned at one instant) folds only its own events into the
subscriber's fold (:mod:`.mrr_fold`, the domain's ``mrr_timeline`` and ``movements`` resumed)
and yields the movements from its earliest instant on; rows of theirs no longer true are
closed at the belief's ``recorded_at`` and the new ones open there. An event that changes a
subscriber's past (a backdated second subscription, a correction) folds them again from the
log, and the rows after the instant it changes are revised the same way. Each row
also keeps the log positions at which it was learned and retracted (``known_position``,
``retracted_position``): the Kafka relay streams movements in that order. So
"as known at K" is a query (``recorded_from <= K < recorded_to``), not a replay, and the
current figures always equal a from-scratch fold.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from itertools import groupby
from typing import Any
from uuid import UUID

from subledger.domain.movements import Movement
from subledger.domain.mrr import SUBSCRIPTION_EVENT_TYPES

from .bitemporal import FOREVER, fraction_text, parse_fraction, sortable  # noqa: F401 - named here too, as before
from .cohort_summary import CohortChange, CohortSummary, contributions, difference
from .day_summary import Change, DaySummary
from .mrr_fold import FOLD_CACHE_LIMIT, Advanced, SubscriberFolds
from .open_versions import OpenVersions
from .store import ViewCursor
from .subscriber_cache import History, last_position


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


class MrrModel:
    name = "mrr"
    version = 5
    """Of the stored form: a new one rebuilds the model (4: the per-day totals; 5: the
    cohort totals)."""
    metrics_version = "mrr-v4"
    """Of the definitions of the MRR, movement and churn figures (v4: as of the report's
    ``as_of``, movement figures rounded cumulatively)."""
    tables = ("view_mrr_movements", "view_mrr_known_at", "view_mrr_days", "view_mrr_cohorts")
    types: tuple[str, ...] = ()
    """Every event: the model's known-at stamps follow every event's ``recorded_at``."""
    volatile = {"view_mrr_movements": ("known_position", "retracted_position")}
    """Columns that depend on how the log was paged (a belief closed and reopened at the
    same instant), left out when a rebuild is compared with the live model."""
    clock = KnownAt("view_mrr_known_at")

    def __init__(self, history: History, *, cache_limit: int = FOLD_CACHE_LIMIT) -> None:
        self.cache = SubscriberFolds(history, limit=cache_limit)
        self.totals = OpenVersions()
        """The open versions of the day and cohort totals, from page to page."""

    def create(self, tx: ViewCursor) -> None:
        self.clock.create(tx)
        DAYS.create(tx)
        COHORTS.create(tx)
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
        self.totals.begin_page(tx, self.name)
        relevant = [e for e in envelopes if e["type"] in SUBSCRIPTION_EVENT_TYPES]
        by_subscriber = sorted(relevant, key=lambda e: (e["subscriber_id"], e["position"]))
        believed = _believed(tx, sorted({e["subscriber_id"] for e in relevant}))
        writes = _Writes()
        for subscriber_id, events in groupby(by_subscriber, key=lambda e: e["subscriber_id"]):
            # One belief per instant the ledger learned something, in ledger order.
            for known_at, group in groupby(events, key=lambda e: stamps[int(e["position"])]):
                learned = list(group)
                last = int(learned[-1]["position"])
                advanced = self.cache.believe(subscriber_id, learned, last)
                self._revise(writes, believed[subscriber_id], subscriber_id, advanced, known_at, last)
        writes.flush(tx, self.totals)
        self.totals.end_page(tx, last_position(envelopes))

    @staticmethod
    def _revise(writes: _Writes, believed: set[tuple[str, ...]], subscriber_id: str,
                advanced: Advanced, recorded_at: str, position: int) -> None:
        """Close the subscriber's believed rows no longer true, open the new ones;
        ``believed`` (the rows open now) follows. Rows before ``advanced.since`` stay true."""
        since = None if advanced.since is None else sortable(advanced.since)
        wanted = {_key(m): m for m in advanced.movements}
        open_after = believed if since is None else {k for k in believed if k[1] > since}
        gone, new = open_after - wanted.keys(), wanted.keys() - open_after
        before = contributions(believed) if gone or new else {}
        for key in gone:
            writes.retract(subscriber_id, key, recorded_at, position)
        for key in new:
            positions = [advanced.positions.get(i) for i in wanted[key].event_ids]
            writes.insert(subscriber_id, key, json.dumps(positions), recorded_at, position)
        believed -= gone
        believed |= new
        if gone or new:
            writes.cohorts += difference(recorded_at, before, contributions(believed))


MOVEMENT_COLUMNS = "currency, at, kind, amount, mrr_before, mrr_after, event_ids"
"""The columns of a movement that say what it is (``_key``)."""


def _believed(tx: ViewCursor, subscribers: list[str]) -> defaultdict[str, set[tuple[str, ...]]]:
    """The movements believed now of each subscriber, read for a page at once."""
    found: defaultdict[str, set[tuple[str, ...]]] = defaultdict(set)
    rows = tx.select_in(f"SELECT subscriber_id, {MOVEMENT_COLUMNS} FROM view_mrr_movements"
                        " WHERE recorded_to = ? AND subscriber_id IN ({marks})", subscribers, (FOREVER,))
    for subscriber_id, *key in rows:
        found[subscriber_id].add(tuple(key))
    return found


DAYS = DaySummary("view_mrr_days")
"""The movements believed, totalled per currency, day and kind (``mrr_reports`` reads them)."""
COHORTS = CohortSummary("view_mrr_cohorts")
"""The movements believed, totalled per currency, cohort and day (``cohort_reports`` reads them)."""


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
        self.cohorts: list[CohortChange] = []
        """What the page changes of the cohort totals."""

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

    def flush(self, tx: ViewCursor, totals: OpenVersions) -> None:
        tx.executemany(
            "UPDATE view_mrr_movements SET recorded_to = ?, retracted_position = ?"
            " WHERE subscriber_id = ?"
            " AND recorded_to = ? AND currency = ? AND at = ? AND kind = ? AND amount = ?"
            " AND mrr_before = ? AND mrr_after = ? AND event_ids = ?",
            self.closes,
        )
        tx.insert("view_mrr_movements",
                  ("subscriber_id", *MOVEMENT_COLUMNS.split(", "), "positions", "recorded_from",
                   "recorded_to", "known_position", "retracted_position"),
                  self.inserts)
        DAYS.record(tx, self._changes(), totals)
        COHORTS.record(tx, self.cohorts, totals)

    def _changes(self) -> Iterator[Change]:
        """What the page changes of the rows believed, for the per-day totals."""
        for recorded_at, _position, _subscriber, _forever, currency, at, kind, amount, *_rest in self.closes:
            yield Change(recorded_at, currency, at[:10], kind, -parse_fraction(amount), -1)
        for _subscriber, currency, at, kind, amount, *_rest, since, until, _known, _retracted in self.inserts:
            yield Change(since, currency, at[:10], kind, parse_fraction(amount), 1)
            if until != FOREVER:
                yield Change(until, currency, at[:10], kind, -parse_fraction(amount), -1)


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
