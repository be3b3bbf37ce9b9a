"""A month's figures as a period close seals them, and restatements of closed periods.

A close seals, per currency, the month's MRR bucket, churn period and revenue bucket as
known then and as of then, and what was owed at the month's end, and is never edited.
Figures that change later (a backdated signup, a correction, an invoice of the month paid
after the close) show up as restatements:
the figures at close next to the same figures known now and as of now, the figures that
differ, and the events recorded after the close that changed them.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from .mrr import FOREVER, sortable
from .mrr_reports import churn_report, mrr_report
from .receivables import changed_after, month_end_figures
from .recognition import microseconds
from .report_window import Standpoint, Window, currencies
from .revenue_reports import revenue_report
from .store import ViewStore


def period_figures(store: ViewStore, start: datetime, end: datetime,
                   standpoint: Standpoint) -> dict[str, Any]:
    """A month's figures per currency: its MRR bucket, churn period and revenue bucket, and
    what was owed at its end (``receivables.month_end_figures``)."""
    window = Window(start.date(), (end - timedelta(days=1)).date(), "month")
    figures: dict[str, Any] = {}
    for currency in currencies(store, standpoint.as_known_at):
        figures[currency] = {
            "mrr": mrr_report(store, window, currency, standpoint)["buckets"][0],
            "churn": churn_report(store, window, currency, standpoint)["periods"][0],
            "revenue": revenue_report(store, window, currency, standpoint)["buckets"][0],
            "receivables": month_end_figures(store, end, standpoint, currency),
        }
    return figures


def restatement(store: ViewStore, closed: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A closed period's figures at close next to the figures known now and as of ``now``,
    the figures that differ, and the events recorded after the close that changed them."""
    from subledger.domain.reporting import parse_month

    start, end = parse_month(closed["data"]["period"])
    figures_now = period_figures(store, start, end, Standpoint(now))
    at_close = closed["data"]["figures"]
    changed = []
    for currency in sorted(set(figures_now) | set(at_close)):
        for report in _sealed(at_close):
            before = at_close.get(currency, {}).get(report, {})
            after = figures_now.get(currency, {}).get(report, {})
            for field in sorted(set(before) | set(after)):
                if before.get(field) != after.get(field):
                    changed.append({"currency": currency, "report": report, "field": field,
                                    "at_close": before.get(field), "now": after.get(field)})
    causes = _recorded_after(store, sortable(closed["recorded_at"]), start, end) if changed else {}
    return {
        "period": closed["data"]["period"], "closed_at": closed["recorded_at"],
        "closed_position": closed["data"]["position"],
        "metrics_versions": closed["data"]["metrics_versions"],
        "at_close": at_close, "now": figures_now, "changed": changed,
        "caused_by": [{"event_id": e, "position": p}
                      for e, p in sorted(causes.items(), key=lambda kv: (kv[1] or 0, kv[0]))
                      if p is None or p > closed["data"]["position"]],
    }


def _sealed(at_close: dict[str, Any]) -> tuple[str, ...]:
    """The reports a close sealed: a period closed before receivables were sealed with the
    other figures is not restated for them."""
    receivables = any("receivables" in figures for figures in at_close.values())
    return ("mrr", "churn", "revenue", *(("receivables",) if receivables else ()))


def _recorded_after(store: ViewStore, closed_at: str, start: datetime, end: datetime) -> dict[str, int]:
    """The events recorded after a close that can change the month's figures, with their
    positions: those of its movements (learned or retracted since), of its cash rows, and
    the settlements (a charge, a refund) of lines served in it, such as an invoice of the
    month paid after the close, and those that changed what was owed before the month's
    end."""
    lo, hi = sortable(start), sortable(end)
    lo_us, hi_us = microseconds(start), microseconds(end)
    with store.transaction() as tx:
        movement_events = tx.execute(
            "SELECT event_ids, positions FROM view_mrr_movements WHERE at < ?"
            " AND (recorded_from > ? OR (recorded_to > ? AND recorded_to <> ?))",
            (hi, closed_at, closed_at, FOREVER)).fetchall()
        cash_events = tx.execute(
            "SELECT event_id, position FROM view_revenue_cash WHERE at >= ? AND at < ?"
            " AND recorded_at > ?", (lo, hi, closed_at)).fetchall()
        # A line is settled by the cash event of its subscription at its settlement instant.
        settlements = tx.execute(
            "SELECT c.event_id, c.position FROM view_revenue_lines l JOIN view_revenue_cash c"
            " ON c.subscription_id = l.subscription_id AND c.at = l.settled_at"
            " WHERE l.recorded_at > ? AND c.recorded_at > ? AND l.start_us < ?"
            " AND (l.end_us > ? OR (l.end_us = l.start_us AND l.start_us >= ?))",
            (closed_at, closed_at, hi_us, lo_us, lo_us)).fetchall()
        owed = changed_after(tx, closed_at, end)
    causes: dict[str, int] = {}
    for ids, positions in movement_events:
        causes.update(zip(json.loads(ids), json.loads(positions), strict=True))
    causes.update({event_id: position for event_id, position in [*cash_events, *settlements, *owed]})
    return causes
