"""Reports read from the read models: MRR with its movements, churn and retention.

Every figure is a sum of movement rows, and every movement names the events that caused
it, so a figure can be traced to the log (``/reports/mrr/movements``). A report "as known
at K" reads the rows the ledger believed at K (bitemporal), not a replay.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from subledger.domain.metrics import MOVEMENT_KINDS, ZERO, churn_rates
from subledger.domain.money import round_minor, round_rate
from subledger.domain.time import UTC

from .mrr import FOREVER, MrrModel, parse_fraction, sortable
from .revenue import RevenueModel
from .store import CHECKPOINTS, ViewStore

METRICS_VERSION = f"mrr-v{MrrModel.version}"


class ReportError(ValueError):
    """The report's parameters are not acceptable (-> 422)."""


@dataclass(frozen=True)
class Window:
    start: date
    end: date
    """Inclusive last day."""
    interval: str

    def buckets(self) -> Iterator[tuple[datetime, datetime]]:
        if self.end < self.start:
            raise ReportError("'to' must not be before 'from'")
        if self.interval not in ("day", "month"):
            raise ReportError("interval must be 'day' or 'month'")
        stop = _midnight(self.end + timedelta(days=1))
        cursor = _midnight(self.start)
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
                raise ReportError("at most 5000 buckets per report")


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _believed(as_known_at: datetime | None) -> tuple[str, tuple[Any, ...]]:
    if as_known_at is None:
        return "recorded_to = ?", (FOREVER,)
    k = sortable(as_known_at)
    return "recorded_from <= ? AND recorded_to > ?", (k, k)


def currencies(store: ViewStore, as_known_at: datetime | None) -> list[str]:
    clause, params = _believed(as_known_at)
    known, known_params = _recorded(as_known_at)
    with store.transaction() as tx:
        rows = tx.execute(f"SELECT DISTINCT currency FROM view_mrr_movements WHERE {clause}",
                          params).fetchall()
        rows += tx.execute(f"SELECT DISTINCT currency FROM view_revenue_cash WHERE {known}",
                           known_params).fetchall()
    return sorted({r[0] for r in rows})


def _recorded(as_known_at: datetime | None) -> tuple[str, tuple[Any, ...]]:
    """Append-only rows: those recorded by K."""
    if as_known_at is None:
        return "1 = 1", ()
    return "recorded_at <= ?", (sortable(as_known_at),)


def pick_currency(store: ViewStore, currency: str | None, as_known_at: datetime | None) -> str | None:
    held = currencies(store, as_known_at)
    if currency is not None:
        return currency.upper()
    if len(held) > 1:
        raise ReportError(f"the ledger holds several currencies ({', '.join(held)}): name one with currency=")
    return held[0] if held else None


def position(store: ViewStore, model: str = "mrr") -> int:
    with store.transaction() as tx:
        row = tx.execute(f"SELECT position FROM {CHECKPOINTS} WHERE name = ?", (model,)).fetchone()
    return int(row[0]) if row else 0


def _rows(store: ViewStore, currency: str, before: datetime, as_known_at: datetime | None) -> list[tuple[Any, ...]]:
    clause, params = _believed(as_known_at)
    with store.transaction() as tx:
        return tx.execute(
            "SELECT subscriber_id, at, kind, amount, mrr_after FROM view_mrr_movements"
            f" WHERE currency = ? AND at < ? AND {clause} ORDER BY at, subscriber_id, kind",
            (currency, sortable(before), *params),
        ).fetchall()


def _head(store: ViewStore, window: Window, currency: str | None, as_known_at: datetime | None,
          model: str, version: str) -> dict[str, Any]:
    """What every report answers besides its rows: its parameters, the log position its
    read model had applied, and the version of the definitions it was computed with."""
    return {"from": window.start.isoformat(), "to": window.end.isoformat(),
            "interval": window.interval, "currency": currency,
            "as_known_at": None if as_known_at is None else sortable(as_known_at),
            "position": position(store, model), "metrics_version": version}


