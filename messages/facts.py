"""What a message says, read when it is sent: the subscriber as the ledger knows them now
(name, address, consent), their subscription and its plan, and for a receipt the invoice
from the ``invoices`` read model, as a PDF.

Read at sending time rather than when the message was decided, so a changed address is
used and a forgotten subscriber, or one who opted out of marketing since, is not written to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from subledger.api.documents import buyer_lines, invoice_document, span
from subledger.api.formats import day, money
from subledger.api.pdf import render_pdf
from subledger.domain.errors import NotFound, NoUpcomingInvoice
from subledger.projections.invoice_queries import find_invoice
from subledger.projections.store import ViewStore

from .compose import Attachment, Composed, one_line, render
from .kinds import MARKETING, PAYMENT_FAILED, RECEIPT, SUBSCRIPTION_CANCELED, TRIAL_ENDING, WIN_BACK
from .outbox import Outgoing

if TYPE_CHECKING:
    from subledger.commands.ledger import Ledger

INVOICES_MODEL = "invoices"


class NotReady(Exception):
    """The message needs a read model that has not reached its cause yet: try next round."""


class Skip(Exception):
    """The message is not to be sent (the reason in words)."""


def compose(ledger: Ledger, views: ViewStore, seller: Sequence[str],
            outgoing: Outgoing) -> tuple[Composed, str, str]:
    """The message, the recipient's name and address; or :class:`Skip`, :class:`NotReady`."""
    try:
        subscriber = ledger.subscribers.get(UUID(outgoing.subscriber_id))
        subscription = ledger.subscriptions.get(UUID(outgoing.subscription_id))
    except NotFound as error:
        raise Skip(f"no longer known: {error}") from None
    if not subscriber.email:
        raise Skip("the subscriber has no readable e-mail address")
    if outgoing.kind in MARKETING and not subscriber.marketing_consent:
        raise Skip("the subscriber opted out of marketing messages")
    data = outgoing.data
    # Names are one line in the text too: a plan's name is in subjects, cut at a line break.
    context: dict[str, Any] = {
        "name": one_line(subscriber.name), "plan": one_line(_plan_name(ledger, subscription.plan_id)),
        "price": money(subscription.amount * subscription.quantity, subscription.currency),
        "interval": subscription.interval.value}
    attachments: tuple[Attachment, ...] = ()
    if outgoing.kind == RECEIPT:
        invoice = _invoice(views, outgoing)
        context |= {"amount": money(data["amount"], data["currency"]),
                    "invoice_number": invoice["number"], "paid_on": day(data["paid_at"]),
                    "period": span(invoice["period_start"], invoice["period_end"])}
        document = invoice_document(invoice, seller=seller, buyer=buyer_lines(
            subscriber.name, subscriber.email, outgoing.subscriber_id))
        attachments = (Attachment(f"{invoice['number']}.pdf", render_pdf(document)),)
    elif outgoing.kind == PAYMENT_FAILED:
        context |= {"amount": money(data["amount"], data["currency"]), "attempt": data["attempt"],
                    "decline_code": data["decline_code"],
                    "retry_on": day(data["next_attempt_at"]) if data["next_attempt_at"] else None}
    elif outgoing.kind in (SUBSCRIPTION_CANCELED, WIN_BACK):
        context |= {"ended_on": day(subscription.canceled_at),
                    "involuntary": subscription.cancel_reason == "involuntary",
                    "coupon": data.get("coupon")}
    else:  # the trial ending, the renewal reminder
        context |= {"trial_end": day(data.get("trial_end")),
                    "renews_on": day(data.get("period_end")),
                    "first_invoice": _first_invoice(ledger, subscription.id)
                    if outgoing.kind == TRIAL_ENDING else None}
    return render(outgoing.kind, context, attachments), subscriber.name, subscriber.email


def _first_invoice(ledger: Ledger, subscription_id: UUID) -> str | None:
    """What the trial's end will charge, as the billing clock will invoice it (a coupon, a
    credit balance, the seats), which the plan's price alone does not say."""
    try:
        invoice = ledger.previews.upcoming_invoice(subscription_id)
    except NoUpcomingInvoice:
        return None
    return money(invoice.amount_due, invoice.currency)


def _plan_name(ledger: Ledger, plan_id: str) -> str:
    try:
        return str(ledger.catalog.get_plan(plan_id).name)
    except NotFound:
        return plan_id


def _invoice(views: ViewStore, outgoing: Outgoing) -> dict[str, Any]:
    reached = (views.checkpoint(INVOICES_MODEL) or (0, 0))[0]
    if reached < outgoing.position:
        raise NotReady(f"the invoices read model is at {reached}, the receipt's cause at"
                       f" {outgoing.position}")
    invoice = find_invoice(views, outgoing.data["invoice_id"])
    if invoice is None:
        raise Skip(f"invoice {outgoing.data['invoice_id']} is not in the invoices read model")
    return invoice
