"""The portal's forms: each runs the same write the API runs (``Ledger.execute``, same rules,
same idempotency), recorded as made through the portal session, then shows the portal
again (POST, redirect, GET). Every form carries a CSRF token and an idempotency key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from subledger.commands.correction_writes import RetryCharge
from subledger.commands.corrections import retried
from subledger.commands.idempotency import IdempotencyKey
from subledger.commands.portal_writes import RevokePortalSession
from subledger.commands.writes import (
    ApplyCoupon,
    CancelSubscription,
    ChangeSubscriberDetails,
    ChangeSubscription,
    PauseSubscription,
    ResumeSubscription,
    RevokeCancellation,
    SetPaymentMethod,
    Write,
)
from subledger.domain.charges import attempt_charge_id
from subledger.domain.errors import EmptyChange
from subledger.domain.lifecycle import PAUSED
from subledger.domain.subscription import Subscription

from ..json_bodies import api_router
from ..portal_auth import COOKIE, COOKIE_PATH, PortalVisit, visit
from ..portal_forms import (
    PortalForm,
    confirmed_fields,
    details_changes,
    form_fields,
    previewed_at,
    required,
)
from ..portal_pages import page, shows_errors
from ..sessions import CSRF_FIELD
from .portal import own_invoice, own_subscription

router = api_router(include_in_schema=False)
Form = Annotated[PortalForm, Depends(form_fields)]
Command = Callable[[PortalVisit], Write]
PAID_NOTICES = {"succeeded": "paid", "failed": "declined", "pending": "payment-pending"}
"""A retry's status -> the notice the portal shows after Pay now."""


def _act(request: Request, form: PortalForm, command: Command,
         done: str | Callable[[PortalVisit], str]) -> Response:
    """Check the session, the form (a body that is not one is refused with its reason) and
    its CSRF token, run the command under the form's idempotency key in the session's own
    scope, and show the portal with the notice ``done`` (or the one ``done`` reads once the
    command has run)."""
    who = visit(request)
    who.check_csrf(form.checked().get(CSRF_FIELD))
    key = IdempotencyKey(f"portal:{who.session.id}", required(form.checked(), "idempotency_key"))
    request.app.state.ledger.execute(command(who), key, portal=who.session)
    notice = done if isinstance(done, str) else done(who)
    return RedirectResponse(f"/portal?done={notice}", status_code=303)


def _on_subscription(request: Request, subscription_id: str,
                     make: Callable[..., Write]) -> Command:
    """A command on one of the visitor's own subscriptions (403 for anyone else's)."""
    return lambda who: make(own_subscription(request, who, subscription_id).id)


@router.post("/portal/subscriptions/{subscription_id}/change")
@shows_errors
def change(request: Request, subscription_id: str, form: Form) -> Response:
    """Confirm a previewed change: it takes effect at the preview's instant, so it invoices
    exactly the proration the preview showed (the preview sealed the change and its instant,
    so neither can be edited in the form)."""

    def command(who: PortalVisit) -> Write:
        subscription = own_subscription(request, who, subscription_id)
        who.check_preview(subscription.id, form.checked())
        fields = confirmed_fields(form.checked())
        at = previewed_at(required(form.checked(), "effective_at"), who.session.opened_at,
                          request.app.state.ledger.store.clock())
        return ChangeSubscription(subscription.id, **fields, effective_at=at)

    return _act(request, form, command, "changed")


@router.post("/portal/subscriptions/{subscription_id}/coupon")
@shows_errors
def apply_coupon(request: Request, subscription_id: str, form: Form) -> Response:
    return _act(request, form, _on_subscription(
        request, subscription_id, lambda sid: ApplyCoupon(sid, required(form.checked(), "coupon"))),
        "coupon")


@router.post("/portal/subscriptions/{subscription_id}/pause")
@shows_errors
def pause(request: Request, subscription_id: str, form: Form) -> Response:
    return _act(request, form, _on_subscription(request, subscription_id, PauseSubscription), "paused")