def _money(value: Fraction) -> str:
    return str(round_minor(value))


@dataclass(frozen=True)
class Standing:
    """The book at an instant: total MRR and the subscribers with MRR > 0."""

    mrr: Fraction
    subscribers: int


class _Fractions:
    """Text fractions of the movement rows, parsed once each (amounts repeat a lot)."""

    def __init__(self) -> None:
        self._parsed: dict[str, Fraction] = {}

    def __call__(self, text: str) -> Fraction:
        value = self._parsed.get(text)
        if value is None:
            value = self._parsed[text] = parse_fraction(text)
        return value


def _walk(
    rows: list[tuple[Any, ...]], buckets: list[tuple[datetime, datetime]], parse: _Fractions,
) -> Iterator[tuple[datetime, Standing, list[tuple[Any, ...]], Standing]]:
    """Walk movement rows (ordered by time) bucket by bucket: per bucket its start, the
    standing at its start, the movements inside it, and the standing at its end.

    The total is kept exactly as a sum of numerators per denominator, moved by each row's
    change (after - before): summing every subscriber's MRR again at each bucket is a
    ``Fraction`` addition per subscriber and bucket."""
    current: dict[str, Fraction] = {}
    numerators: dict[int, int] = defaultdict(int)
    positive = 0

    def move(row: tuple[Any, ...]) -> None:
        nonlocal positive
        before, after = current.get(row[0], ZERO), parse(row[4])
        numerators[before.denominator] -= before.numerator
        numerators[after.denominator] += after.numerator
        positive += (after > 0) - (before > 0)
        current[row[0]] = after

    def standing() -> Standing:
        return Standing(_total(numerators), positive)

    index = 0
    for start, end in buckets:
        while index < len(rows) and rows[index][1] < sortable(start):
            move(rows[index])
            index += 1
        opening = standing()
        inside = []
        while index < len(rows) and rows[index][1] < sortable(end):
            inside.append(rows[index])
            move(rows[index])
            index += 1
        yield start, opening, inside, standing()


def mrr_report(store: ViewStore, window: Window, currency: str | None,
               as_known_at: datetime | None) -> dict[str, Any]:
    """Per bucket: MRR and ARR as of the bucket's end, the movements in it, and the number
    of subscribers with MRR > 0 at its end. MRR(end) = MRR(start) + new + expansion +
    reactivation - contraction - churn, bucket by bucket."""
    buckets = list(window.buckets())
    currency = pick_currency(store, currency, as_known_at)
    head = _head(store, window, currency, as_known_at, "mrr", METRICS_VERSION)
    if currency is None:
        return {**head, "buckets": []}
    rows = _rows(store, currency, buckets[-1][1], as_known_at)
    parse = _Fractions()
    out = []
    for start, _opening, inside, closing in _walk(rows, buckets, parse):
        sums = dict.fromkeys(MOVEMENT_KINDS, Fraction(0))
        for _subscriber, _at, kind, amount, _after in inside:
            sums[kind] += parse(amount)
        out.append({
            "date": start.date().isoformat(), "mrr": _money(closing.mrr),
            "arr": _money(12 * closing.mrr), **{kind: _money(value) for kind, value in sums.items()},
            "subscribers": closing.subscribers,
        })
    return {**head, "buckets": out}


