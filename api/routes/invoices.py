"""Invoices and credit notes as documents: lists, each one as JSON, HTML and PDF.

Read from the ``invoices`` read model, so they show what the projector has applied (its lag
is in ``/readyz``). Any role may read them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from subledger.commands.ledger import Ledger
from subledger.contract.invoice_bodies import credit_note_body, invoice_body
from subledger.domain.errors import CreditNoteNotFound, InvoiceNotFound, SubscriberNotFound
from subledger.domain.invoice_status import INVOICE_STATUSES
from subledger.domain.reporting import PERIOD, parse_month
from subledger.projections.invoice_queries import (
    InvoiceFilter,
    find_credit_note,
    find_invoice,
    invoice_page,
)

from ..answers import Format, as_csv, csv_responses
from ..deps import (
    Cursor,
    IdPath,
    LedgerDep,
    Limit,
    PrincipalDep,
    UuidQuery,
    get_views,
    parse_cursor,
    path_id,
)
from ..documents import Document, buyer_lines, credit_note_document, invoice_document, render_html
from ..inputs import Currency
from ..json_bodies import api_router
from ..pdf import render_pdf
from ..positions import reads
from ..schemas import CreditNoteOut, InvoiceList, InvoiceOut

router = api_router(tags=["invoices"], dependencies=[reads("invoices")])

Status = Annotated[Literal[INVOICE_STATUSES] | None, Query(  # type: ignore[valid-type]
    description="open, past_due (a charge failed), paid, void or uncollectible")]
Period = Annotated[str | None, Query(
    pattern=PERIOD, description="YYYY-MM: invoices issued (effective_at) in that month, UTC")]
InvoiceCurrency = Annotated[Currency | None, Query(description="invoices in this currency")]
NEXT_CURSOR = {"Next-Cursor": {"description": "with format=csv: the cursor of the next page,"
                                              " when there is one", "schema": {"type": "string"}}}
LIST = csv_responses("A page of invoices, in the order they were issued", NEXT_CURSOR)
CSV_LEFT_OUT = ("lines", "credit_notes")
"""Columns of a CSV row are the body's scalar fields (a list does not fit one cell)."""
PDF = {200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
             "description": "The document as PDF (A4)"}}
HTML = {200: {"content": {"text/html": {"schema": {"type": "string"}}},
              "description": "The document as an HTML page"}}


def _page(request: Request, which: InvoiceFilter, limit: int, cursor: str | None,
          fmt: str) -> Response:
    records, more = invoice_page(get_views(request), which, after=parse_cursor(cursor),
                                 limit=limit)
    items = [invoice_body(record) for record in records]
    next_cursor = None if more is None else str(more)
    if fmt == "csv":
        rows = [{k: v for k, v in item.items() if k not in CSV_LEFT_OUT} for item in items]
        return as_csv(rows, headers={"Next-Cursor": next_cursor} if next_cursor else None)
    return JSONResponse({"items": items, "next_cursor": next_cursor})


def _filter(subscriber_id: str | None, status: str | None, period: str | None,
            currency: str | None) -> InvoiceFilter:
    start, end = parse_month(period) if period is not None else (None, None)
    return InvoiceFilter(subscriber_id=subscriber_id, status=status, issued_from=start,
                         issued_before=end, currency=currency)


@router.get("/invoices", response_model=InvoiceList, responses=LIST)
def list_invoices(request: Request, _: PrincipalDep, subscriber_id: UuidQuery = None,
                  status: Status = None, period: Period = None,
                  currency: InvoiceCurrency = None, limit: Limit = 100, cursor: Cursor = None,
                  format: Format = "json") -> Response:  # noqa: A002
    """Invoices in the order they were issued (their numbers' order within a series),
    filtered; `format=csv` answers the same page as CSV, without lines."""
    return _page(request, _filter(subscriber_id, status, period, currency), limit, cursor, format)


@router.get("/subscribers/{subscriber_id}/invoices", response_model=InvoiceList, responses=LIST)
def subscriber_invoices(request: Request, subscriber_id: IdPath, ledger: LedgerDep,
                        _: PrincipalDep, status: Status = None, period: Period = None,
                        currency: InvoiceCurrency = None, limit: Limit = 100,
                        cursor: Cursor = None, format: Format = "json") -> Response:  # noqa: A002
    """A subscriber's invoices, as `GET /invoices?subscriber_id=` lists them."""
    sid = path_id(subscriber_id, SubscriberNotFound)
    ledger.subscribers.get(sid)
    return _page(request, _filter(str(sid), status, period, currency), limit, cursor, format)


