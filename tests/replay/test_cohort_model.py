"""The cohort matrix read from the ``mrr`` model's cohort totals equals the one folded from
the log, now and as known at K, over random command histories (backdated subscriptions,
cancellations, pauses and resumptions, windows starting and ending mid-month); and the
small book's matrix, worked out by hand, comes through ``GET /reports/cohorts`` from it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.books import BOOK_CLOCK, small_book
from support.factories import utc
from support.ledger import CARD, FakeClock, add_subscriber
from support.ledger_histories import random_history

from subledger.bootstrap import build_api, build_projector
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.projections.cohort_reports import cohort_matrix_report
from subledger.projections.report_window import Window
from subledger.replay.book import Book
from subledger.replay.cohorts import check_months, cohort_report
from subledger.replay.folds import run_fold
from subledger.replay.reader import Replay
from subledger.replay.selection import Selection

SMALL = Window(date(2026, 1, 1), date(2026, 4, 30), "month")

PROPERTY = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _without_position(answer: dict[str, Any]) -> dict[str, Any]:
    """As known at K a replay stands at the last event known then, the model at the log
    position it had applied: everything else is the same."""
    return {name: value for name, value in answer.items() if name != "position"}


@PROPERTY
@given(data=st.data())
def test_the_cohort_model_answers_what_the_replay_folds(data: st.DataObject,
                                                        tmp_path_factory: pytest.TempPathFactory) -> None:
    with random_history(data, tmp_path_factory) as history:
        store = history.runner.store
        start = data.draw(st.dates(date(2024, 11, 1), date(2025, 9, 30)), label="from")
        windows = [Window(date(2024, 12, 15), date(2026, 2, 10), "month"),
                   Window(start, start + timedelta(days=data.draw(st.integers(0, 500), label="days")), "month")]
        for known_at in [*history.known[-3:], None]:
            book = run_fold(Replay(history.ledger.event_log, Selection(as_known_at=known_at)), Book()).value
            for currency in [*book.currencies(book.timelines()), "JPY"]:
                for window in windows:
                    replayed = cohort_report(book, window, currency, known_at)
                    modelled = cohort_matrix_report(store, window, check_months(window), currency, known_at)
                    if known_at is None:
                        assert modelled == replayed, history.commands
                    assert _without_position(modelled) == _without_position(replayed), (known_at, history.commands)


def test_get_reports_cohorts_reads_the_model_a_projector_keeps(settings: Settings, book_ledger: Ledger) -> None:
    projector = build_projector(settings, book_ledger)
    client = TestClient(build_api(settings, ledger=book_ledger))
    window = {"from": "2026-01-01", "to": "2026-04-30"}
    try:
        before = client.get("/reports/cohorts", params=window).json()
        projector.run_once()
        after = client.get("/reports/cohorts", params=window).json()
        known = client.get("/reports/cohorts", params={
            **window, "as_known_at": BOOK_CLOCK.replace(second=4).isoformat()}).json()
    finally:
        projector.close()
        projector.store.close()
    book = run_fold(Replay(book_ledger.event_log), Book()).value

    assert (before["currency"], before["cohorts"]) == (None, [])  # nothing projected yet
    assert after == cohort_report(book, Window(date(2026, 1, 1), date(2026, 4, 30), "month"), None, None)
    assert [(c["subscribers"], c["months"][-1]["subscribers"]) for c in known["cohorts"]] == [
        (2, 2), (0, 0), (0, 0), (0, 0)]


def test_a_reactivation_and_a_backdated_signup_move_the_model_as_the_replay(
        settings: Settings, ledger_on: Any) -> None:
    clock = FakeClock(BOOK_CLOCK)
    ledger = ledger_on(clock=clock)
    book = small_book(ledger, clock)
    clock.advance(seconds=1)
    ledger.subscriptions.start(book.bob, plan_id="basic", effective_at=utc(2026, 4, 10))  # back: reactivation
    eve = add_subscriber(ledger, "eve@example.com", at=utc(2026, 1, 20), token=CARD).id
    ledger.subscriptions.start(eve, plan_id="pro", effective_at=utc(2026, 3, 25))
    before_backdating = clock.advance(seconds=1)
    clock.advance(seconds=1)
    ledger.subscriptions.start(eve, plan_id="basic", effective_at=utc(2026, 2, 15))  # Eve's first MRR moves
    projector = build_projector(settings, ledger)
    try:
        projector.run_once()
        for known_at in (None, before_backdating, BOOK_CLOCK.replace(second=4)):
            replayed = run_fold(Replay(ledger.event_log, Selection(as_known_at=known_at)), Book()).value
            for window in (SMALL, Window(date(2026, 1, 15), date(2026, 4, 12), "month")):
                modelled = cohort_matrix_report(projector.store, window, check_months(window), None, known_at)
                assert _without_position(modelled) == _without_position(
                    cohort_report(replayed, window, None, known_at)), (known_at, window)
        now = cohort_matrix_report(projector.store, SMALL, check_months(SMALL), None, None)["cohorts"]
        then = cohort_matrix_report(projector.store, SMALL, check_months(SMALL), None, before_backdating)["cohorts"]
    finally:
        projector.close()
        projector.store.close()

    assert [(m["subscribers"], m["mrr"]) for m in now[0]["months"]] == [
        (2, "4000.00"), (2, "4000.00"), (1, "1000.00"), (2, "2000.00")]  # Bob back in April
    assert [c["subscribers"] for c in now] == [2, 2, 1, 0]  # Eve in February, from where she first paid
    assert [c["subscribers"] for c in then] == [2, 1, 2, 0]  # ... but in March before that was known
