"""Corrections of what was invoiced, each a new event on the subscription that issued the
invoice: void, write-off, credit note, a manual balance adjustment, and a retry by hand of a
failed charge.

Each is a command like any other (load, decide, save, then take to a gateway what the
decision makes due: a credit note's refund, a retried charge), so each is idempotent under a
key, refused whole when its input is wrong, and recorded in the log for history, reports and
the stream.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from subledger.domain.charges import attempt_charge_id
from subledger.domain.errors import (
    ChargeNotFound,
    InvoiceNotFound,
    SubscriberNotFound,
    SubscriptionNotFound,
    SubscriptionRequired,
)
from subledger.domain.lifecycle import CANCELED
from subledger.domain.subscription import Subscription

from .idempotency import IdempotentRequest
from .settlement import Settlement, load_subscription, located_subscription
from .store import LedgerStore


@dataclass(frozen=True)
class Retried:
    """A retry by hand: the attempt taken at once and what became of it."""

    subscription: Subscription
    invoice_id: str
    charge_id: str
    status: str
    """``succeeded``, ``failed``, or ``pending`` (the gateway could not be reached: the
    billing clock takes the attempt when it can)."""


class Corrections:
    def __init__(self, store: LedgerStore, settlement: Settlement) -> None:
        self.store = store
        self.settlement = settlement

    def void_invoice(self, invoice_id: str, *, reason: str | None = None,
                     effective_at: datetime | None = None,
                     idempotency: IdempotentRequest | None = None) -> tuple[Subscription, str]:
        """Void an open invoice; returns the subscription and the invoice id."""
        return self._on_invoice(invoice_id, effective_at, idempotency, lambda sub, at, now: (
            sub.void_invoice(invoice_id, reason=reason, effective_at=at, recorded_at=now)
            or invoice_id))

    def write_off(self, invoice_id: str, *, reason: str | None = None,
                  effective_at: datetime | None = None,
                  idempotency: IdempotentRequest | None = None) -> tuple[Subscription, str]:
        """Mark an unpaid invoice uncollectible; returns the subscription and the invoice id."""
        return self._on_invoice(invoice_id, effective_at, idempotency, lambda sub, at, now: (
            sub.write_off(invoice_id, reason=reason, effective_at=at, recorded_at=now)
            or invoice_id))

    def issue_credit_note(
        self, invoice_id: str, *, settlement: str, lines: list[tuple[int, int]] | None = None,
        reason: str | None = None, effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> tuple[Subscription, str]:
        """Credit an invoice, whole (``lines`` None) or by (line index, amount); a ``refund``
        settlement is sent to the invoice charge's gateway. Returns the subscription and the
        credit note's id."""
        return self._on_invoice(invoice_id, effective_at, idempotency, lambda sub, at, now: (
            sub.issue_credit_note(invoice_id, lines=lines, settlement=settlement, reason=reason,
                                  effective_at=at, recorded_at=now)))

    def adjust_balance(
        self, subscriber_id: UUID, *, amount: int, reason: str,
        subscription_id: UUID | None = None, effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> tuple[Subscription, str]:
        """Credit (positive) or debit (negative) the balance of one of a subscriber's
        subscriptions (the only one still running when none is named). Returns the
        subscription and the adjustment's id."""
        subscription = self._subscribers_subscription(subscriber_id, subscription_id)
        return self._decide(subscription, effective_at, idempotency, lambda sub, at, now: (
            sub.adjust_balance(amount, reason=reason, effective_at=at, recorded_at=now)))

    def retry_charge(self, charge_id: str, *, effective_at: datetime | None = None,
                     invoice_id: str | None = None,
                     idempotency: IdempotentRequest | None = None) -> Retried:
        """Take another attempt at the unpaid invoice a failed charge was for, now; the
        dunning schedule goes on as it was if it fails. ``invoice_id``: that invoice, to find
        the subscription by (the subscription still checks the charge was an attempt at it)."""
        subscription = located_subscription(self.store, invoice_id or charge_id,
                                            ChargeNotFound(f"no failed charge {charge_id!r}"))
        # The answer stored under a key is rendered from the decision's save, before the
        # gateway is asked: it must be a Retried too (of the attempt then due).
        answer, invoice_id = self._decide(subscription, effective_at, idempotency,
                                          lambda sub, at, now: sub.retry_charge(
                                              charge_id, effective_at=at, recorded_at=now),
                                          result_of=retried)
        return retried(answer, invoice_id)

    # -- helpers ----------------------------------------------------------------------------

    def _on_invoice(self, invoice_id: str, effective_at: datetime | None,
                    idempotency: IdempotentRequest | None,
                    decide: Callable[[Subscription, datetime, datetime], Any]) -> tuple[Subscription, Any]:
        subscription = located_subscription(self.store, invoice_id,
                                            InvoiceNotFound(f"no invoice {invoice_id!r}"))
        return self._decide(subscription, effective_at, idempotency, decide)

    def _decide(self, subscription: Subscription, effective_at: datetime | None,
                idempotency: IdempotentRequest | None,
                decide: Callable[[Subscription, datetime, datetime], Any],
                result_of: Callable[[Subscription, Any], Any] = lambda s, outcome: (s, outcome),
                ) -> tuple[Subscription, Any]:
        effective, now = self.store.times(effective_at)
        subscription.check_effective_at(effective)
        return self.settlement.decide(subscription, effective, now, decide, idempotency,
                                      result_of=result_of)

    def _subscribers_subscription(self, subscriber_id: UUID,
                                  subscription_id: UUID | None) -> Subscription:
        streams = self.store.streams(subscriber_id)
        if not streams:
            raise SubscriberNotFound(f"no subscriber {subscriber_id}")
        loaded = [s for s in (self._subscription(a) for a in streams if a != subscriber_id)
                  if s is not None]
        if subscription_id is not None:
            named = [s for s in loaded if s.id == subscription_id]
            if not named:
                raise SubscriptionRequired(
                    f"subscription {subscription_id} is not one of subscriber {subscriber_id}'s")
            return named[0]
        running = [s for s in loaded if s.status != CANCELED]
        chosen = running if running else loaded
        if len(chosen) != 1:
            raise SubscriptionRequired(
                f"subscriber {subscriber_id} has {len(chosen)} {'running ' if running else ''}"
                "subscriptions: name one as subscription_id")
        return chosen[0]

    def _subscription(self, aggregate_id: UUID) -> Subscription | None:
        """The subscription of that id, or None when it names another kind of record."""
        try:
            return load_subscription(self.store, aggregate_id)
        except SubscriptionNotFound:
            return None


def retried(subscription: Subscription, invoice_id: str) -> Retried:
    """What became of the last attempt at an invoice retried by hand, as ``subscription``
    shows it."""
    invoice = subscription.invoices[invoice_id]
    unpaid = subscription.open_invoices.get(invoice_id)
    attempts = unpaid["attempts"] if unpaid is not None else None
    if invoice["charge_id"] is not None:
        return Retried(subscription, invoice_id, invoice["charge_id"], "succeeded")
    assert unpaid is not None and attempts is not None
    if unpaid.get("retry_at") is not None:
        return Retried(subscription, invoice_id, attempt_charge_id(invoice_id, attempts + 1),
                       "pending")
    return Retried(subscription, invoice_id, attempt_charge_id(invoice_id, attempts), "failed")
