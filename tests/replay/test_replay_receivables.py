"""Receivables folded straight from the log equal those read from the ``invoices`` model, as
of any instant and as known at K, over random command histories (declined cards, dunning,
cancellations, refunds), and what is owed now is what the invoices left open have due; and ``subledger replay receivables`` answers the invoice book's
figures worked out by hand (``support.invoices``), as the report does."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.invoices import BOOK_CLOCK, invoice_book
from support.ledger import FakeClock
from support.ledger_histories import random_history

from subledger.cli import main
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.domain.time import report_as_of
from subledger.projections.receivables import aging_report, owed_page
from subledger.projections.report_window import Standpoint
from subledger.replay.folds import run_fold
from subledger.replay.reader import Replay
from subledger.replay.receivables import Receivables, receivable_invoices, receivables_report
from subledger.replay.selection import Selection

PROPERTY = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2027, 1, 1, tzinfo=UTC)


@PROPERTY
@given(data=st.data())
def test_receivables_replayed_from_the_log_equal_those_of_the_read_model(
        data: st.DataObject, tmp_path_factory: pytest.TempPathFactory) -> None:
    with random_history(data, tmp_path_factory) as history:
        store = history.runner.store
        history.runner.run_once()
        for known_at in [*history.known[-2:], None]:
            replay = Replay(history.ledger.event_log, Selection(as_known_at=known_at), batch=5)
            book = run_fold(replay, Receivables()).value
            for _ in range(3):
                asked = data.draw(st.one_of(st.none(), st.dates(date(2025, 1, 1), date(2025, 12, 31))),
                                  label="as of")
                instant = None if asked is None else datetime.combine(asked, time(12), UTC)
                if known_at is not None and instant is not None and instant > known_at:
                    instant = None  # what was known at K is judged as of K at the latest
                as_of = report_as_of(instant, known_at, NOW)
                standpoint = Standpoint(as_of, known_at)
                for currency in (None, "USD", "EUR"):
                    ours = receivables_report(book, as_of, known_at, currency)["currencies"]
                    theirs = aging_report(store, standpoint, currency)["currencies"]
                    assert ours == theirs, (known_at, as_of, currency, history.commands)
                listed = owed_page(store, standpoint, currency=None, bucket=None, subscriber_id=None,
                                   after=0, limit=10_000)["items"]
                assert receivable_invoices(book, as_of, known_at, None)["items"] == listed
        with store.transaction() as tx:
            due = dict(tx.execute("SELECT currency, SUM(amount_due) FROM view_invoices WHERE status"
                                  " IN ('open', 'past_due') GROUP BY currency").fetchall())
        owed = aging_report(store, Standpoint(NOW), None)["currencies"]
        assert {c["currency"]: c["outstanding"] for c in owed} == {c: int(a) for c, a in due.items()}


@pytest.fixture
def invoice_ledger(ledger_on: Callable[..., Ledger], settings: Settings,
                   monkeypatch: pytest.MonkeyPatch) -> Ledger:
    ledger = ledger_on(clock=FakeClock(BOOK_CLOCK))
    invoice_book(ledger, settings)
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", settings.database_url)
    return ledger


def _replay(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["replay", "receivables", *args]) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def test_replay_receivables_answers_the_invoice_books_figures_worked_out_by_hand(
        invoice_ledger: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
    body = json.loads(_replay(capsys, "--at", "2026-06-01T12:00:00Z"))
    [usd] = body["currencies"]
    assert (usd["currency"], usd["outstanding"], usd["invoices"]) == ("USD", 1600, 2)
    assert {b["bucket"]: b["outstanding"] for b in usd["buckets"] if b["invoices"]} == {
        "61-90": 600, "over-90": 1000}
    early = json.loads(_replay(capsys, "--at", "2026-03-03T06:00:00Z", "--currency", "USD"))
    assert {b["bucket"]: b["outstanding"] for b in early["currencies"][0]["buckets"] if b["invoices"]} == {
        "current": 3000, "1-30": 1000}
    listed = json.loads(_replay(capsys, "--at", "2026-06-01T12:00:00Z", "--invoices"))["items"]
    assert [(i["number"], i["outstanding"], i["days_overdue"]) for i in listed] == [
        ("SL-2026-000002", 1000, 91), ("SL-2026-000003", 600, 90)]
    rows = list(csv.DictReader(io.StringIO(_replay(capsys, "--at", "2026-06-01T12:00:00Z",
                                                   "--invoices", "--format", "csv"))))
    assert [(r["number"], r["bucket"]) for r in rows] == [("SL-2026-000002", "over-90"),
                                                          ("SL-2026-000003", "61-90")]
    unknown = json.loads(_replay(capsys, "--as-known-at", "2026-06-01T11:00:00Z"))
    assert (unknown["as_of"], unknown["currencies"]) == ("2026-06-01T11:00:00.000000Z", [])


def test_replay_receivables_refuses_an_instant_after_now_or_an_unknown_currency_in_one_line(
        invoice_ledger: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["--at", "2199-01-01T00:00:00Z"], ["--at", "2026-03-01"], ["--currency", "XYZ"],
                 ["--currency", "US"]):
        assert main(["replay", "receivables", *args]) == 2, args
        assert capsys.readouterr().err.count("\n") == 1


def test_replay_receivables_reads_a_currency_code_in_any_case(
        invoice_ledger: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
    body = json.loads(_replay(capsys, "--at", "2026-06-01T12:00:00Z", "--currency", "usd"))
    assert [(c["currency"], c["outstanding"]) for c in body["currencies"]] == [("USD", 1600)]

