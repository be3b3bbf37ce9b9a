"""The cohort report: subscribers and MRR retained by signup month, read from the ``mrr``
model's cohort totals (``subledger replay cohorts`` folds the same from the log)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from subledger.projections.cohort_reports import cohort_matrix_report
from subledger.projections.report_window import Window
from subledger.replay.cohorts import check_months, cohort_rows

from ..answers import Format, answer
from ..deps import PrincipalDep, ViewsDep
from ..json_bodies import api_router
from .reports import CSV, REPORTS, From, KnownAt, ReportCurrency, To

router = api_router(tags=["reports"], dependencies=[REPORTS])


@router.get("/reports/cohorts", responses=CSV)
def cohorts(views: ViewsDep, _: PrincipalDep, from_: From, to: To, currency: ReportCurrency = None,
            as_known_at: KnownAt = None, format: Format = "json") -> Response:  # noqa: A002
    """Per signup month (a cohort: the subscribers whose first MRR fell in it), its size and
    starting MRR, and for each month since, as at the month's end, `{month, offset,
    subscribers, mrr, subscriber_retention, mrr_retention}` (a rate with a zero denominator
    is null). Read from the `mrr` read model's cohort totals, as known at `as_known_at` if
    given (`position` is the log position the model had applied); `format=csv` answers one
    row per cohort and month. A window covers at most 240 months."""
    window = Window(from_, to, "month")
    buckets = check_months(window)
    body: dict[str, Any] = cohort_matrix_report(views, window, buckets, currency, as_known_at)
    if format == "csv":
        return answer({"rows": cohort_rows(body)}, "rows", "csv")
    return answer(body, "cohorts", "json")
