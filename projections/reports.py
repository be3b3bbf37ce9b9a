"""Reports read from the read models: MRR with its movements, churn and retention.

Every figure is a sum of movement rows, and every movement names the events that caused
it, so a figure can be traced to the log (``/reports/mrr/movements``). A report "as known
at K" reads the rows the ledger believed at K (bitemporal), not a replay.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from subledger.domain.money import round_minor, round_minor_sum, round_rate
from subledger.domain.movements import MOVEMENT_KINDS, churn_rates
from subledger.domain.revenue import RevenueLine
from subledger.domain.time import UTC, parse_instant

from .mrr import FOREVER, MrrModel, fraction_text, parse_fraction, sortable
from .recognition import Line, at_boundaries, difference, microseconds
from .revenue import RevenueModel
from .store import CHECKPOINTS, ViewCursor, ViewStore

METRICS_VERSION = f"mrr-v{MrrModel.version}"
"""The version of the MRR, movement and churn definitions the reports are computed with."""


class ReportError(ValueError):
    """The report's parameters are not acceptable (-> 422)."""


@dataclass(frozen=True)
class Window:
    start: date
    end: date
    """Inclusive last day."""
    interval: str

    def buckets(self) -> Iterator[tuple[datetime, datetime]]:
        _check_days(self.start, self.end)
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


def _check_days(start: date, end: date) -> None:
    if end < start:
        raise ReportError("'to' must not be before 'from'")


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _believed(as_known_at: datetime | None) -> tuple[str, tuple[Any, ...]]:
    if as_known_at is None:
        return "recorded_to = ?", (FOREVER,)
    k = sortable(as_known_at)
    return "recorded_from <= ? AND recorded_to > ?", (k, k)


def currencies(store: ViewStore, as_known_at: datetime | None) -> list[str]:
    """The currencies of the movements and cash rows known at K (now if None)."""
    clause, params = _believed(as_known_at)
    known, known_params = _recorded(as_known_at)
    with store.transaction() as tx:
        found = _distinct_currencies(tx, "view_mrr_movements", clause, params)
        found |= _distinct_currencies(tx, "view_revenue_cash", known, known_params)
    return sorted(found)


def _distinct_currencies(tx: ViewCursor, table: str, clause: str, params: tuple[Any, ...]) -> set[str]:
    """A skip scan: the next currency after the last one found, one indexed ``min`` each
    (``currency`` leads an index of both tables), rather than ``DISTINCT`` over every row."""
    found: set[str] = set()
    last = ""
    while True:
        row = tx.execute(f"SELECT min(currency) FROM {table} WHERE currency > ? AND {clause}",
                         (last, *params)).fetchone()
        if row is None or row[0] is None:
            return found
        last = row[0]
        found.add(last)


def _recorded(as_known_at: datetime | None, column: str = "recorded_at") -> tuple[str, tuple[Any, ...]]:
    """Append-only rows: those recorded by K."""
    if as_known_at is None:
        return "1 = 1", ()
    return f"{column} <= ?", (sortable(as_known_at),)


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


SIGN = {"new": 1, "expansion": 1, "reactivation": 1, "contraction": -1, "churn": -1}
"""Each movement changes its subscriber's MRR by ``SIGN[kind] x amount``."""
HEADCOUNT = {"new": 1, "reactivation": 1, "churn": -1}
"""... and the number of subscribers with MRR > 0 by this."""


@dataclass(frozen=True)
class Flow:
    """One bucket of the MRR bridge: the standing at its start and end, and the sum and
    number of its movements of each kind."""

    start: datetime
    opening: Standing
    sums: dict[str, Fraction]
    counts: dict[str, int]
    closing: Standing


