"""Receivables: what subscribers owe, aged, and the invoices behind each figure; read from
the ``invoices`` model (``subledger replay receivables`` folds the same from the log)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response

from subledger.domain.receivables import BUCKET_NAMES
from subledger.projections.receivables import aging_report, aging_rows, owed_page

from ..answers import Format, answer, as_csv, csv_responses
from ..deps import Cursor, Limit, PrincipalDep, UuidQuery, get_views, parse_cursor
from ..inputs import Currency
from ..json_bodies import api_router
from ..positions import reads
from .reports import StandpointDep

router = api_router(tags=["reports"], dependencies=[reads("invoices")])

BookCurrency = Annotated[Currency | None, Query(
    description="Only this currency (every currency owed in when left out)")]
Bucket = Annotated[Literal[BUCKET_NAMES] | None, Query(  # type: ignore[valid-type]
    description="Only the invoices of this aging bucket")]
CSV_LEFT_OUT = ("positions",)
"""A list does not fit one cell; the invoice id leads to its events."""


@router.get("/reports/receivables", responses=csv_responses("The aging report"))
def receivables(request: Request, _: PrincipalDep, at: StandpointDep,
                currency: BookCurrency = None, format: Format = "json") -> Response:  # noqa: A002
    """What subscribers owe as of `as_of` (as known at `as_known_at`): per currency, the
    outstanding amount (integer minor units) and number of invoices, in total and per aging
    bucket (`current`: issued less than a day before; then `1-30`, `31-60`, `61-90` and
    `over-90` whole days since the invoice was issued, when it fell due). Void and
    written-off invoices owe nothing. `format=csv` answers one row per currency and bucket."""
    body = aging_report(get_views(request), at, currency)
    if format == "csv":
        return answer({"rows": aging_rows(body)}, "rows", "csv")
    return JSONResponse(body)


@router.get("/reports/receivables/invoices",
            responses=csv_responses("A page of outstanding invoices, oldest first"))
def receivable_invoices(request: Request, _: PrincipalDep, at: StandpointDep,
                        currency: BookCurrency = None, bucket: Bucket = None,
                        subscriber_id: UuidQuery = None, limit: Limit = 100,
                        cursor: Cursor = None, format: Format = "json") -> Response:  # noqa: A002
    """The invoices behind the aging figures, oldest first: each with its number,
    subscription, subscriber, `issued_at`, `outstanding`, `days_overdue`, `bucket`, and the
    log `positions` of the events its outstanding amount is the sum of."""
    body = owed_page(get_views(request), at, currency=currency, bucket=bucket,
                     subscriber_id=subscriber_id, after=parse_cursor(cursor), limit=limit)
    if format == "csv":
        rows = [{k: v for k, v in item.items() if k not in CSV_LEFT_OUT} for item in body["items"]]
        cursor_next = body["next_cursor"]
        return as_csv(rows, headers={"Next-Cursor": cursor_next} if cursor_next else None)
    return JSONResponse(body)
