"""The built-in figures folded straight from the log equal the reports over the read models,
figure for figure, now and as known at K, over random command histories
(``support.histories``); and over the small book they are the figures worked out by hand."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.books import BOOK_CLOCK
from support.ledger_histories import random_history

from subledger.cli import main
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.domain.time import report_as_of
from subledger.projections import mrr_reports, revenue_reports
from subledger.projections.mrr import parse_fraction, sortable
from subledger.projections.report_window import Standpoint, Window, believed, money
from subledger.projections.store import ViewStore
from subledger.replay import figures, revenue
from subledger.replay.book import Book
from subledger.replay.folds import run_fold
from subledger.replay.reader import Replay
from subledger.replay.selection import Selection

PROPERTY = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROWS = {"mrr": "buckets", "churn": "periods", "revenue": "buckets"}
NOW = datetime(2027, 1, 1, tzinfo=UTC)
"""The ledger's clock when the reports are asked for (after every event of the histories)."""


def _book(ledger: Ledger, known_at: datetime | None) -> Book:
    return run_fold(Replay(ledger.event_log, Selection(as_known_at=known_at), batch=5), Book()).value


def _modelled_mrr(store: ViewStore, currency: str, instant: datetime, known_at: datetime | None) -> Fraction:
    """MRR at ``instant`` (movements at or before it) from the ``mrr`` model's rows believed at K."""
    clause, params = believed(known_at)
    with store.transaction() as tx:
        rows = tx.execute(f"SELECT kind, amount FROM view_mrr_movements WHERE currency = ? AND at <= ? AND {clause}",
                          (currency, sortable(instant), *params)).fetchall()
    return sum((mrr_reports.SIGN[kind] * parse_fraction(amount) for kind, amount in rows), Fraction(0))


@PROPERTY
@given(data=st.data())
def test_the_built_in_figures_equal_the_reports_over_the_read_models(data: st.DataObject,
                                                                     tmp_path_factory: pytest.TempPathFactory) -> None:
    with random_history(data, tmp_path_factory) as history:
        store = history.runner.store
        day_from = data.draw(st.dates(date(2025, 1, 1), date(2025, 12, 1)), label="days from")
        windows = [Window(date(2024, 12, 15), date(2026, 2, 10), "month"),
                   Window(day_from, day_from + timedelta(days=data.draw(st.integers(0, 40), label="days")), "day")]
        instant = datetime.combine(day_from, datetime.min.time()).replace(tzinfo=BOOK_CLOCK.tzinfo)
        for known_at in [*history.known[-2:], None]:
            book = _book(history.ledger, known_at)
            asked = data.draw(st.one_of(st.none(), st.dates(date(2025, 1, 1), date(2025, 12, 31))), label="as of")
            as_of = report_as_of(None if asked is None else datetime.combine(asked, time(12), UTC), known_at, NOW)
            standpoint = Standpoint(as_of, known_at)
            for currency in book.currencies(book.timelines()):
                for window in windows:
                    for name, replayed in (("mrr", figures.mrr_report), ("churn", figures.churn_report),
                                           ("revenue", revenue.revenue_report)):
                        modelled = {"mrr": mrr_reports.mrr_report, "churn": mrr_reports.churn_report,
                                    "revenue": revenue_reports.revenue_report}[name]
                        ours = replayed(book, window, currency, standpoint)[ROWS[name]]
                        theirs = modelled(store, window, currency, standpoint)[ROWS[name]]
                        assert ours == theirs, (name, known_at, window, history.commands)
                at = figures.mrr_at(book, instant, currency, known_at)["currencies"][0]
                assert at["mrr"] == money(_modelled_mrr(store, currency, instant, known_at)), (known_at, instant)


def _cli(settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
         *args: str) -> Any:
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", settings.database_url)
    assert main(["replay", *args]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_the_built_in_figures_of_the_small_book_are_those_worked_out_by_hand(
        settings: Settings, book_ledger: Ledger, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    def mrr_at(instant: str) -> str:
        body = _cli(settings, capsys, monkeypatch, "mrr", "--at", instant)
        return str(body["currencies"][0]["mrr"])

    assert [mrr_at(t) for t in ("2026-01-31T00:00:00Z", "2026-02-01T00:00:00Z", "2026-03-10T00:00:00Z",
                                "2026-03-16T00:00:00Z", "2026-04-30T00:00:00Z")] == [
        "4000.00", "14000.00", "15000.00", "12000.00", "11000.00"]
    bridge = _cli(settings, capsys, monkeypatch, "mrr", "--from", "2026-01-01", "--to", "2026-04-30")["buckets"]
    assert [(b["mrr"], b["new"], b["churn"], b["subscribers"]) for b in bridge] == [
        ("4000.00", "4000.00", "0.00", 2), ("14000.00", "10000.00", "0.00", 3),
        ("11000.00", "1000.00", "4000.00", 2), ("11000.00", "0.00", "0.00", 2)]
    churn = _cli(settings, capsys, monkeypatch, "churn", "--from", "2026-03-01", "--to", "2026-03-31")["periods"]
    assert (churn[0]["customers_start"], churn[0]["churned_customers"], churn[0]["customer_churn_rate"]) == (
        3, 2, "0.666667")
    cash = _cli(settings, capsys, monkeypatch, "revenue", "--from", "2026-01-01", "--to", "2026-04-30")["buckets"]
    assert [(b["billed"], b["collected"]) for b in cash] == [(4000, 4000), (124000, 124000), (5000, 5000),
                                                             (1000, 1000)]
    known = _cli(settings, capsys, monkeypatch, "mrr", "--at", "2026-04-30T00:00:00Z",
                 "--as-known-at", "2026-06-01T00:00:04Z")
    assert known["currencies"][0]["mrr"] == "4000.00"  # Ada and Bob were all the ledger knew then
    assert known["as_known_at"] == "2026-06-01T00:00:04Z"


def test_a_built_in_figure_refuses_a_window_the_reports_refuse(
        settings: Settings, book_ledger: Ledger, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", settings.database_url)
    for args in (["mrr", "--from", "2026-03-01", "--to", "2026-01-01"], ["mrr"],
                 ["mrr", "--at", "2026-01-01T00:00:00Z", "--from", "2026-01-01"],
                 ["churn", "--from", "2026-01-01", "--to", "2026-01-40"]):
        assert main(["replay", *args]) == 2, args
        assert capsys.readouterr().err.count("\n") == 1
