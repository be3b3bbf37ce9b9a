"""Properties of the MRR read model over random command histories, on SQLite (a fresh file
per example; the histories are made by ``support.ledger_histories``: commands through the Ledger,
the projector run after random prefixes of them with random page sizes).

(a) the incremental model equals a rebuild from zero;
(b) as known at K (an instant between two commands) the model answers what
    the domain folds from only the events recorded by K;
(c) the movement identity holds exactly, bucket by bucket, in the rows of the model;
(d) the revenue report, as of T and as known at K, equals what the domain folds from
    the events recorded by K and effective by T (cash by effective time, recognition and
    deferral of the lines paid by T, recognized rounded cumulatively);
(e) a bucket reads the same in every window that contains it, and the days of a month add
    up to the month.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.ledger_histories import CATALOG_AT, RECORDED_FROM, History, log_prefix, random_history

from subledger.bootstrap import build_ledger, build_projector
from subledger.config import Settings
from subledger.domain.money import round_minor
from subledger.domain.movements import MOVEMENT_KINDS, movement_kind, movements
from subledger.domain.mrr import SUBSCRIPTION_EVENT_TYPES, mrr_before, mrr_timeline
from subledger.domain.revenue import revenue_lines
from subledger.domain.time import report_as_of
from subledger.projections.drill_downs import movement_list, recognition_list
from subledger.projections.mrr import FOREVER, parse_fraction, sortable
from subledger.projections.mrr_reports import churn_report, mrr_report
from subledger.projections.report_window import Standpoint, Window
from subledger.projections.revenue_reports import revenue_report
from subledger.replay.verify import scratch_views, verify

PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2027, 1, 1, tzinfo=UTC)
"""The ledger's clock when the reports are asked for (after every coupon's end)."""
BEFORE_ALL = datetime(2000, 1, 1, tzinfo=UTC)


# -- reading the model and folding the log -------------------------------------------------

Row = tuple[str, str, str, str, Fraction, Fraction, Fraction]
"""subscriber, currency, at, kind, amount, mrr_before, mrr_after (exact)."""


def _believed(history: History, known_at: datetime | None) -> list[Row]:
    """The model's movement rows believed at ``known_at`` (now if None), exact."""
    if known_at is None:
        clause, params = "recorded_to = ?", (FOREVER,)
    else:
        clause, params = "recorded_from <= ? AND recorded_to > ?", (sortable(known_at),) * 2
    with history.runner.store.transaction() as tx:
        rows = tx.execute("SELECT subscriber_id, currency, at, kind, amount, mrr_before, mrr_after"
                          f" FROM view_mrr_movements WHERE {clause}", params).fetchall()
    return sorted((s, c, at, k, parse_fraction(a), parse_fraction(b), parse_fraction(f))
                  for s, c, at, k, a, b, f in rows)


def _known_events(history: History, known_at: datetime | None) -> list[dict[str, Any]]:
    """The subscription events the ledger knew by ``known_at`` (every one if None): of the
    longest prefix of the log whose events had all been recorded by then."""
    return [e for e in log_prefix(history.ledger, known_at) if e["type"] in SUBSCRIPTION_EVENT_TYPES]


def _timelines(history: History, known_at: datetime | None,
               as_of: datetime | None = None) -> dict[str, list[Any]]:
    """Each subscriber's MRR timeline folded by the domain from only the events the
    ledger knew by ``known_at`` and effective by ``as_of`` (every one if None)."""
    mine: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in _known_events(history, known_at):
        mine[event["subscriber_id"]].append(event)
    return {subscriber: mrr_timeline(events, as_of=as_of) for subscriber, events in mine.items()}


def _folded(timelines: dict[str, list[Any]]) -> list[Row]:
    return sorted((subscriber, m.currency, sortable(m.at), m.kind, m.amount, m.mrr_before, m.mrr_after)
                  for subscriber, timeline in timelines.items() for m in movements(timeline))


