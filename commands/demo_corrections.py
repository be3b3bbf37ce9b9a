"""The demo's corrections: what a finance team does to a book in a month of work.

On a subscription in dunning, an unpaid invoice is voided, written off, or its charge retried
by hand; on one that paid, an invoice is credited (in full or one line in part, as a refund
or to the balance); otherwise the balance is adjusted by hand (a goodwill credit or a fee).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from subledger.domain.charges import attempt_charge_id
from subledger.domain.invoicing import CREDITABLE, OPEN, PAID
from subledger.domain.lifecycle import CANCELED
from subledger.domain.subscription import Subscription

from .ledger import Ledger


def correct(ledger: Ledger, rng: random.Random, sub_id: UUID, at: datetime) -> Any:
    """One correction of ``sub_id`` at ``at``, chosen by what its invoices allow once what
    was due by then is done."""
    subscription = ledger.settlement.settle(ledger.subscriptions.get(sub_id), at,
                                            ledger.clock()).subscription
    corrections = ledger.corrections
    unpaid = _in_dunning(subscription)
    if unpaid is not None:
        invoice_id, failed_charge = unpaid
        # a subscription dunning canceled has nothing left to retry
        choice = rng.choice(["void", "write_off"] if subscription.status == CANCELED
                            else ["void", "write_off", "retry"])
        if choice == "void":
            return corrections.void_invoice(invoice_id, reason="billed in error", effective_at=at)
        if choice == "write_off":
            return corrections.write_off(invoice_id, reason="customer unreachable", effective_at=at)
        return corrections.retry_charge(failed_charge, effective_at=at)
    paid = _creditable(subscription)
    if paid is not None and rng.random() < 0.7:
        invoice_id, index, left = paid
        lines = None if rng.random() < 0.4 else [(index, max(1, left // 3))]
        settlement = "refund" if subscription.invoices[invoice_id]["charge_id"] and \
            rng.random() < 0.5 else "credit_balance"
        return corrections.issue_credit_note(invoice_id, settlement=settlement, lines=lines,
                                             reason="service credit", effective_at=at)
    if subscription.status == CANCELED:
        return None  # a balance no invoice will ever meet
    amount, reason = rng.choice([(500, "goodwill credit"), (1000, "goodwill credit"),
                                 (-300, "late payment fee")])
    return corrections.adjust_balance(subscription.subscriber_id, subscription_id=sub_id,
                                      amount=amount, reason=reason, effective_at=at)


def dunning_followup(ledger: Ledger, sub_id: UUID, rng: random.Random) -> tuple[datetime, int] | None:
    """For a new subscription on a card that fails, sometimes: a correction the day after its
    first charge is due (when it is in dunning), as (when, the seed of its choices)."""
    subscription = ledger.subscriptions.get(sub_id)
    method = ledger.subscribers.get(subscription.subscriber_id).payment_method
    if method is None or method["token"] == "tok_visa" or rng.random() < 0.4:
        return None
    first_charge = subscription.trial_end or subscription.started_at
    return first_charge + timedelta(days=1), rng.getrandbits(32)


def _in_dunning(subscription: Subscription) -> tuple[str, str] | None:
    """An unpaid invoice with a failed charge: (invoice id, that charge's id)."""
    for invoice_id, invoice in subscription.open_invoices.items():
        if invoice["attempts"] > 0 and subscription.invoices[invoice_id]["status"] == OPEN:
            return invoice_id, attempt_charge_id(invoice_id, invoice["attempts"])
    return None


def _creditable(subscription: Subscription) -> tuple[str, int, int] | None:
    """The last paid invoice with a line left to credit: (invoice id, line, amount left)."""
    for invoice_id, invoice in reversed(subscription.invoices.items()):
        if invoice["status"] != PAID or invoice["total"] <= sum(invoice["credited"]):
            continue
        for index, line in enumerate(invoice["lines"]):
            left = int(line["amount"]) - invoice["credited"][index]
            if line["kind"] in CREDITABLE and left > 0:
                return invoice_id, index, min(left, invoice["total"] - sum(invoice["credited"]))
    return None