class _Tally:
    """Movements added up by kind: an exact sum and a count for each."""

    def __init__(self) -> None:
        self.sums = dict.fromkeys(MOVEMENT_KINDS, Fraction(0))
        self.counts = dict.fromkeys(MOVEMENT_KINDS, 0)

    def add(self, kind: str, amount: str, count: int) -> None:
        self.sums[kind] += parse_fraction(amount) * count
        self.counts[kind] += count

    def moved(self, standing: Standing) -> Standing:
        return Standing(
            standing.mrr + sum((SIGN[k] * v for k, v in self.sums.items()), Fraction(0)),
            standing.subscribers + sum(HEADCOUNT.get(k, 0) * n for k, n in self.counts.items()),
        )


def _flows(store: ViewStore, currency: str, buckets: list[tuple[datetime, datetime]],
           interval: str, as_known_at: datetime | None) -> list[Flow]:
    """The MRR bridge, bucket by bucket, added up by the database.

    A subscriber's movements chain (each one's MRR before is the previous one's after, from
    0), so the book's MRR at t is the signed sum of every movement before t, and its
    subscribers with MRR > 0 are its new and reactivation movements less its churns: the
    standing at the window's start is one ``GROUP BY`` over the rows before it, and each
    bucket's flows one more over the rows inside it, grouped by bucket, kind and amount
    (movements repeat a few prices). Nothing is read row by row."""
    clause, params = _believed(as_known_at)
    window_start, stop = sortable(buckets[0][0]), sortable(buckets[-1][1])
    width = 10 if interval == "day" else 7  # YYYY-MM-DD or YYYY-MM of the fixed-width ``at``
    with store.transaction() as tx:
        before = tx.execute(
            "SELECT kind, amount, count(*) FROM view_mrr_movements"
            f" WHERE currency = ? AND at < ? AND {clause} GROUP BY kind, amount",
            (currency, window_start, *params)).fetchall()
        inside = tx.execute(
            f"SELECT substr(at, 1, {width}) AS bucket, kind, amount, count(*) FROM view_mrr_movements"
            f" WHERE currency = ? AND at >= ? AND at < ? AND {clause} GROUP BY substr(at, 1, {width}), kind, amount",
            (currency, window_start, stop, *params)).fetchall()
    opening = _Tally()
    for kind, amount, count in before:
        opening.add(kind, amount, int(count))
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    for bucket, kind, amount, count in inside:
        tallies[bucket].add(kind, amount, int(count))
    standing = opening.moved(Standing(Fraction(0), 0))
    out = []
    for start, _end in buckets:
        tally = tallies.get(sortable(start)[:width], _Tally())
        closing = tally.moved(standing)
        out.append(Flow(start, standing, tally.sums, tally.counts, closing))
        standing = closing
    return out


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
    out = [
        {"date": flow.start.date().isoformat(), "mrr": _money(flow.closing.mrr),
         "arr": _money(12 * flow.closing.mrr), **{k: _money(v) for k, v in flow.sums.items()},
         "subscribers": flow.closing.subscribers}
        for flow in _flows(store, currency, buckets, window.interval, as_known_at)
    ]
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
    out = []
    for flow in _flows(store, currency, periods, window.interval, as_known_at):
        rates = churn_rates(
            customers_start=flow.opening.subscribers, churned_customers=flow.counts["churn"],
            mrr_start=flow.opening.mrr, churn=flow.sums["churn"],
            contraction=flow.sums["contraction"], expansion=flow.sums["expansion"],
            reactivation=flow.sums["reactivation"],
        )
        out.append({
            "period_start": flow.start.date().isoformat(), "customers_start": flow.opening.subscribers,
            "churned_customers": flow.counts["churn"], "mrr_start": _money(flow.opening.mrr),
            **{name: None if value is None else str(round_rate(value)) for name, value in rates.items()},
        })
    return {**head, "periods": out}


def _equal(filters: list[str], values: list[Any], *pairs: tuple[str, Any]) -> None:
    """A drill-down's optional filters: ``column = ?`` for each value given."""
    for column, value in pairs:
        if value is not None:
            filters.append(f"{column} = ?")
            values.append(value)


