"""What-if: the same lifecycle replayed under another price catalog, its MRR, churn and
revenue side by side with the real figures, bucket by bucket. Nothing is written: the
ledger's log is only read, and the repriced events exist only in this replay.

What the model assumes is said in :mod:`.prices`: the same subscribers make the same choices
at the same times; only the prices differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from subledger.projections.report_window import Standpoint, Window

from .book import Book
from .figures import churn_report, mrr_report, report_head
from .folds import FoldResult, run_fold
from .prices import Price, Repricer
from .reader import LoggedEvent, Replay
from .revenue import revenue_report

ASSUMPTIONS = ("the same subscribers make the same choices at the same times (signups, plan and"
               " quantity changes, coupons, pauses, cancellations, failed payments, refunds);"
               " only the prices differ. MRR is recomputed from the new prices; invoices (their"
               " voids and credit notes with them), charges, refunds and lost disputes are scaled"
               " by the new price over the recorded one of the plan each subscription was on.")

SIDE_BY_SIDE = {
    "mrr": ("mrr", "buckets", "mrr"), "new": ("mrr", "buckets", "new"),
    "expansion": ("mrr", "buckets", "expansion"), "contraction": ("mrr", "buckets", "contraction"),
    "churn": ("mrr", "buckets", "churn"), "subscribers": ("mrr", "buckets", "subscribers"),
    "customer_churn_rate": ("churn", "periods", "customer_churn_rate"),
    "gross_mrr_churn_rate": ("churn", "periods", "gross_mrr_churn_rate"),
    "net_revenue_retention": ("churn", "periods", "net_revenue_retention"),
    "billed": ("revenue", "buckets", "billed"), "collected": ("revenue", "buckets", "collected"),
    "recognized": ("revenue", "buckets", "recognized"),
}
"""column -> (report, its rows, its field): the figures shown real and what-if."""
MONEY = frozenset({"mrr", "new", "expansion", "contraction", "churn", "billed", "collected", "recognized"})


@dataclass
class _Both:
    """A fold of the real book and the repriced one in one pass over the log."""

    prices: Mapping[str, Price]

    def initial(self) -> tuple[Book, Book]:
        return Book().initial(), Book(reprice=Repricer(self.prices)).initial()

    def apply(self, state: tuple[Book, Book], event: LoggedEvent) -> tuple[Book, Book]:
        real, what_if = state
        real.apply(real, event)
        what_if.apply(what_if, event)
        return state


def _reports(book: Book, window: Window, currency: str | None,
             standpoint: Standpoint) -> dict[str, dict[str, Any]]:
    return {"mrr": mrr_report(book, window, currency, standpoint),
            "churn": churn_report(book, window, currency, standpoint),
            "revenue": revenue_report(book, window, currency, standpoint)}


def what_if(replay: Replay, prices: Mapping[str, Price], window: Window, currency: str | None,
            standpoint: Standpoint) -> dict[str, Any]:
    """Per bucket, each figure of :data:`SIDE_BY_SIDE` as recorded (``real``), under
    ``prices`` (``what_if``) and, for money, the difference of the two as shown
    (``change``)."""
    result: FoldResult = run_fold(replay, _Both(prices))
    real_book, what_book = result.value
    real = _reports(real_book, window, currency, standpoint)
    other = _reports(what_book, window, currency, standpoint)
    rows = []
    for index, (start, _) in enumerate(window.buckets()):
        row: dict[str, Any] = {"date": start.date().isoformat()}
        for column, (report, key, name) in SIDE_BY_SIDE.items():
            if real[report][key]:
                row[column] = _side_by_side(column, real[report][key][index][name],
                                            other[report][key][index][name])
        rows.append(row)
    prices_shown = {plan: {"amount": p.amount} if p.amount is not None else {"percent": _decimal(p.percent)}
                    for plan, p in prices.items()}
    currency = real["mrr"]["currency"]
    return {**report_head(window, currency, standpoint, result.position), "prices": prices_shown,
            "assumptions": ASSUMPTIONS, "buckets": rows if currency is not None else []}


def _side_by_side(column: str, real: Any, what_if: Any) -> dict[str, Any]:
    """A figure real and what-if, with the difference of the two as shown (money only)."""
    pair = {"real": real, "what_if": what_if}
    if column in MONEY:
        pair["change"] = str(Decimal(str(what_if)) - Decimal(str(real)))
    return pair


def side_by_side_rows(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The answer as rows (one per bucket and figure): for CSV and tables."""
    return [{"date": bucket["date"], "figure": name, "real": pair["real"], "what_if": pair["what_if"],
             "change": pair.get("change")}
            for bucket in answer["buckets"] for name, pair in bucket.items() if name != "date"]


def _decimal(value: Any) -> str:
    """A percent read from a decimal (its denominator a power of ten) written back as one."""
    return str(Decimal(value.numerator) / Decimal(value.denominator))
