"""What a subscriber's portal shows: their subscriptions with the next invoice of each and
the plans they may move to, their invoices and their charges.

Everything is read the way the API reads it (the same services and bodies), for the
session's own subscriber only.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Iterator
from typing import Any

from subledger.commands.ledger import Ledger
from subledger.contract.bodies import charge_body, plan_body, subscription_body
from subledger.contract.invoice_bodies import invoice_body
from subledger.contract.preview_bodies import invoice_preview_body
from subledger.domain.errors import NoUpcomingInvoice
from subledger.domain.lifecycle import CANCELED
from subledger.domain.subscription import Subscription
from subledger.projections.invoice_queries import InvoiceFilter, invoice_page
from subledger.projections.store import ViewStore

from .portal_auth import PortalVisit

MAX_INVOICES = 100
NOTICES = {
    "changed": "Your subscription was changed.",
    "coupon": "The coupon was applied.",
    "paused": "Your subscription is paused.",
    "resumed": "Your subscription was resumed.",
    "canceled": "Your subscription will end at the end of the current period.",
    "ended": "Your subscription was canceled.",
    "kept": "The cancellation was revoked: your subscription continues.",
    "payment-method": "Your payment method was replaced.",
    "paid": "The invoice was paid. Thank you.",
    "declined": "The payment was declined: the invoice is still due, and it will be attempted"
                " again as scheduled. Replace the payment method, then pay it now.",
    "payment-pending": "The payment provider could not be reached: the payment will be"
                       " attempted as soon as it can be.",
    "closed": "The invoice has nothing left to pay.",
    "details": "Your details were changed.",
    "unchanged": "Nothing changed: these are your details already.",
}
"""The notice shown after each action (the redirect names it by its key)."""


def new_key() -> str:
    """A fresh idempotency key for one form: a double submit sends it twice."""
    return str(uuid.uuid4())


def _upcoming(ledger: Ledger, subscription: Subscription) -> dict[str, Any] | None:
    try:
        return invoice_preview_body(ledger.previews.upcoming_invoice(subscription.id))
    except NoUpcomingInvoice:
        return None


def _overdue(subscription: Subscription, numbers: dict[str, str]) -> list[dict[str, Any]]:
    """The subscription's invoices in dunning (a charge of theirs failed), each with what is
    due, the next scheduled attempt and a key for its Pay now form. The number comes from
    the invoices read model, which may not have the invoice yet."""
    return [{"invoice_id": invoice_id, "number": numbers.get(invoice_id),
             "amount_due": unpaid["amount_due"], "currency": unpaid["currency"],
             "next_attempt_at": unpaid["next_attempt_at"], "key": new_key()}
            for invoice_id, unpaid in subscription.open_invoices.items()
            # A canceled subscription takes no attempt: its debt is paid by other means.
            if unpaid["first_failure_at"] is not None and subscription.status != CANCELED]


def _subscriptions(ledger: Ledger, visit: PortalVisit) -> Iterator[Subscription]:
    for subscription_id in ledger.subscribers.subscription_ids(visit.subscriber.id):
        yield ledger.subscriptions.get(subscription_id)


def invoices(views: ViewStore | None, visit: PortalVisit) -> list[dict[str, Any]]:
    """The subscriber's newest invoices (at most ``MAX_INVOICES``), newest first, from the
    invoices read model. Its pages run oldest first, so every page is read and only the
    last ones kept: the first page alone would leave out the invoices that matter most."""
    if views is None:
        return []
    which = InvoiceFilter(subscriber_id=str(visit.subscriber.id))
    newest: deque[dict[str, Any]] = deque(maxlen=MAX_INVOICES)
    after: int | None = 0
    while after is not None:
        records, after = invoice_page(views, which, after=after, limit=MAX_INVOICES)
        newest.extend(records)
    return [invoice_body(record) for record in reversed(newest)]


def home(ledger: Ledger, views: ViewStore | None, visit: PortalVisit) -> dict[str, Any]:
    plans = ledger.catalog.plans_on_sale()
    subscriptions = list(_subscriptions(ledger, visit))
    listed = invoices(views, visit)
    numbers = {invoice["invoice_id"]: invoice["number"] for invoice in listed}
    shown = [{
        "body": subscription_body(s),
        "overdue": _overdue(s, numbers),
        "upcoming": _upcoming(ledger, s) if s.status != CANCELED else None,
        "plans": [plan_body(p) for p in plans if p.currency == s.currency],
        "idem": {action: new_key() for action in ("coupon", "pause", "resume", "cancel", "revoke")},
    } for s in subscriptions]
    charges = [charge_body(s, charge_id) for s in subscriptions for charge_id in s.charges]
    return {"subscriber": visit.subscriber, "subscriptions": shown, "charges": charges,
            "invoices": listed, "gateways": sorted(ledger.gateways),
            "payment_key": new_key(), "details_key": new_key()}