def _invoice(request: Request, invoice_id: str) -> dict[str, Any]:
    record = find_invoice(get_views(request), str(path_id(invoice_id, InvoiceNotFound)))
    if record is None:
        raise InvoiceNotFound(f"no invoice {invoice_id}")
    return record


def _credit_note(request: Request, credit_note_id: str) -> dict[str, Any]:
    """The credit note as the read model keeps it, with its reason read from its event: the
    reason is personal, so only the log (which forgetting erases) holds it."""
    record = find_credit_note(get_views(request), str(path_id(credit_note_id, CreditNoteNotFound)))
    if record is None:
        raise CreditNoteNotFound(f"no credit note {credit_note_id}")
    [issued] = request.app.state.ledger.event_log.read(record["position"] - 1, 1).items
    assert issued["data"]["credit_note_id"] == record["credit_note_id"]
    return {**record, "reason": issued["data"]["reason"]}


def document_parties(request: Request, ledger: Ledger, record: dict[str, Any]) -> dict[str, Any]:
    """The seller (configured) and the buyer (the subscriber as the ledger knows them now)."""
    try:
        subscriber = ledger.subscribers.get(UUID(record["subscriber_id"]))
        name, email = subscriber.name, subscriber.email
    except SubscriberNotFound:
        name = email = None
    return {"seller": request.app.state.settings.seller,
            "buyer": buyer_lines(name, email, record["subscriber_id"])}


def _file(document: Document, render: Callable[[Document], bytes], media_type: str,
          suffix: str) -> Response:
    return Response(render(document), media_type=media_type, headers={
        "Content-Disposition": f'inline; filename="{document.filename}.{suffix}"'})


def pdf_answer(document: Document) -> Response:
    return _file(document, render_pdf, "application/pdf", "pdf")


def _html(document: Document) -> Response:
    return HTMLResponse(render_html(document))


# A document's .pdf and .html paths come before its JSON path, which would take the suffix
# as part of the id.
@router.get("/invoices/{invoice_id}.pdf", response_class=Response, responses=PDF)
def invoice_pdf(request: Request, invoice_id: IdPath, ledger: LedgerDep, _: PrincipalDep) -> Response:
    """The invoice as a PDF: seller, buyer, number, lines, totals, what was paid, credited
    and refunded, what is due; VOID or UNCOLLECTIBLE stamped across it."""
    record = _invoice(request, invoice_id)
    return pdf_answer(invoice_document(record, **document_parties(request, ledger, record)))


@router.get("/invoices/{invoice_id}.html", response_class=HTMLResponse, responses=HTML)
def invoice_html(request: Request, invoice_id: IdPath, ledger: LedgerDep, _: PrincipalDep) -> Response:
    """The invoice as an HTML page (what its PDF shows)."""
    record = _invoice(request, invoice_id)
    return _html(invoice_document(record, **document_parties(request, ledger, record)))


@router.get("/invoices/{invoice_id}", response_model=InvoiceOut)
def get_invoice(request: Request, invoice_id: IdPath, _: PrincipalDep) -> dict[str, Any]:
    """An invoice: its number, status, lines (with what was credited of each) and amounts."""
    return invoice_body(_invoice(request, invoice_id))


@router.get("/credit-notes/{credit_note_id}.pdf", response_class=Response, responses=PDF)
def credit_note_pdf(request: Request, credit_note_id: IdPath, ledger: LedgerDep,
                    _: PrincipalDep) -> Response:
    """The credit note as a PDF."""
    return pdf_answer(_credit_note_document(request, ledger, credit_note_id))


@router.get("/credit-notes/{credit_note_id}.html", response_class=HTMLResponse, responses=HTML)
def credit_note_html(request: Request, credit_note_id: IdPath, ledger: LedgerDep,
                     _: PrincipalDep) -> Response:
    """The credit note as an HTML page."""
    return _html(_credit_note_document(request, ledger, credit_note_id))


@router.get("/credit-notes/{credit_note_id}", response_model=CreditNoteOut)
def get_credit_note(request: Request, credit_note_id: IdPath, _: PrincipalDep) -> dict[str, Any]:
    """A credit note: its number, the invoice it credits, its lines and settlement."""
    return credit_note_body(_credit_note(request, credit_note_id))


def _credit_note_document(request: Request, ledger: Any, credit_note_id: str) -> Document:
    """What a credit note's document shows, with the invoice it credits."""
    note = _credit_note(request, credit_note_id)
    invoice = _invoice(request, note["invoice_id"])
    return credit_note_document(note, invoice, **document_parties(request, ledger, note))
