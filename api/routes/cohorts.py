"""The cohort report: subscribers and MRR retained by signup month, folded from the log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from subledger.projections.report_window import Window
from subledger.replay.book import Book
from subledger.replay.cohorts import check_months, cohort_report, cohort_rows
from subledger.replay.folds import run_fold
from subledger.replay.reader import Replay
from subledger.replay.selection import Selection

from ..answers import Format, answer
from ..deps import LedgerDep, PrincipalDep
from .reports import CSV, From, KnownAt, ReportCurrency, To

router = APIRouter(tags=["reports"])


@router.get("/reports/cohorts", responses=CSV)
def cohorts(ledger: LedgerDep, _: PrincipalDep, from_: From, to: To, currency: ReportCurrency = None,
            as_known_at: KnownAt = None, format: Format = "json") -> Response:  # noqa: A002
    """Per signup month (a cohort: the subscribers whose first MRR fell in it), its size and
    starting MRR, and for each month since, as at the month's end, `{month, offset,
    subscribers, mrr, subscriber_retention, mrr_retention}` (a rate with a zero denominator
    is null). Folded from the log on each request (no read model), as known at
    `as_known_at` if given; `format=csv` answers one row per cohort and month. A window
    covers at most 240 months."""
    window = Window(from_, to, "month")
    check_months(window)  # a window refused is refused before the log is read
    book = run_fold(Replay(ledger.event_log, Selection(as_known_at=as_known_at)), Book()).value
    body: dict[str, Any] = cohort_report(book, window, currency, as_known_at)
    if format == "csv":
        return answer({"rows": cohort_rows(body)}, "rows", "csv")
    return answer(body, "cohorts", "json")
