"""What-if prices and cohorts over the small book (``support.books``): unchanged prices give
the real figures, new ones the figures worked out by hand; the cohort matrix is the one
worked out by hand, from Python, the command line and ``GET /reports/cohorts``."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.books import BOOK_CLOCK
from support.invoices import BOOK_CLOCK as INVOICES_CLOCK
from support.invoices import invoice_book
from support.ledger import FakeClock
from support.ledger_histories import random_history

from subledger.bootstrap import build_api, build_projector
from subledger.cli import main
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.domain.errors import InvalidInput
from subledger.projections.report_window import Standpoint, Window
from subledger.replay.book import Book
from subledger.replay.cohorts import cohort_report
from subledger.replay.folds import run_fold
from subledger.replay.prices import parse_prices, read_prices
from subledger.replay.reader import Replay
from subledger.replay.selection import Selection
from subledger.replay.whatif import what_if

WINDOW = Window(date(2026, 1, 1), date(2026, 4, 30), "month")
NOW = Standpoint(datetime(2027, 1, 1, tzinfo=UTC))
"""Where the figures stand: as of a time after everything in the books."""


def _unchanged(bucket: dict[str, Any]) -> bool:
    return all(pair["real"] == pair["what_if"] and pair.get("change") in (None, "0", "0.00")
               for name, pair in bucket.items() if name != "date")


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_what_if_with_unchanged_prices_equals_the_real_figures(
        data: st.DataObject, tmp_path_factory: pytest.TempPathFactory) -> None:
    unchanged = parse_prices({"basic": {"percent": 0}, "pro": {"amount": 2500}, "euro": {"percent": "0.0"}})
    with random_history(data, tmp_path_factory) as history:
        for currency in ("USD", "EUR"):
            answer = what_if(Replay(history.ledger.event_log), unchanged,
                             Window(date(2025, 1, 1), date(2026, 3, 31), "month"), currency, NOW)
            assert all(_unchanged(bucket) for bucket in answer["buckets"]), history.commands


def test_what_if_prices_move_mrr_and_cash_as_worked_out_by_hand(book_ledger: Ledger) -> None:
    # basic +20 %: Ada and Dee pay 12.00 a month; corp at 600.00 a year: Cy 50.00 a month.
    prices = parse_prices({"basic": {"percent": "20"}, "corp": {"amount": 60_000}})

    answer = what_if(Replay(book_ledger.event_log), prices, WINDOW, None, NOW)
    rows = {bucket["date"]: bucket for bucket in answer["buckets"]}

    assert [rows[d]["mrr"]["what_if"] for d in sorted(rows)] == ["4200.00", "9200.00", "6200.00", "6200.00"]
    assert [rows[d]["mrr"]["real"] for d in sorted(rows)] == ["4000.00", "14000.00", "11000.00", "11000.00"]
    assert rows["2026-02-01"]["collected"] == {"real": 124000, "what_if": 64200, "change": "-59800"}
    assert rows["2026-03-01"]["churn"] == {"real": "4000.00", "what_if": "4200.00", "change": "200.00"}
    assert rows["2026-03-01"]["customer_churn_rate"] == {"real": "0.666667", "what_if": "0.666667"}
    assert "same choices" in answer["assumptions"]


def test_a_price_file_that_says_nothing_clear_is_refused(tmp_path: Path) -> None:
    for document in ({}, [], {"basic": 1200}, {"basic": {"amount": -1}}, {"basic": {"amount": 1.5}},
                     {"basic": {"percent": "-100"}}, {"basic": {"percent": 1.5}}, {"basic": {"amount": 1, "percent": 1}}):
        with pytest.raises(InvalidInput):
            parse_prices(document)
    (tmp_path / "bad.json").write_text("{nope", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not JSON"):
        read_prices(tmp_path / "bad.json")


def test_what_if_takes_voids_and_credit_notes_back_at_their_invoices_new_price(
        ledger_on: Any, settings: Settings) -> None:
    # A void (1000) and credit notes (400 off what is due; 500 refunded and 300 to the
    # balance of a paid invoice): doubled prices double every amount, so every figure doubles.
    ledger = ledger_on(clock=FakeClock(INVOICES_CLOCK))
    invoice_book(ledger, settings)
    window = Window(date(2026, 3, 1), date(2027, 6, 30), "month")

    body = what_if(Replay(ledger.event_log), parse_prices({"basic": {"percent": "100"}}), window, "USD",
                   Standpoint(datetime(2028, 1, 1, tzinfo=UTC), None))

    totals = {figure: [sum(Decimal(str(b[figure][side])) for b in body["buckets"]) for side in ("real", "what_if")]
              for figure in ("billed", "collected", "recognized")}
    assert totals == {"billed": [6038, 12076], "collected": [4238, 8476],
                      "recognized": [Decimal("3238.00"), Decimal("6476.00")]}


@pytest.mark.parametrize("percent", ["Infinity", "-Infinity", "NaN", "1e999999999"])
def test_a_percent_that_is_no_finite_number_is_refused_in_one_line(
        settings: Settings, book_ledger: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, percent: str) -> None:
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", settings.database_url)
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"basic": {"percent": percent}}), encoding="utf-8")

    assert main(["replay", "what-if", "--prices", str(prices), "--from", "2026-01-01", "--to", "2026-04-30"]) == 2

    err = capsys.readouterr().err
    assert err.startswith("subledger: price of 'basic': percent") and err.count("\n") == 1


COHORTS = [  # worked out by hand: each month's end, subscribers retained / their MRR
    ("2026-01-01", 2, "4000.00", [(2, "4000.00", "1.000000", "1.000000"), (2, "4000.00", "1.000000", "1.000000"),
                                  (1, "1000.00", "0.500000", "0.250000"), (1, "1000.00", "0.500000", "0.250000")]),
    ("2026-02-01", 1, "10000.00", [(1, "10000.00", "1.000000", "1.000000")] * 3),
    ("2026-03-01", 1, "1000.00", [(0, "0.00", "0.000000", "0.000000")] * 2),
    ("2026-04-01", 0, "0.00", [(0, "0.00", None, None)]),
]


def _matrix(answer: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(c["cohort"], c["subscribers"], c["mrr"],
             [(m["subscribers"], m["mrr"], m["subscriber_retention"], m["mrr_retention"]) for m in c["months"]])
            for c in answer["cohorts"]]


def test_the_cohort_matrix_is_the_one_worked_out_by_hand(book_ledger: Ledger) -> None:
    book = run_fold(Replay(book_ledger.event_log), Book()).value

    answer = cohort_report(book, WINDOW, None, None)

    assert _matrix(answer) == COHORTS
    assert [m["month"] for m in answer["cohorts"][0]["months"]] == ["2026-01-01", "2026-02-01", "2026-03-01",
                                                                     "2026-04-01"]


def test_cohorts_as_known_at_k_count_only_the_subscribers_known_then(book_ledger: Ledger) -> None:
    known_at = BOOK_CLOCK.replace(second=4)  # Ada and Bob had started; nothing else was known
    book = run_fold(Replay(book_ledger.event_log, Selection(as_known_at=known_at)), Book()).value

    answer = cohort_report(book, WINDOW, None, known_at)

    assert [(c["cohort"], c["subscribers"], c["months"][-1]["subscribers"]) for c in answer["cohorts"]] == [
        ("2026-01-01", 2, 2), ("2026-02-01", 0, 0), ("2026-03-01", 0, 0), ("2026-04-01", 0, 0)]


def test_subledger_replay_cohorts_prints_the_matrix(settings: Settings, book_ledger: Ledger,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", settings.database_url)
    args = ["replay", "cohorts", "--from", "2026-01-01", "--to", "2026-04-30"]

    assert main(args) == 0
    assert _matrix(json.loads(capsys.readouterr().out)) == COHORTS
    assert main([*args, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert main([*args, "--format", "table"]) == 0
    table = capsys.readouterr().out

    assert len(rows) == 4 + 3 + 2 + 1 and rows[2]["mrr_retention"] == "0.250000"
    assert "1 / 1000.00" in table and "m3" in table


def test_get_reports_cohorts_answers_the_matrix_and_problems(settings: Settings, book_ledger: Ledger) -> None:
    projector = build_projector(settings, book_ledger)
    projector.run_once()  # the route reads the ``mrr`` model
    projector.close()
    projector.store.close()
    client = TestClient(build_api(settings, ledger=book_ledger))

    answer = client.get("/reports/cohorts", params={"from": "2026-01-01", "to": "2026-04-30"})
    known = client.get("/reports/cohorts", params={"from": "2026-01-01", "to": "2026-04-30",
                                                   "as_known_at": "2026-06-01T00:00:04Z"})
    as_csv = client.get("/reports/cohorts", params={"from": "2026-01-01", "to": "2026-04-30", "format": "csv"})
    backwards = client.get("/reports/cohorts", params={"from": "2026-04-01", "to": "2026-01-01"})
    bad_day = client.get("/reports/cohorts", params={"from": "2026-02-30", "to": "2026-04-01"})

    assert answer.status_code == 200 and _matrix(answer.json()) == COHORTS
    assert answer.json()["position"] == book_ledger.event_log.max_position()
    assert [c["subscribers"] for c in known.json()["cohorts"]] == [2, 0, 0, 0]
    assert as_csv.headers["content-type"].startswith("text/csv") and as_csv.text.count("\n") == 11
    assert (backwards.status_code, backwards.json()["type"]) == (422, "/problems/invalid-window")
    assert backwards.headers["content-type"] == "application/problem+json"
    assert bad_day.status_code == 422
    assert "/reports/cohorts" in client.get("/openapi.json").json()["paths"]


def test_a_cohort_matrix_of_more_than_240_months_is_refused(settings: Settings, book_ledger: Ledger) -> None:
    client = TestClient(build_api(settings, ledger=book_ledger))

    refused = client.get("/reports/cohorts", params={"from": "1970-01-01", "to": "2199-12-31"})

    assert (refused.status_code, refused.json()["type"]) == (422, "/problems/invalid-window")
    assert "240 months" in refused.json()["detail"]
