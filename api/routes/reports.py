"""Reports: MRR with its movements, churn and retention; CSV on request."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query, Request
from fastapi.responses import Response

from subledger.commands.ledger import Ledger
from subledger.commands.writes import ClosePeriod
from subledger.domain.errors import InvalidInput, PeriodNotFound
from subledger.domain.reporting import PERIOD, parse_month
from subledger.domain.time import report_as_of
from subledger.projections.drill_downs import movement_list, recognition_list, revenue_line_list
from subledger.projections.mrr_reports import METRICS_VERSION, churn_report, mrr_report
from subledger.projections.period_close import period_figures, restatement
from subledger.projections.receivables import RECEIVABLES_VERSION
from subledger.projections.report_window import Standpoint, Window, position
from subledger.projections.revenue_reports import REVENUE_VERSION, revenue_report
from subledger.projections.store import ViewStore

from ..answers import Format, answer, csv_responses
from ..deps import (
    Cursor,
    IdempotencyKeyHeader,
    LedgerDep,
    Limit,
    PrincipalDep,
    UuidQuery,
    get_views,
    parse_cursor,
)
from ..inputs import Currency, Day, Instant
from ..json_bodies import api_router
from ..positions import reads
from ..writes import respond

router = api_router(tags=["reports"])
MRR, REVENUE = reads("mrr"), reads("revenue")
REPORTS = reads("mrr", "revenue")
"""A report's figures come from one model, but the currency it picks when none is asked for
is chosen from both models' rows (``report_window.pick_currency``): it waits for both."""

From = Annotated[Day, Query(alias="from", description="First day, YYYY-MM-DD")]
To = Annotated[Day, Query(description="Last day, inclusive, YYYY-MM-DD; not before `from`")]
KnownAt = Annotated[Instant | None, Query(
    description="Answer from what the ledger had recorded at this instant")]
AsOf = Annotated[Instant | None, Query(
    description="Count only what was effective by this instant, in every bucket (a state at"
                " a bucket's end, and what can arrive after its period, such as an invoice"
                " paid late). Default: now, or `as_known_at` when given and earlier; a later"
                " instant is refused (422 invalid-as-of)")]
ReportCurrency = Annotated[Currency | None, Query(
    description="The book to report on; may be left out while the ledger holds at most one"
                " currency")]
CSV = csv_responses("The report")


def standpoint(ledger: LedgerDep, as_of: AsOf = None, as_known_at: KnownAt = None) -> Standpoint:
    """Where a report stands: as of ``as_of`` (by the ledger's own clock), as known at K."""
    return Standpoint(report_as_of(as_of, as_known_at, ledger.clock()), as_known_at)


StandpointDep = Annotated[Standpoint, Depends(standpoint)]


@router.get("/reports/mrr", responses=CSV, dependencies=[REPORTS])
def mrr(request: Request, _: PrincipalDep, from_: From, to: To, at: StandpointDep,
        interval: Literal["day", "month"] = "month", currency: ReportCurrency = None,
        format: Format = "json") -> Response:  # noqa: A002
    """Per bucket `{date, mrr, arr, new, expansion, reactivation, contraction, churn,
    subscribers}`; MRR as of the bucket's end; money in minor units as decimal strings."""
    window = Window(from_, to, interval)
    body = mrr_report(get_views(request), window, currency, at)
    return answer(body, "buckets", format)


@router.get("/reports/mrr/movements", dependencies=[MRR])
def mrr_movements(request: Request, _: PrincipalDep, from_: From, to: To, at: StandpointDep,
                  currency: ReportCurrency = None,
                  kind: Literal["new", "expansion", "reactivation", "contraction", "churn"] | None = None,
                  subscriber_id: UuidQuery = None, limit: Limit = 100,
                  cursor: Cursor = None) -> dict[str, Any]:
    """Each MRR movement with its amount and the events (ids and positions) that caused it."""
    return movement_list(
        get_views(request), start=from_, end=to, currency=currency, kind=kind,
        subscriber_id=subscriber_id, standpoint=at,
        after=parse_cursor(cursor), limit=limit)