def _page(items: list[dict[str, Any]], *, more: bool, after: int, limit: int) -> dict[str, Any]:
    """A drill-down's page (its rows were read with ``LIMIT limit + 1 OFFSET after``)."""
    return {"items": items, "next_cursor": str(after + limit) if more else None}


def movement_list(store: ViewStore, *, start: date, end: date, currency: str | None,
                  kind: str | None, subscriber_id: str | None, as_known_at: datetime | None,
                  after: int, limit: int) -> dict[str, Any]:
    """The movements behind a figure, each with its amount and the events (ids and
    positions) that caused it."""
    _check_days(start, end)
    if kind is not None and kind not in MOVEMENT_KINDS:
        raise ReportError(f"kind must be one of {', '.join(MOVEMENT_KINDS)}")
    clause, params = _believed(as_known_at)
    filters = ["at >= ?", "at < ?", clause]
    values: list[Any] = [sortable(_midnight(start)), sortable(_midnight(end + timedelta(days=1))), *params]
    _equal(filters, values, ("currency", currency and currency.upper()), ("kind", kind),
           ("subscriber_id", subscriber_id))
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
    return _page(items, more=len(rows) > limit, after=after, limit=limit)


REVENUE_VERSION = RevenueModel.metrics_version


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
    boundaries = [microseconds(start) for start, _ in buckets] + [microseconds(buckets[-1][1])]
    known, known_params = _recorded(as_known_at)
    with store.transaction() as tx:
        # Summed per day by the database (buckets are whole UTC days): a few rows per day
        # instead of every invoice, charge and refund.
        cash = tx.execute(
            "SELECT kind, day, sum(amount) FROM view_revenue_cash"
            f" WHERE currency = ? AND at >= ? AND at < ? AND {known} GROUP BY kind, day ORDER BY day",
            (currency, sortable(buckets[0][0]), stop, *known_params)).fetchall()
        # The lines settled by the window's end. One that ended before it starts changes
        # no bucket: neither its recognition (all before) nor what is deferred (nothing).
        rows = tx.execute(
            "SELECT amount, start_us, end_us, settled_us FROM view_revenue_lines"
            f" WHERE currency = ? AND settled_us < ? AND end_us >= ? AND {known}",
            (currency, boundaries[-1], boundaries[0], *known_params)).fetchall()
    amount = _Amounts()
    at = at_boundaries((Line(s, e, t, *amount(a)) for a, s, e, t in rows), boundaries)
    cash_days = [day for _, day, _ in cash]
    out = []
    for index, (start, end) in enumerate(buckets):
        sums = {"billed": 0, "collected": 0, "refunded": 0}
        for kind, _, value in cash[bisect_left(cash_days, _day(start)):bisect_left(cash_days, _day(end))]:
            sums[kind] += int(value)
        opening, closing = at[index], at[index + 1]
        out.append({
            "date": start.date().isoformat(), "billed": sums["billed"], "collected": sums["collected"],
            "refunded": sums["refunded"], "net": sums["collected"] - sums["refunded"],
            "recognized": str(round_minor_sum(difference(closing.served, opening.served))),
            # Like MRR, "at the bucket's end" counts what happened strictly before it.
            "deferred": str(round_minor_sum(closing.deferred)),
        })
    return {**head, "buckets": out}


class _Amounts:
    """Text fractions of the line amounts as (numerator, denominator), parsed once each
    (amounts repeat a lot: prices)."""

    def __init__(self) -> None:
        self._parsed: dict[str, tuple[int, int]] = {}

    def __call__(self, text: str) -> tuple[int, int]:
        value = self._parsed.get(text)
        if value is None:
            fraction = parse_fraction(text)
            value = self._parsed[text] = (fraction.numerator, fraction.denominator)
        return value


