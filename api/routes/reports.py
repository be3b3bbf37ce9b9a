"""Reports: MRR with its movements, churn and retention; CSV on request."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from subledger.commands.writes import ClosePeriod
from subledger.domain.errors import InvalidInput, PeriodNotFound
from subledger.domain.reporting import PERIOD, parse_month
from subledger.projections.drill_downs import movement_list, recognition_list, revenue_line_list
from subledger.projections.mrr_reports import METRICS_VERSION, churn_report, mrr_report
from subledger.projections.period_close import period_figures, restatement
from subledger.projections.report_window import Window, position
from subledger.projections.revenue_reports import REVENUE_VERSION, revenue_report
from subledger.projections.store import ViewStore

from ..deps import (
    Cursor,
    IdempotencyKeyHeader,
    LedgerDep,
    Limit,
    PrincipalDep,
    UuidQuery,
    parse_cursor,
)
from ..inputs import Currency, Day, Instant
from ..security import ApiProblem
from ..writes import respond

router = APIRouter(tags=["reports"])

From = Annotated[Day, Query(alias="from", description="First day, YYYY-MM-DD")]
To = Annotated[Day, Query(description="Last day, inclusive, YYYY-MM-DD; not before `from`")]
KnownAt = Annotated[Instant | None, Query(
    description="Answer from what the ledger had recorded at this instant")]
Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv")]
ReportCurrency = Annotated[Currency | None, Query(
    description="The book to report on; may be left out while the ledger holds at most one"
                " currency")]
CSV = {200: {"content": {"text/csv": {"schema": {"type": "string"}}},
             "description": "The report; with format=csv, its rows as CSV"}}


def _views(request: Request) -> ViewStore:
    views = request.app.state.views
    if views is None:
        raise ApiProblem("store-unavailable", "this API was started without read models")
    return views  # type: ignore[no-any-return]


def report_answer(body: dict[str, Any], rows_key: str, fmt: str) -> Response:
    if fmt == "json":
        return JSONResponse(body)
    out = io.StringIO()
    rows = body[rows_key]
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8")


@router.get("/reports/mrr", responses=CSV)
def mrr(request: Request, _: PrincipalDep, from_: From, to: To,
        interval: Literal["day", "month"] = "month", currency: ReportCurrency = None,
        as_known_at: KnownAt = None, format: Format = "json") -> Response:  # noqa: A002
    """Per bucket `{date, mrr, arr, new, expansion, reactivation, contraction, churn,
    subscribers}`; MRR as of the bucket's end; money in minor units as decimal strings."""
    window = Window(from_, to, interval)
    body = mrr_report(_views(request), window, currency, as_known_at)
    return report_answer(body, "buckets", format)


@router.get("/reports/mrr/movements")
def mrr_movements(request: Request, _: PrincipalDep, from_: From, to: To,
                  currency: ReportCurrency = None,
                  kind: Literal["new", "expansion", "reactivation", "contraction", "churn"] | None = None,
                  subscriber_id: UuidQuery = None, as_known_at: KnownAt = None,
                  limit: Limit = 100, cursor: Cursor = None) -> dict[str, Any]:
    """Each MRR movement with its amount and the events (ids and positions) that caused it."""
    return movement_list(
        _views(request), start=from_, end=to, currency=currency, kind=kind,
        subscriber_id=subscriber_id, as_known_at=as_known_at,
        after=parse_cursor(cursor), limit=limit)


@router.get("/reports/churn", responses=CSV)
def churn(request: Request, _: PrincipalDep, from_: From, to: To,
          interval: Literal["month", "day"] = "month", currency: ReportCurrency = None,
          as_known_at: KnownAt = None, format: Format = "json") -> Response:  # noqa: A002
    """Per period `{period_start, customers_start, churned_customers, customer_churn_rate,
    mrr_start, gross_mrr_churn_rate, net_mrr_churn_rate, net_revenue_retention}`; a rate
    with a zero denominator is null."""
    window = Window(from_, to, interval)
    body = churn_report(_views(request), window, currency, as_known_at)
    return report_answer(body, "periods", format)


@router.get("/reports/revenue", responses=CSV)
def revenue(request: Request, _: PrincipalDep, from_: From, to: To,
            interval: Literal["day", "month"] = "month", currency: ReportCurrency = None,
            as_known_at: KnownAt = None, format: Format = "json") -> Response:  # noqa: A002
    """Per bucket `{date, billed, collected, refunded, net, recognized, deferred}`: cash in
    integer minor units; recognized and deferred as decimal strings (recognition is per
    second over each paid line's service period)."""
    window = Window(from_, to, interval)
    body = revenue_report(_views(request), window, currency, as_known_at)
    return report_answer(body, "buckets", format)


@router.get("/reports/revenue/lines")
def revenue_lines(request: Request, _: PrincipalDep, from_: From, to: To,
                  currency: ReportCurrency = None, subscription_id: UuidQuery = None,
                  as_known_at: KnownAt = None, limit: Limit = 100,
                  cursor: Cursor = None) -> dict[str, Any]:
    """The invoices, charges and refunds behind the cash figures, each with its event id and
    position."""
    return revenue_line_list(
        _views(request), start=from_, end=to, currency=currency, subscription_id=subscription_id,
        as_known_at=as_known_at, after=parse_cursor(cursor), limit=limit)


@router.get("/reports/revenue/recognition")
def revenue_recognition(request: Request, _: PrincipalDep, from_: From, to: To,
                        currency: ReportCurrency = None, subscription_id: UuidQuery = None,
                        as_known_at: KnownAt = None, limit: Limit = 100,
                        cursor: Cursor = None) -> dict[str, Any]:
    """The revenue lines behind `recognized` and `deferred` of the window: each paid invoice
    line (and each refund's share of it) with its part recognized in the window, its part
    deferred at the window's end, its service period, when it was paid, and the
    `InvoiceIssued` or `RefundIssued` event it comes from."""
    return recognition_list(
        _views(request), start=from_, end=to, currency=currency, subscription_id=subscription_id,
        as_known_at=as_known_at, after=parse_cursor(cursor), limit=limit)


@router.post("/periods/{period}/close", status_code=201)
def close_period(request: Request, period: Annotated[str, Path(json_schema_extra={"pattern": PERIOD})],
                 ledger: LedgerDep, principal: PrincipalDep,
                 key: IdempotencyKeyHeader = None) -> Response:
    """Seal a month's figures (MRR, churn, revenue, per currency) as known now, as a
    `PeriodClosed` event. 409 if it is already closed or has not ended."""
    try:
        start, end = parse_month(period)
    except InvalidInput:
        raise PeriodNotFound(f"no period {period!r}; periods are months written YYYY-MM") from None
    views = _views(request)
    figures = period_figures(views, start, end)
    applied = min(position(views, "mrr"), position(views, "revenue"))
    versions = [METRICS_VERSION, REVENUE_VERSION]
    command = ClosePeriod(period, position=applied, metrics_versions=versions, figures=figures)
    return respond(principal, ledger, command, key)


@router.get("/reports/restatements")
def restatements(request: Request, ledger: LedgerDep, _: PrincipalDep) -> dict[str, Any]:
    """Per closed period: the figures at close, the figures known now, what changed, and
    the events recorded after the close that changed them."""
    views = _views(request)
    closed = ledger.event_log.read(0, 1000, ["PeriodClosed"]).items
    return {"items": [restatement(views, c) for c in closed]}
