"""The revenue report's recognition read from per-day summaries equals the sweep of its
lines, cent for cent: per line at every midnight (pure), and over random command histories
(backdated events, corrections, refunds, disputes) as of T and as known at K, on SQLite; a
report decides from the summaries' scaled totals alone, and reads the exact ones for a tie.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import NoReturn

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.ledger_histories import CATALOG_AT, random_history

from subledger.config import Settings
from subledger.domain.time import report_as_of
from subledger.projections.recognition import Line, at_boundaries, microseconds
from subledger.projections.recognition_days import DAY_US, RECOGNITION_DAYS, changes, line_changes
from subledger.projections.report_window import Standpoint, Window
from subledger.projections.revenue import RevenueModel
from subledger.projections.revenue_reports import line_recognition, summary_recognition
from subledger.projections.store import ViewStore

PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DAY = 20_000  # a day index in 2024
NOW = datetime(2027, 1, 1, tzinfo=UTC)


def _summed(line: Line, midnights: list[int]) -> list[tuple[Fraction, Fraction]]:
    """R and D of one line at each midnight, from its summary changes."""
    changes = list(line_changes(line.start, line.end, line.settled, Fraction(line.numerator, line.denominator)))
    out = []
    for t in midnights:
        sums = {"served_slope": Fraction(0), "served_constant": Fraction(0),
                "deferred_slope": Fraction(0), "deferred_constant": Fraction(0)}
        for day, kind, value in changes:
            if day * DAY_US <= t:
                sums[kind] += value
        out.append((sums["served_slope"] * t + sums["served_constant"],
                    sums["deferred_slope"] * t + sums["deferred_constant"]))
    return out


instants = st.integers(DAY * DAY_US - 3 * DAY_US, DAY * DAY_US + 40 * DAY_US) | st.integers(DAY - 3, DAY + 40).map(
    lambda day: day * DAY_US)


@settings(max_examples=400, deadline=None)
@given(start=instants, length=st.integers(0, 35 * DAY_US) | st.just(0), settled=instants,
       numerator=st.integers(-10**6, 10**6), denominator=st.integers(1, 7))
def test_a_lines_summary_changes_give_the_sweeps_served_and_deferred_at_every_midnight(
    start: int, length: int, settled: int, numerator: int, denominator: int,
) -> None:
    line = Line(start, start + length, settled, numerator, denominator)
    midnights = [(DAY + offset) * DAY_US for offset in range(-4, 78)]
    swept = [(sum((Fraction(n, d) for d, n in b.served.items()), Fraction(0)),
              sum((Fraction(n, d) for d, n in b.deferred.items()), Fraction(0)))
             for b in at_boundaries([line], midnights)]
    assert _summed(line, midnights) == swept


@PROPERTY
@given(data=st.data())
def test_recognition_from_the_summaries_equals_the_sweep_of_the_lines_as_of_t_and_known_at_k(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with random_history(data, tmp_path_factory) as history:
        day_from = data.draw(st.dates(date(2025, 1, 1), date(2025, 12, 1)), label="days from")
        windows = [Window(date(2024, 12, 15), date(2026, 2, 10), "month"),
                   Window(day_from, day_from + timedelta(days=data.draw(st.integers(0, 40), label="days")), "day")]
        for known_at in [*history.known, None]:
            asked = data.draw(st.one_of(st.none(), st.integers(0, 364 * 24).map(
                lambda hours: CATALOG_AT + timedelta(hours=hours, minutes=17))), label="as of")
            standpoint = Standpoint(report_as_of(asked, known_at, NOW), known_at)
            with history.runner.store.transaction() as tx:
                held = [c for (c,) in tx.execute("SELECT DISTINCT currency FROM view_revenue_lines").fetchall()]
            for currency in sorted(held):
                for window in windows:
                    buckets = list(window.buckets())
                    boundaries = [microseconds(s) for s, _ in buckets] + [microseconds(buckets[-1][1])]
                    with history.runner.store.transaction() as tx:
                        summary = summary_recognition(tx, currency, boundaries, standpoint)
                        swept = line_recognition(tx, currency, boundaries, standpoint)
                    # R is kept up to a whole number by the sweep: compare what buckets show.
                    assert [b[0] - a[0] for a, b in zip(summary, summary[1:], strict=False)] == \
                        [b[0] - a[0] for a, b in zip(swept, swept[1:], strict=False)], (standpoint, window)
                    assert [d for _, d in summary] == [d for _, d in swept], (standpoint, window)


@pytest.fixture
def revenue_views(settings: Settings) -> Iterator[ViewStore]:
    store = ViewStore(settings)
    with store.creating_tables() as tx:
        RevenueModel(lambda subscriber_id, up_to: []).create(tx)
    yield store
    store.close()


def _summarise(store: ViewStore, line: Line) -> None:
    with store.transaction() as tx:
        RECOGNITION_DAYS.record(tx, changes("USD", "2024-01-01T00:00:00.000000Z", line))


def test_recognition_is_decided_from_the_scaled_totals_without_reading_the_exact_ones(
        revenue_views: ViewStore, monkeypatch: pytest.MonkeyPatch) -> None:
    start = DAY * DAY_US
    _summarise(revenue_views, Line(start, start + 3 * DAY_US, start - DAY_US, 7, 1))  # 7 over 3 days
    monkeypatch.setattr(RECOGNITION_DAYS, "read", _no_exact_read)
    with revenue_views.transaction() as tx:
        found = summary_recognition(tx, "USD", [start + DAY_US, start + 2 * DAY_US], Standpoint(NOW))
    assert found == [(Decimal("2.33"), Decimal("4.67")), (Decimal("4.67"), Decimal("2.33"))]


def test_a_true_tie_at_a_midnight_is_read_exactly_and_rounded_to_even(revenue_views: ViewStore) -> None:
    # One minor unit served over 200 days: 1/200 = 0.005 served after the first day, exactly
    # half-way between hundredths; the scaled totals cannot tell which side, the exact ones can.
    start = DAY * DAY_US
    _summarise(revenue_views, Line(start, start + 200 * DAY_US, start - DAY_US, 1, 1))
    midnights = [start + days * DAY_US for days in (1, 2, 3)]
    with revenue_views.transaction() as tx:
        found = summary_recognition(tx, "USD", midnights, Standpoint(NOW))
    # Served 0.005, 0.01, 0.015 and deferred 0.995, 0.99, 0.985: ties go to the even hundredth.
    assert found == [(Decimal("0.00"), Decimal("1.00")), (Decimal("0.01"), Decimal("0.99")),
                     (Decimal("0.02"), Decimal("0.98"))]


def _no_exact_read(*args: object, **kwargs: object) -> NoReturn:
    raise AssertionError("the exact totals were read")
