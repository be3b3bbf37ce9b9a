"""The dashboard for finance and founders: ``GET /`` (the page) and its one action, closing a
month (``POST /dashboard/close-period``).

The page is a shell: its controls and the frame of every chart, rendered here; the figures
come from the API's own JSON routes (``/reports/...``), which ``static/dashboard.js`` asks
with the page's session cookie, so a chart, its table and its CSV download are the API's
answers and nothing else. A page, not an API operation (left out of the OpenAPI document).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from subledger.commands.idempotency import IdempotencyKey
from subledger.domain.errors import DomainError
from subledger.domain.money import minor_unit_exponent
from subledger.domain.periods import add_months
from subledger.domain.reporting import PERIOD
from subledger.projections.report_window import currencies
from subledger.projections.subscription_list import busiest_currency

from ..json_bodies import api_router
from ..page_session import visit
from ..pages import page_problem, render, session_form
from ..positions import reads
from ..problems import problem_catalog
from .reports import close_command

router = api_router(include_in_schema=False)
WINDOW_MONTHS = 12
"""The window the dashboard opens on: the last twelve months, this one included."""


def _months_before(now: datetime, count: int) -> list[str]:
    """The ``count`` months that ended before ``now``'s, newest first (``YYYY-MM``)."""
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return [add_months(first, -n).strftime("%Y-%m") for n in range(1, count + 1)]


def _notice(closed: str | None, close_error: str | None) -> tuple[str, bool] | None:
    """What the last close from this page did (text, and whether it failed); the texts are
    the server's own, whatever the query says."""
    if closed is not None and re.fullmatch(PERIOD, closed):
        return f"{closed} is closed: its figures are sealed as known now.", False
    known = problem_catalog().get(close_error or "")
    if known is not None:
        return f"The period was not closed: {known.title.lower()}.", True
    return None


@router.get("/", response_model=None, dependencies=[reads(
    "mrr", "revenue", "subscriptions", visitor=lambda request: visit(request).principal is not None)])
def dashboard(request: Request) -> Response:
    page = visit(request)
    if page.principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    views = request.app.state.views
    held = currencies(views, None) if views is not None else []
    now = request.app.state.ledger.clock()
    start = add_months(now.replace(day=1), 1 - WINDOW_MONTHS).date()
    today = now.date()
    query = request.query_params
    currency = query.get("currency") or (busiest_currency(views, held) if views is not None else None)
    return render(
        request, page, "dashboard.html",
        controls={"from": query.get("from", start.isoformat()), "to": query.get("to", today.isoformat()),
                  "interval": query.get("interval", "month"), "currency": currency or "",
                  "as_known_at": query.get("as_known_at", "")},
        currencies=held, exponents={c: minor_unit_exponent(c) for c in held},
        months=_months_before(now, WINDOW_MONTHS), idempotency_key=str(uuid.uuid4()),
        notice=_notice(query.get("closed"), query.get("close_error")),
    )


@router.post("/dashboard/close-period", response_model=None)
async def close_period(request: Request) -> Response:
    """Close a month from the dashboard: the same command as ``POST /periods/{period}/close``,
    under the form's idempotency key (a double submit closes once), for writer and admin
    sessions only."""
    page = visit(request)
    form = await session_form(request, page, "the dashboard")
    if isinstance(form, HTMLResponse):
        return form
    if page.principal is None:
        return RedirectResponse("/login", status_code=303)
    if not page.may_write:
        return page_problem(request, page, 403, "Not allowed",
                            f"A {page.principal.role} key may look but not close a period;"
                            " sign in with a writer or admin key.")
    ledger = request.app.state.ledger
    period = form.get("period", "")
    key = form.get("idempotency_key") or None
    try:
        command = close_command(request.app.state.views, ledger, period)
        ledger.execute(command, None if key is None else IdempotencyKey(page.principal.scope, key[:255]))
    except DomainError as error:
        return RedirectResponse("/?" + urlencode({"close_error": error.code}) + "#periods",
                                status_code=303)
    return RedirectResponse("/?" + urlencode({"closed": period}) + "#periods", status_code=303)