def _months() -> list[tuple[datetime, datetime]]:
    starts = [datetime(2025 + (m - 1) // 12, (m - 1) % 12 + 1, 1, tzinfo=UTC) for m in range(1, 22)]
    return list(zip(starts, starts[1:], strict=False))


def _mrr_at(rows: list[Row], currency: str, instant: datetime) -> Fraction:
    """MRR just before ``instant`` from the rows: each subscriber's last ``mrr_after``."""
    last: dict[str, Fraction] = {}
    for subscriber, cur, at, _kind, _amount, _before, after in sorted(rows, key=lambda r: r[2]):
        if cur == currency and at < sortable(instant):
            last[subscriber] = after
    return sum(last.values(), Fraction(0))


def _summed(rows: list[Row], currency: str, kind: str, before: datetime) -> Fraction:
    """The movements of a kind before an instant, summed from the first one."""
    return sum((r[4] for r in rows if r[1] == currency and r[3] == kind and r[2] < sortable(before)),
               Fraction(0))


# -- the properties ------------------------------------------------------------------------


@PROPERTY
@given(data=st.data())
def test_the_incremental_mrr_model_equals_a_rebuild_from_zero(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with random_history(data, tmp_path_factory) as history:
        runner = history.runner
        # The whole bitemporal table, superseded rows included, against a scratch build.
        with scratch_views(history.settings) as scratch:
            for name in ("mrr", "subscriptions"):
                outcome = verify(runner, name, scratch)
                assert outcome.difference is None, (history.commands, outcome.difference.describe())
        # And the rows believed now, against the live model rebuilt in place.
        incremental = _believed(history, None)
        runner.rebuild("mrr")
        assert _believed(history, None) == incremental, history.commands


@PROPERTY
@given(data=st.data())
def test_as_known_at_k_equals_a_fold_of_the_events_recorded_by_k(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with random_history(data, tmp_path_factory) as history:
        for known_at in [*history.known, None]:
            timelines = _timelines(history, known_at)
            expected = _folded(timelines)
            assert _believed(history, known_at) == expected, (known_at, history.commands)

            # The reports stand as of now, or K: a coupon's end still to come is not counted.
            as_of = report_as_of(None, known_at, NOW)
            standpoint = Standpoint(as_of, known_at)
            timelines = _timelines(history, known_at, as_of)
            seen = _folded(timelines)

            # The drill-down report, as known at K (amounts as shown: rounded).
            items = movement_list(history.runner.store, start=date(2000, 1, 1), end=date(2100, 1, 1),
                                  currency=None, kind=None, subscriber_id=None, standpoint=standpoint,
                                  after=0, limit=1_000_000)["items"]
            assert sorted((i["subscriber_id"], i["currency"], i["effective_at"], i["kind"], i["amount"])
                          for i in items) == sorted(
                (s, c, at, k, str(round_minor(a))) for s, c, at, k, a, _b, _f in seen)

            # The MRR report, as known at K: each bucket's MRR and movements, as the fold says
            # (movements rounded where they are summed up from the first one).
            for currency in sorted({row[1] for row in seen}):
                report = mrr_report(history.runner.store, Window(date(2025, 1, 1), date(2026, 8, 31), "month"),
                                    currency, standpoint)
                for bucket, (begin, end) in zip(report["buckets"], _months(), strict=True):
                    mrr = sum((mrr_before(t, end).get(currency, Fraction(0)) for t in timelines.values()),
                              Fraction(0))
                    assert bucket["mrr"] == str(round_minor(mrr)), (known_at, bucket)
                    assert {k: bucket[k] for k in MOVEMENT_KINDS} == {
                        k: str(round_minor(_summed(seen, currency, k, end))
                               - round_minor(_summed(seen, currency, k, begin)))
                        for k in MOVEMENT_KINDS}, (known_at, bucket)


@PROPERTY
@given(data=st.data())
def test_the_movement_identity_holds_exactly_in_every_bucket_of_the_model(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with random_history(data, tmp_path_factory) as history:
        for known_at in [*history.known, None]:
            rows = _believed(history, known_at)
            # Each subscriber's movements chain: before = the previous after, amount = the
            # change, kind as docs/business-rules.md names it.
            chains: dict[tuple[str, str], list[Row]] = defaultdict(list)
            for row in sorted(rows, key=lambda r: r[2]):
                chains[row[0], row[1]].append(row)
            for chain in chains.values():
                mrr, had = Fraction(0), False
                for _s, _c, _at, kind, amount, before, after in chain:
                    assert before == mrr and amount == abs(after - before) > 0
                    assert kind == movement_kind(before, after, had_mrr=had)
                    mrr, had = after, had or after > 0
            # MRR(end) = MRR(start) + new + expansion + reactivation - contraction - churn.
            for currency in {row[1] for row in rows}:
                for begin, end in _months():
                    flows = dict.fromkeys(MOVEMENT_KINDS, Fraction(0))
                    for _s, cur, at, kind, amount, _b, _a in rows:
                        if cur == currency and sortable(begin) <= at < sortable(end):
                            flows[kind] += amount
                    assert _mrr_at(rows, currency, end) == (
                        _mrr_at(rows, currency, begin) + flows["new"] + flows["expansion"]
                        + flows["reactivation"] - flows["contraction"] - flows["churn"]), (known_at, begin)


CASH = {"InvoiceIssued": ("billed", "total", 1), "ChargeSucceeded": ("collected", "amount", 1),
        "RefundIssued": ("refunded", "amount", 1), "RefundReversed": ("refunded", "amount", -1)}
"""event type -> (figure, the field of its amount, its sign): a reversed refund takes
refunded back."""


def _as_of(data: st.DataObject, known_at: datetime | None) -> datetime:
    """Now (or K), or an instant drawn inside the book's year."""
    asked = data.draw(st.one_of(st.none(), st.integers(0, 364 * 24).map(
        lambda hours: CATALOG_AT + timedelta(hours=hours, minutes=17))), label="as of")
    return report_as_of(asked, known_at, NOW)


def _effective_by(events: list[dict[str, Any]], as_of: datetime) -> list[dict[str, Any]]:
    return [e for e in events if datetime.fromisoformat(e["effective_at"]) <= as_of]


def _revenue_rows(events: list[dict[str, Any]], currency: str,
                  buckets: list[tuple[datetime, datetime]]) -> list[dict[str, Any]]:
    """The revenue report's rows folded by the domain from ``events`` (those effective by
    the report's ``as_of``): recognized is R(end) - R(start) rounded where it is summed up,
    R(t) every paid line's part served before t."""
    lines = [line for line in revenue_lines(events) if line.currency == currency]

    def served(t: datetime) -> Fraction:
        return sum((line.within(BEFORE_ALL, t) for line in lines), Fraction(0))

    rows = []
    for begin, end in buckets:
        cash = {"billed": 0, "collected": 0, "refunded": 0}
        for e in events:
            at = datetime.fromisoformat(e["effective_at"])
            if e["type"] in CASH and e["data"]["currency"] == currency and begin <= at < end:
                figure, field, sign = CASH[e["type"]]
                cash[figure] += sign * int(e["data"][field])
        deferred = sum((line.unserved(end) for line in lines if line.settled_at < end), Fraction(0))
        rows.append({"date": begin.date().isoformat(), **cash, "net": cash["collected"] - cash["refunded"],
                     "recognized": str(round_minor(served(end)) - round_minor(served(begin))),
                     "deferred": str(round_minor(deferred))})
    return rows


@PROPERTY
@given(data=st.data())
def test_the_revenue_report_equals_a_fold_of_the_events_recorded_by_k_and_effective_by_t(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with random_history(data, tmp_path_factory) as history:
        day_from = data.draw(st.dates(date(2025, 1, 1), date(2025, 12, 1)), label="days from")
        windows = [Window(date(2024, 12, 15), date(2026, 2, 10), "month"),
                   Window(day_from, day_from + timedelta(days=data.draw(st.integers(0, 40), label="days")), "day")]
        for known_at in [*history.known, None]:
            as_of = _as_of(data, known_at)
            events = _effective_by(_known_events(history, known_at), as_of)
            lines = revenue_lines(events)
            for currency in sorted({e["data"]["currency"] for e in events if e["type"] in CASH}):
                mine = [line for line in lines if line.currency == currency]
                for window in windows:
                    buckets = list(window.buckets())
                    report = revenue_report(history.runner.store, window, currency, Standpoint(as_of, known_at))
                    assert report["buckets"] == _revenue_rows(events, currency, buckets), (
                        known_at, as_of, window, history.commands)
                    # The drill-down lists exactly the lines with a part in the window, each with it.
                    lo, hi = buckets[0][0], buckets[-1][1]
                    expected = sorted(
                        (line.kind, str(round_minor(line.amount)), sortable(line.start), sortable(line.end),
                         str(round_minor(line.within(lo, hi))),
                         str(round_minor(line.unserved(hi) if line.settled_at < hi else Fraction(0))))
                        for line in mine
                        if line.within(lo, hi) or (line.settled_at < hi and line.unserved(hi)))
                    items = recognition_list(history.runner.store, start=window.start, end=window.end,
                                             currency=currency, subscription_id=None,
                                             standpoint=Standpoint(as_of, known_at),
                                             after=0, limit=1_000_000)["items"]
                    assert sorted((i["kind"], i["amount"], i["service_start"], i["service_end"], i["recognized"],
                                   i["deferred"]) for i in items) == expected, (known_at, as_of, window)
                    assert all(i["event_id"] is not None for i in items)


REVENUE_FIGURES = ("billed", "collected", "refunded", "net", "recognized")


@PROPERTY
@given(data=st.data())
def test_a_bucket_reads_the_same_in_every_window_that_contains_it(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with random_history(data, tmp_path_factory) as history:
        store = history.runner.store
        month = data.draw(st.integers(1, 12), label="month")
        first = date(2025, month, 1)
        last = (datetime(2025, month, 1, tzinfo=UTC) + timedelta(days=32)).replace(day=1).date() - timedelta(days=1)
        wider = Window(first - timedelta(days=data.draw(st.integers(0, 400), label="days before")),
                       last + timedelta(days=data.draw(st.integers(0, 400), label="days after")), "month")
        alone, days = Window(first, last, "month"), Window(first, last, "day")
        for known_at in [history.known[0], None]:
            standpoint = Standpoint(_as_of(data, known_at), known_at)
            for currency in ("USD", "EUR"):
                def row(report: dict[str, Any], key: str = "buckets") -> dict[str, Any]:
                    (found,) = [b for b in report[key] if b.get("date", b.get("period_start")) == first.isoformat()]
                    return found  # type: ignore[no-any-return]

                revenue = row(revenue_report(store, alone, currency, standpoint))
                assert row(revenue_report(store, wider, currency, standpoint)) == revenue
                daily = revenue_report(store, days, currency, standpoint)["buckets"]
                for figure in REVENUE_FIGURES:
                    assert sum(Decimal(str(b[figure])) for b in daily) == Decimal(str(revenue[figure])), figure
                assert daily[-1]["deferred"] == revenue["deferred"]
                mrr = row(mrr_report(store, alone, currency, standpoint))
                assert row(mrr_report(store, wider, currency, standpoint)) == mrr
                daily = mrr_report(store, days, currency, standpoint)["buckets"]
                for kind in MOVEMENT_KINDS:
                    assert sum(Decimal(b[kind]) for b in daily) == Decimal(mrr[kind]), kind
                assert (daily[-1]["mrr"], daily[-1]["subscribers"]) == (mrr["mrr"], mrr["subscribers"])
                churn = row(churn_report(store, alone, currency, standpoint), "periods")
                assert row(churn_report(store, wider, currency, standpoint), "periods") == churn


class ScriptedClock:
    """A clock that reads what the test sets: two writers racing, as the log sees them."""

    def __init__(self) -> None:
        self.now = RECORDED_FROM

    def __call__(self) -> datetime:
        return self.now


def test_as_known_at_k_when_two_writers_commit_out_of_clock_order(tmp_path: Any) -> None:
    config = Settings.from_env({"SUBLEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}"})
    clock = ScriptedClock()
    ledger = build_ledger(config, clock=clock)
    runner = build_projector(config, ledger)
    try:
        ledger.catalog.create_plan(plan_id="basic", name="Basic", tier="basic", currency="USD", amount=1000,
                           interval="month", effective_at=CATALOG_AT)
        ledger.catalog.create_plan(plan_id="pro", name="Pro", tier="pro", currency="USD", amount=3000,
                           interval="month", effective_at=CATALOG_AT)
        ada = ledger.subscribers.register(email="ada@example.com", name="Ada", effective_at=CATALOG_AT)
        ledger.subscribers.set_payment_method(ada.id, gateway="sandbox", token="tok_visa", effective_at=CATALOG_AT)
        first, second = RECORDED_FROM + timedelta(seconds=2), RECORDED_FROM + timedelta(seconds=1)
        clock.now = first  # read its clock second, committed first
        ledger.subscriptions.start(ada.id, plan_id="pro", effective_at=CATALOG_AT + timedelta(days=10))
        clock.now = second  # read its clock first, committed second
        ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=CATALOG_AT + timedelta(days=5))
        runner.run_once()
        history = History(ledger, runner, config)
        known_at = second + timedelta(milliseconds=500)
        assert _believed(history, known_at) == _folded(_timelines(history, known_at))
    finally:
        runner.close()
        runner.store.close()
        ledger.close()