@router.post("/portal/subscriptions/{subscription_id}/resume")
@shows_errors
def resume(request: Request, subscription_id: str, form: Form) -> Response:
    return _act(request, form, _on_subscription(request, subscription_id, ResumeSubscription), "resumed")


@router.post("/portal/subscriptions/{subscription_id}/cancel")
@shows_errors
def cancel(request: Request, subscription_id: str, form: Form) -> Response:
    """Cancel at the end of the current period (revocable until then); a paused
    subscription, which has no current period to run out (and is billed nothing), at once."""
    paused = own_subscription(request, visit(request), subscription_id).status == PAUSED
    when = "now" if paused else "period_end"
    return _act(request, form, _on_subscription(
        request, subscription_id, lambda sid: CancelSubscription(sid, when=when)),
        "ended" if paused else "canceled")


@router.post("/portal/subscriptions/{subscription_id}/cancel/revoke")
@shows_errors
def revoke_cancellation(request: Request, subscription_id: str, form: Form) -> Response:
    return _act(request, form, _on_subscription(request, subscription_id, RevokeCancellation), "kept")


@router.post("/portal/payment-method")
@shows_errors
def payment_method(request: Request, form: Form) -> Response:
    def command(who: PortalVisit) -> Write:
        fields = form.checked()
        return SetPaymentMethod(who.subscriber.id, required(fields, "gateway"),
                                required(fields, "token"))

    return _act(request, form, command, "payment-method")


@router.post("/portal/details")
@shows_errors
def details(request: Request, form: Form) -> Response:
    """Change the visitor's own name or e-mail address, as ``PATCH /subscribers/{id}`` does
    (the session's subscriber, whatever the form says). A form that changes nothing is the
    ledger's empty change: it appends nothing, and the portal says so as a notice, since
    saving the details as they are is no mistake of the subscriber's."""

    def command(who: PortalVisit) -> Write:
        return ChangeSubscriberDetails(who.subscriber.id, details_changes(form.checked()))

    try:
        return _act(request, form, command, "details")
    except EmptyChange:
        return RedirectResponse("/portal?done=unchanged", status_code=303)


def last_attempt(subscription: Subscription, invoice_id: str) -> str:
    """The charge Pay now retries: the last attempt at the invoice (failed, or denied by
    the provider after it was taken). An invoice no longer open keeps no count of its
    attempts; its first stands for them all, since the ledger refuses a retry of any attempt
    at an invoice with nothing due (409 ``invoice-not-open``)."""
    unpaid = subscription.open_invoices.get(invoice_id)
    return attempt_charge_id(invoice_id, max(unpaid["attempts"], 1) if unpaid else 1)


@router.post("/portal/invoices/{invoice_id}/pay")
@shows_errors
def pay_now(request: Request, invoice_id: str, form: Form) -> Response:
    """Take an attempt now at one of the visitor's unpaid invoices, as the API's retry by
    hand does: the dunning schedule goes on as it was if it fails."""

    def command(who: PortalVisit) -> Write:
        subscription, invoice = own_invoice(request, who, invoice_id)
        return RetryCharge(last_attempt(subscription, invoice), invoice_id=invoice)

    def done(who: PortalVisit) -> str:
        # Read from the invoice as it is now, not from the answer: under a key the answer
        # is the one stored with the decision, before the gateway was asked.
        subscription, invoice = own_invoice(request, who, invoice_id)
        if invoice not in subscription.open_invoices and not subscription.invoices[invoice]["charge_id"]:
            return "closed"  # settled another way since (a replay after a void, a write-off)
        return PAID_NOTICES[retried(subscription, invoice).status]

    return _act(request, form, command, done)


@router.post("/portal/sign-out")
@shows_errors
def sign_out(request: Request, form: Form) -> Response:
    """End the session now (it is revoked, as an admin would) and forget its cookie."""
    who = visit(request)
    who.check_csrf(form.checked().get(CSRF_FIELD))
    request.app.state.ledger.execute(RevokePortalSession(who.session.id))
    answer = page("portal/signed_out.html")
    answer.delete_cookie(COOKIE, path=COOKIE_PATH)
    return answer