def revenue_line_list(store: ViewStore, *, start: date, end: date, currency: str | None,
                      subscription_id: str | None, as_known_at: datetime | None,
                      after: int, limit: int) -> dict[str, Any]:
    """The cash rows behind billed, collected and refunded figures, each with its event."""
    _check_days(start, end)
    known, known_params = _recorded(as_known_at)
    filters = ["at >= ?", "at < ?", known]
    values: list[Any] = [sortable(_midnight(start)), sortable(_midnight(end + timedelta(days=1))),
                         *known_params]
    _equal(filters, values, ("currency", currency and currency.upper()), ("subscription_id", subscription_id))
    with store.transaction() as tx:
        rows = tx.execute(
            "SELECT event_id, subscription_id, subscriber_id, currency, kind, at, amount, position, source"
            f" FROM view_revenue_cash WHERE {' AND '.join(filters)} ORDER BY position LIMIT ? OFFSET ?",
            (*values, limit + 1, after)).fetchall()
    keys = ("event_id", "subscription_id", "subscriber_id", "currency", "kind", "effective_at",
            "amount", "position", "source")
    items = [dict(zip(keys, r, strict=True)) for r in rows[:limit]]
    return _page(items, more=len(rows) > limit, after=after, limit=limit)


def recognition_list(store: ViewStore, *, start: date, end: date, currency: str | None,
                     subscription_id: str | None, as_known_at: datetime | None,
                     after: int, limit: int) -> dict[str, Any]:
    """The lines behind ``recognized`` and ``deferred`` of the window ``[start, end]`` (days):
    every line paid by the window's end with a part served in it or deferred at its end,
    each with that part (``domain.revenue.RevenueLine.within`` and ``.unserved``), its
    service period, when it was paid, and the ``InvoiceIssued`` or ``RefundIssued`` event it
    comes from. The parts add up to the window's figures (before each is rounded to show)."""
    _check_days(start, end)
    lo, hi = _midnight(start), _midnight(end + timedelta(days=1))
    lo_us, hi_us = microseconds(lo), microseconds(hi)
    known, known_params = _recorded(as_known_at, "l.recorded_at")
    filters = [
        "l.settled_us < ?",
        f"l.amount <> '{fraction_text(Fraction(0))}'",  # adds nothing to any figure
        # a part served in [lo, hi), or a part for service after hi
        "((l.end_us > l.start_us AND l.start_us < ? AND l.end_us > ?)"
        " OR (l.end_us = l.start_us AND l.start_us >= ? AND l.start_us < ?) OR l.end_us > ?)",
        known,
    ]
    values: list[Any] = [hi_us, hi_us, lo_us, lo_us, hi_us, hi_us, *known_params]
    _equal(filters, values, ("l.currency", currency and currency.upper()), ("l.subscription_id", subscription_id))
    with store.transaction() as tx:
        rows = tx.execute(
            "SELECT l.subscription_id, l.currency, l.kind, l.amount, l.start_at, l.end_at, l.settled_at,"
            " l.source, c.event_id, c.position FROM view_revenue_lines l"
            " LEFT JOIN view_revenue_cash c ON c.source = l.source AND c.subscription_id = l.subscription_id"
            " AND c.kind IN ('billed', 'refunded')"
            f" WHERE {' AND '.join(filters)}"
            " ORDER BY l.settled_us, l.start_us, l.source, l.kind, l.amount LIMIT ? OFFSET ?",
            (*values, limit + 1, after)).fetchall()
    items = []
    for subscription, cur, kind, amount, start_at, end_at, settled_at, source, event_id, event_position in rows[:limit]:
        line = RevenueLine(parse_fraction(amount), cur, parse_instant(start_at), parse_instant(end_at),
                           parse_instant(settled_at), kind, source)
        items.append({
            "subscription_id": subscription, "currency": cur, "kind": kind, "source": source,
            "amount": _money(line.amount), "service_start": start_at, "service_end": end_at,
            "settled_at": settled_at, "recognized": _money(line.within(lo, hi)),
            "deferred": _money(line.unserved(hi) if line.settled_at < hi else Fraction(0)),
            "event_id": event_id, "position": event_position,
        })
    return _page(items, more=len(rows) > limit, after=after, limit=limit)


def _day(midnight: datetime) -> str:
    return sortable(midnight)[:10]


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
