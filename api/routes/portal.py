"""The subscriber's self-service portal: pages to read (not in the OpenAPI document; see
docs/portal.md). The forms they show post to :mod:`.portal_actions`."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated
from uuid import UUID

from fastapi import Query, Request
from fastapi.responses import RedirectResponse, Response

from subledger.commands.settlement import located_subscription
from subledger.contract.preview_bodies import change_preview_body
from subledger.domain.errors import InvoiceNotFound, SubscriptionNotFound
from subledger.domain.subscription import Subscription
from subledger.domain.time import isoformat
from subledger.projections.invoice_queries import find_invoice

from ..deps import get_views, path_id
from ..documents import invoice_document
from ..json_bodies import api_router
from ..portal_auth import COOKIE, COOKIE_PATH, SEAL_FIELD, PortalVisit, is_visitor, visit
from ..portal_forms import change_fields
from ..portal_pages import page, shows_errors
from ..portal_view import NOTICES, home, new_key
from ..positions import reads
from .invoices import document_parties, pdf_answer

router = api_router(include_in_schema=False)
INVOICES = reads("invoices", visitor=is_visitor)
"""The pages that show invoices read them from the invoices read model; the rest of the
portal reads the log."""


def own_subscription(request: Request, who: PortalVisit, subscription_id: str) -> Subscription:
    """The subscription, if it is the visiting subscriber's (403 otherwise)."""
    subscription = request.app.state.ledger.subscriptions.get(
        path_id(subscription_id, SubscriptionNotFound))
    who.check_owner(subscription.subscriber_id, f"subscription {subscription_id}")
    return subscription  # type: ignore[no-any-return]


def own_invoice(request: Request, who: PortalVisit, invoice_id: str) -> tuple[Subscription, str]:
    """The subscription that issued an invoice, if it is the visiting subscriber's (403
    otherwise), and the invoice's id as the ledger writes it. Read from the log, not the
    invoices read model: an invoice about to be paid is judged by its latest state."""
    invoice = str(path_id(invoice_id, InvoiceNotFound))
    unknown = InvoiceNotFound(f"no invoice {invoice_id}")
    subscription = located_subscription(request.app.state.ledger.store, invoice, unknown)
    who.check_owner(subscription.subscriber_id, f"invoice {invoice_id}")
    if invoice not in subscription.invoices:  # another document of the subscription's
        raise unknown
    return subscription, invoice


@router.get("/portal/session/{token}")
@shows_errors
def enter(request: Request, token: str) -> Response:
    """Open the portal from a signed link: keep the token in a cookie, and show the portal
    at an address without it."""
    who = visit(request, token)
    answer = RedirectResponse("/portal", status_code=303)
    seconds = int((who.session.expires_at - request.app.state.ledger.store.clock()).total_seconds())
    answer.set_cookie(COOKIE, token, max_age=max(seconds, 1), path=COOKIE_PATH, httponly=True,
                      samesite="lax", secure=request.url.scheme == "https")
    return answer


@router.get("/portal", dependencies=[INVOICES])
@shows_errors
def portal_home(request: Request, done: str | None = None) -> Response:
    who = visit(request)
    return page("portal/home.html", **home(request.app.state.ledger, request.app.state.views, who),
                csrf=who.csrf, session=who.session, notice=NOTICES.get(done or ""))


@router.get("/portal/subscriptions/{subscription_id}/change")
@shows_errors
def preview_change(request: Request, subscription_id: str,
                   plan_id: Annotated[str | None, Query(max_length=100)] = None,
                   quantity: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    """What the change would invoice now (the API's preview), with a form to confirm it."""
    who = visit(request)
    subscription = own_subscription(request, who, subscription_id)
    fields = change_fields(subscription, plan_id, quantity)
    preview = request.app.state.ledger.previews.change(subscription.id, **fields)
    confirm = {"plan_id": fields["plan_id"] or "", "quantity": str(fields["quantity"] or ""),
               "effective_at": isoformat(preview.effective_at.astimezone(UTC))}
    return page("portal/change.html", preview=change_preview_body(preview), confirm=confirm,
                seal=who.preview_seal(subscription.id, confirm), seal_field=SEAL_FIELD,
                csrf=who.csrf, subscription=subscription, key=new_key())


@router.get("/portal/invoices/{invoice_id}.pdf", dependencies=[INVOICES])
@shows_errors
def invoice_pdf(request: Request, invoice_id: str) -> Response:
    """One of the subscriber's invoices as PDF (403 for anyone else's)."""
    who = visit(request)
    record = find_invoice(get_views(request), str(path_id(invoice_id, InvoiceNotFound)))
    if record is None:
        raise InvoiceNotFound(f"no invoice {invoice_id}")
    who.check_owner(UUID(record["subscriber_id"]), f"invoice {invoice_id}")
    return pdf_answer(invoice_document(record, **document_parties(request, request.app.state.ledger, record)))
