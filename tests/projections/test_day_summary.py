"""The per-day totals the reports read (``view_mrr_days`` of the movements,
``view_revenue_days`` of the cash rows) answer what the rows behind them answer, at every
instant of recorded time, over random command histories on SQLite (see
``support.ledger_histories``: projected after random prefixes with random page sizes), and
the versions of one day never overlap in recorded time; and the currencies a report may pick
are those of the versions believed at K."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.ledger_histories import History, random_history

from subledger.config import Settings
from subledger.projections.day_summary import Change
from subledger.projections.mrr import DAYS, FOREVER, parse_fraction
from subledger.projections.report_window import believed, currencies, recorded_by
from subledger.projections.revenue import CASH_DAYS
from subledger.projections.store import ViewStore

PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Totals = dict[tuple[str, str, str], tuple[Fraction, int]]
"""(currency, day, kind) -> (total, count)"""


SUMMARIES = {"movements": DAYS, "cash": CASH_DAYS}


def _rows_summed(history: History, rows_of: str, known_at: datetime | None) -> Totals:
    """The movement rows believed at ``known_at`` (now if None), or the cash rows recorded
    by then, summed per day and kind."""
    if rows_of == "movements":
        clause, params = believed(known_at)
        query = f"SELECT currency, at, kind, amount FROM view_mrr_movements WHERE {clause}"
    else:
        clause, params = recorded_by(known_at)
        query = f"SELECT currency, at, kind, amount FROM view_revenue_cash WHERE {clause}"
    with history.runner.store.transaction() as tx:
        rows = tx.execute(query, params).fetchall()
    totals: defaultdict[tuple[str, str, str], tuple[Fraction, int]] = defaultdict(lambda: (Fraction(0), 0))
    for currency, at, kind, amount in rows:
        total, count = totals[currency, at[:10], kind]
        totals[currency, at[:10], kind] = (total + parse_fraction(str(amount)), count + 1)
    return dict(totals)


def _summary(history: History, rows_of: str, known_at: datetime | None) -> Totals:
    with history.runner.store.transaction() as tx:
        return {(currency, day, kind): (total, count)
                for currency in ("EUR", "USD")
                for day, kind, total, count in SUMMARIES[rows_of].read(tx, currency, "", "9999", believed(known_at))}


def _instants(history: History, rows_of: str) -> list[datetime | None]:
    """Each K captured between commands, each version's start and the instant before it, and now."""
    with history.runner.store.transaction() as tx:
        starts = [datetime.fromisoformat(at.replace("Z", "+00:00")) for (at,) in
                  tx.execute(f"SELECT DISTINCT recorded_from FROM {SUMMARIES[rows_of].table}").fetchall()]
    return [*history.known, *starts, *(at - timedelta(microseconds=1) for at in starts), None]


@PROPERTY
@given(data=st.data())
def test_the_days_believed_at_k_add_up_the_rows_believed_at_k(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with random_history(data, tmp_path_factory) as history:
        for rows_of in SUMMARIES:
            for known_at in _instants(history, rows_of):
                assert _summary(history, rows_of, known_at) == _rows_summed(history, rows_of, known_at), (
                    rows_of, known_at, history.commands)


@PROPERTY
@given(data=st.data())
def test_the_versions_of_a_day_tile_recorded_time_without_overlap(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with random_history(data, tmp_path_factory) as history, history.runner.store.transaction() as tx:
        rows = [row for summary in SUMMARIES.values() for row in tx.execute(
            f"SELECT '{summary.table}', currency, day, kind, recorded_from, recorded_to, count"
            f" FROM {summary.table} ORDER BY currency, day, kind, recorded_from").fetchall()]
    versions: defaultdict[tuple[str, ...], list[tuple[str, str]]] = defaultdict(list)
    for *key, since, until, count in rows:
        assert since < until and count > 0
        versions[tuple(key)].append((since, until))
    for found in versions.values():
        assert sum(until == FOREVER for _since, until in found) <= 1
        for (_a, until), (since, _b) in zip(found, found[1:], strict=False):
            assert until <= since


def test_the_currencies_a_report_may_pick_are_those_believed_at_k(settings: Settings) -> None:
    # EUR believed from 01:00 until its only movement is retracted at 02:00; USD from 01:00 on.
    store = ViewStore(settings)
    try:
        with store.creating_tables() as tx:
            DAYS.create(tx)
            CASH_DAYS.create(tx)
        one, two = "2026-03-01T01:00:00.000000Z", "2026-03-01T02:00:00.000000Z"
        with store.transaction() as tx:
            DAYS.record(tx, [Change(one, "EUR", "2026-02-01", "new", Fraction(900), 1),
                             Change(two, "EUR", "2026-02-01", "new", Fraction(-900), -1)])
            CASH_DAYS.record(tx, [Change(one, "USD", "2026-02-01", "collected", Fraction(500), 1)])
        assert currencies(store, None) == ["USD"]
        assert currencies(store, _at("2026-03-01T01:30:00")) == ["EUR", "USD"]
        assert currencies(store, _at("2026-03-01T00:30:00")) == []
        assert currencies(store, _at("2026-03-01T02:00:00")) == ["USD"]
    finally:
        store.close()


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")