@router.get("/reports/churn", responses=CSV, dependencies=[REPORTS])
def churn(request: Request, _: PrincipalDep, from_: From, to: To, at: StandpointDep,
          interval: Literal["month", "day"] = "month", currency: ReportCurrency = None,
          format: Format = "json") -> Response:  # noqa: A002
    """Per period `{period_start, customers_start, churned_customers, customer_churn_rate,
    mrr_start, gross_mrr_churn_rate, net_mrr_churn_rate, net_revenue_retention}`; a rate
    with a zero denominator is null."""
    window = Window(from_, to, interval)
    body = churn_report(get_views(request), window, currency, at)
    return answer(body, "periods", format)


@router.get("/reports/revenue", responses=CSV, dependencies=[REPORTS])
def revenue(request: Request, _: PrincipalDep, from_: From, to: To, at: StandpointDep,
            interval: Literal["day", "month"] = "month", currency: ReportCurrency = None,
            format: Format = "json") -> Response:  # noqa: A002
    """Per bucket `{date, billed, collected, refunded, net, recognized, deferred}`: cash in
    integer minor units; recognized and deferred as decimal strings (recognition is per
    second over each paid line's service period)."""
    window = Window(from_, to, interval)
    body = revenue_report(get_views(request), window, currency, at)
    return answer(body, "buckets", format)


@router.get("/reports/revenue/lines", dependencies=[REVENUE])
def revenue_lines(request: Request, _: PrincipalDep, from_: From, to: To, at: StandpointDep,
                  currency: ReportCurrency = None, subscription_id: UuidQuery = None,
                  limit: Limit = 100, cursor: Cursor = None) -> dict[str, Any]:
    """The invoices, charges and refunds behind the cash figures, each with its event id and
    position."""
    return revenue_line_list(
        get_views(request), start=from_, end=to, currency=currency, subscription_id=subscription_id,
        standpoint=at, after=parse_cursor(cursor), limit=limit)


@router.get("/reports/revenue/recognition", dependencies=[REVENUE])
def revenue_recognition(request: Request, _: PrincipalDep, from_: From, to: To, at: StandpointDep,
                        currency: ReportCurrency = None, subscription_id: UuidQuery = None,
                        limit: Limit = 100, cursor: Cursor = None) -> dict[str, Any]:
    """The revenue lines behind `recognized` and `deferred` of the window: each paid invoice
    line (and each refund's share of it) with its part recognized in the window, its part
    deferred at the window's end, its service period, when it was paid, and the
    `InvoiceIssued` or `RefundIssued` event it comes from."""
    return recognition_list(
        get_views(request), start=from_, end=to, currency=currency, subscription_id=subscription_id,
        standpoint=at, after=parse_cursor(cursor), limit=limit)


@router.post("/periods/{period}/close", status_code=201)
def close_period(request: Request, period: Annotated[str, Path(json_schema_extra={"pattern": PERIOD})],
                 ledger: LedgerDep, principal: PrincipalDep,
                 key: IdempotencyKeyHeader = None) -> Response:
    """Seal a month's figures (MRR, churn, revenue, and what was owed at its end, per
    currency) as known now and as of now, as a `PeriodClosed` event. 409 if it is already
    closed or has not ended."""
    return respond(principal, ledger, close_command(get_views(request), ledger, period), key)


def close_command(views: ViewStore, ledger: Ledger, period: str) -> ClosePeriod:
    """The close of ``period`` (``YYYY-MM``) with its figures as the read models hold them
    now: the API's route and the dashboard's form run this same command."""
    try:
        start, end = parse_month(period)
    except InvalidInput:
        raise PeriodNotFound(f"no period {period!r}; periods are months written YYYY-MM") from None
    figures = period_figures(views, start, end, Standpoint(ledger.clock()))
    applied = min(position(views, model) for model in ("mrr", "revenue", "invoices"))
    versions = [METRICS_VERSION, REVENUE_VERSION, RECEIVABLES_VERSION]
    return ClosePeriod(period, position=applied, metrics_versions=versions, figures=figures)


@router.get("/reports/restatements", dependencies=[REPORTS])
def restatements(request: Request, ledger: LedgerDep, _: PrincipalDep) -> dict[str, Any]:
    """Per closed period: the figures at close, the figures known now and as of now, what
    changed, and the events recorded after the close that changed them."""
    views = get_views(request)
    closed = ledger.event_log.read(0, 1000, ["PeriodClosed"]).items
    now = ledger.clock()
    return {"items": [restatement(views, c, now) for c in closed]}