def churn_report(store: ViewStore, window: Window, currency: str | None,
                 as_known_at: datetime | None) -> dict[str, Any]:
    """Per period [start, end): customers and MRR at the start, churned customers (churn
    movements), and the rates of SEMANTICS.md (null when a denominator is 0)."""
    periods = list(window.buckets())
    currency = pick_currency(store, currency, as_known_at)
    head = _head(store, window, currency, as_known_at, "mrr", METRICS_VERSION)
    if currency is None:
        return {**head, "periods": []}
    rows = _rows(store, currency, periods[-1][1], as_known_at)
    parse = _Fractions()
    out = []
    for start, opening, inside, _closing in _walk(rows, periods, parse):
        customers_start, mrr_start = opening.subscribers, opening.mrr
        sums: dict[str, Fraction] = defaultdict(Fraction)
        for _subscriber, _at, kind, amount, _after in inside:
            sums[kind] += parse(amount)
        churned = sum(1 for row in inside if row[2] == "churn")
        rates = churn_rates(
            customers_start=customers_start, churned_customers=churned, mrr_start=mrr_start,
            churn=sums["churn"], contraction=sums["contraction"], expansion=sums["expansion"],
            reactivation=sums["reactivation"],
        )
        out.append({
            "period_start": start.date().isoformat(), "customers_start": customers_start,
            "churned_customers": churned, "mrr_start": _money(mrr_start),
            **{name: None if value is None else str(round_rate(value)) for name, value in rates.items()},
        })
    return {**head, "periods": out}


def movement_list(store: ViewStore, *, start: date, end: date, currency: str | None,
                  kind: str | None, subscriber_id: str | None, as_known_at: datetime | None,
                  after: int, limit: int) -> dict[str, Any]:
    """The movements behind a figure, each with its amount and the events (ids and
    positions) that caused it."""
    if kind is not None and kind not in MOVEMENT_KINDS:
        raise ReportError(f"kind must be one of {', '.join(MOVEMENT_KINDS)}")
    clause, params = _believed(as_known_at)
    filters = ["at >= ?", "at < ?", clause]
    values: list[Any] = [sortable(_midnight(start)), sortable(_midnight(end + timedelta(days=1))), *params]
    for column, value in (("currency", currency and currency.upper()), ("kind", kind),
                          ("subscriber_id", subscriber_id)):
        if value is not None:
            filters.append(f"{column} = ?")
            values.append(value)
    with store.transaction() as tx:
        rows = tx.execute(
            "SELECT subscriber_id, currency, at, kind, amount, mrr_before, mrr_after, event_ids,"
            f" positions FROM view_mrr_movements WHERE {' AND '.join(filters)}"
            " ORDER BY at, subscriber_id, kind LIMIT ? OFFSET ?",
            (*values, limit + 1, after),
        ).fetchall()
    items = [
        {"subscriber_id": r[0], "currency": r[1], "effective_at": r[2], "kind": r[3],
         "amount": _money(parse_fraction(r[4])), "mrr_before": _money(parse_fraction(r[5])),
         "mrr_after": _money(parse_fraction(r[6])), "event_ids": json.loads(r[7]),
         "positions": json.loads(r[8])}
        for r in rows[:limit]
    ]
    return {"items": items, "next_cursor": str(after + limit) if len(rows) > limit else None}


REVENUE_VERSION = f"revenue-v{RevenueModel.version}"


def revenue_report(store: ViewStore, window: Window, currency: str | None,
                   as_known_at: datetime | None) -> dict[str, Any]:
    """Per bucket: billed (invoice totals), collected (succeeded charges), refunded, net
    (collected - refunded), recognized (paid lines evenly per second over their service),
    and deferred at the bucket's end (collected for service after it, less its refunds)."""
    buckets = list(window.buckets())
    currency = pick_currency(store, currency, as_known_at)
    head = _head(store, window, currency, as_known_at, "revenue", REVENUE_VERSION)
    if currency is None:
        return {**head, "buckets": []}
    stop = sortable(buckets[-1][1])
    known, known_params = _recorded(as_known_at)
    with store.transaction() as tx:
        # Summed per day by the database (buckets are whole UTC days; ``at`` is fixed-width
        # UTC text): a few rows per day instead of every invoice, charge and refund.
        cash = tx.execute(
            "SELECT kind, substr(at, 1, 10) AS day, sum(amount) FROM view_revenue_cash"
            f" WHERE currency = ? AND at < ? AND {known} GROUP BY kind, day ORDER BY day",
            (currency, stop, *known_params)).fetchall()
        rows = tx.execute(
            "SELECT amount, start_at, end_at, settled_at, kind, source FROM view_revenue_lines"
            f" WHERE currency = ? AND settled_at < ? AND {known}",
            (currency, stop, *known_params)).fetchall()
    parse = _Fractions()
    lines = [_Line.of(parse(a), s, e, t) for a, s, e, t, _k, _src in rows]
    cash_days = [day for _, day, _ in cash]
    out = []
    for start, end in buckets:
        sums = {"billed": 0, "collected": 0, "refunded": 0}
        for kind, _, amount in cash[bisect_left(cash_days, _day(start)):bisect_left(cash_days, _day(end))]:
            sums[kind] += int(amount)
        lo, hi = _microseconds(start), _microseconds(end)
        recognized_sum = _recognized(lines, lo, hi)
        # Like MRR, "at the bucket's end" counts what happened strictly before it.
        deferred = _deferred(lines, hi)
        out.append({
            "date": start.date().isoformat(), "billed": sums["billed"], "collected": sums["collected"],
            "refunded": sums["refunded"], "net": sums["collected"] - sums["refunded"],
            "recognized": _money(recognized_sum), "deferred": _money(deferred),
        })
    return {**head, "buckets": out}


def revenue_line_list(store: ViewStore, *, start: date, end: date, currency: str | None,
                      subscription_id: str | None, as_known_at: datetime | None,
                      after: int, limit: int) -> dict[str, Any]:
    """The cash rows behind billed, collected and refunded figures, each with its event."""
    known, known_params = _recorded(as_known_at)
    filters = ["at >= ?", "at < ?", known]
    values: list[Any] = [sortable(_midnight(start)), sortable(_midnight(end + timedelta(days=1))),
                         *known_params]
    for column, value in (("currency", currency and currency.upper()), ("subscription_id", subscription_id)):
        if value is not None:
            filters.append(f"{column} = ?")
            values.append(value)
    with store.transaction() as tx:
        rows = tx.execute(
            "SELECT event_id, subscription_id, subscriber_id, currency, kind, at, amount, position"
            f" FROM view_revenue_cash WHERE {' AND '.join(filters)} ORDER BY position LIMIT ? OFFSET ?",
            (*values, limit + 1, after)).fetchall()
    keys = ("event_id", "subscription_id", "subscriber_id", "currency", "kind", "effective_at",
            "amount", "position")
    items = [dict(zip(keys, r, strict=True)) for r in rows[:limit]]
    return {"items": items, "next_cursor": str(after + limit) if len(rows) > limit else None}


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _microseconds(instant: datetime) -> int:
    return (instant - EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class _Line:
    """A revenue line (``domain.metrics.RevenueLine``) in integer microseconds since the
    epoch and its amount as numerator and denominator: the report sums the parts of every
    line ever settled, bucket by bucket."""

    start: int
    end: int
    settled: int
    numerator: int
    denominator: int

    @classmethod
    def of(cls, amount: Fraction, start: str, end: str, settled: str) -> _Line:
        return cls(_microseconds(_instant(start)), _microseconds(_instant(end)),
                   _microseconds(_instant(settled)), amount.numerator, amount.denominator)


# The two sums below are RevenueLine.within and RevenueLine.unserved over many lines, exact:
# each part is added to a running numerator per denominator (the line's length times its
# amount's denominator), and the few sums are made fractions at the end. A running
# Fraction sum of parts over lines of every length would grow its denominator towards their
# least common multiple, and each addition with it.

def _recognized(lines: Iterable[_Line], start: int, end: int) -> Fraction:
    """Revenue recognized in [start, end): each line evenly over its service, a zero-length
    line at its instant."""
    sums: dict[int, int] = defaultdict(int)
    for line in lines:
        if line.end < start or line.start >= end:
            continue  # no part in the bucket
        length = line.end - line.start
        if length == 0:
            if start <= line.start < end:
                sums[line.denominator] += line.numerator
            continue
        overlap = min(end, line.end) - max(start, line.start)
        if overlap > 0:
            sums[length * line.denominator] += line.numerator * overlap
    return _total(sums)


def _deferred(lines: Iterable[_Line], instant: int) -> Fraction:
    """Deferred at ``instant``: the part for service after it of the lines settled strictly
    before it."""
    sums: dict[int, int] = defaultdict(int)
    for line in lines:
        if line.settled >= instant or line.end <= instant:
            continue  # not settled yet, or nothing left to serve
        length = line.end - line.start
        if length == 0:
            sums[line.denominator] += line.numerator  # its instant is after ``instant``
        else:
            sums[length * line.denominator] += line.numerator * (line.end - max(instant, line.start))
    return _total(sums)


def _total(sums: dict[int, int]) -> Fraction:
    return sum((Fraction(n, d) for d, n in sums.items()), Fraction(0))


def _day(midnight: datetime) -> str:
    return sortable(midnight)[:10]


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def period_figures(store: ViewStore, start: datetime, end: datetime,
                   as_known_at: datetime | None = None) -> dict[str, Any]:
    """A month's figures per currency: its MRR bucket, churn period and revenue bucket."""
    window = Window(start.date(), (end - timedelta(days=1)).date(), "month")
    figures: dict[str, Any] = {}
    for currency in currencies(store, as_known_at):
        figures[currency] = {
            "mrr": mrr_report(store, window, currency, as_known_at)["buckets"][0],
            "churn": churn_report(store, window, currency, as_known_at)["periods"][0],
            "revenue": revenue_report(store, window, currency, as_known_at)["buckets"][0],
        }
    return figures


def restatement(store: ViewStore, closed: dict[str, Any]) -> dict[str, Any]:
    """A closed period's figures at close next to the figures known now, the figures that
    differ, and the events recorded after the close that changed them."""
    from subledger.domain.reporting import parse_month

    start, end = parse_month(closed["data"]["period"])
    now = period_figures(store, start, end)
    at_close = closed["data"]["figures"]
    changed = []
    for currency in sorted(set(now) | set(at_close)):
        for report in ("mrr", "churn", "revenue"):
            before = at_close.get(currency, {}).get(report, {})
            after = now.get(currency, {}).get(report, {})
            for field in sorted(set(before) | set(after)):
                if before.get(field) != after.get(field):
                    changed.append({"currency": currency, "report": report, "field": field,
                                    "at_close": before.get(field), "now": after.get(field)})
    closed_at = sortable(closed["recorded_at"])
    lo, hi = sortable(start), sortable(end)
    with store.transaction() as tx:
        movement_events = tx.execute(
            "SELECT event_ids, positions FROM view_mrr_movements WHERE at < ?"
            " AND (recorded_from > ? OR (recorded_to > ? AND recorded_to <> ?))",
            (hi, closed_at, closed_at, FOREVER)).fetchall()
        cash_events = tx.execute(
            "SELECT event_id, position FROM view_revenue_cash WHERE at >= ? AND at < ?"
            " AND recorded_at > ?", (lo, hi, closed_at)).fetchall()
    causes: dict[str, int] = {}
    for ids, positions in movement_events:
        causes.update(zip(json.loads(ids), json.loads(positions), strict=True))
    causes.update({event_id: position for event_id, position in cash_events})
    return {
        "period": closed["data"]["period"], "closed_at": closed["recorded_at"],
        "closed_position": closed["data"]["position"],
        "metrics_versions": closed["data"]["metrics_versions"],
        "at_close": at_close, "now": now, "changed": changed,
        "caused_by": [{"event_id": e, "position": p}
                      for e, p in sorted(causes.items(), key=lambda kv: (kv[1] or 0, kv[0]))
                      if p is None or p > closed["data"]["position"]] if changed else [],
    }
