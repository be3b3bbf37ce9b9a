"""The billing clock: perform everything due up to T, exactly once.

"Run billing until T" takes, in keyset pages, every subscription whose agenda (the
``billing_due`` side table, written with its events) says something is due by T, and
catches it up to T: trial conversions, renewals with their invoices and charges, scheduled
changes and cancellations, dunning retries, each stamped with its due instant.

Exactly once, even from two processes at once: invoice and charge ids are derived from the
subscription's own sequence, so two runs deciding the same step decide the same ids, send
the gateway the same idempotency key, and only one of them can append the events (the other
fails on the store's (aggregate, version) key and moves on). Memory is bounded by the page
size; subscriptions are saved 50 to a transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from subledger.domain.charges import ChargeSucceeded
from subledger.domain.errors import BillingUntilInFuture, ConcurrentModification
from subledger.domain.invoicing import InvoiceIssued
from subledger.domain.time import as_utc, isoformat

from .gateways import GatewayUnavailable

if TYPE_CHECKING:
    from .ledger import Ledger

PAGE_SIZE = 500
SAVE_BATCH = 50
"""Subscriptions saved per transaction (a conflict redoes only these, one by one)."""
MAX_CONFLICT_RETRIES = 3

Progress = Callable[[int, int], None]
"""Called with (subscriptions done, subscriptions due when the run began)."""


@dataclass
class BillingSummary:
    until: datetime
    subscriptions: int = 0
    """Subscriptions caught up by this run."""
    events: Counter[str] = field(default_factory=Counter)
    billed: Counter[str] = field(default_factory=Counter)
    """Invoice totals by currency, minor units."""
    collected: Counter[str] = field(default_factory=Counter)
    deferred: int = 0
    """Subscriptions left for the next run because their gateway was unavailable."""
    conflicts: int = 0
    """Steps another process recorded first (each one re-read and finished)."""

    def as_dict(self) -> dict[str, object]:
        return {
            "until": isoformat(self.until),
            "subscriptions": self.subscriptions,
            "invoices": self.events["InvoiceIssued"],
            "renewals": self.events["SubscriptionRenewed"],
            "trial_conversions": self.events["TrialEnded"],
            "charges_succeeded": self.events["ChargeSucceeded"],
            "charges_failed": self.events["ChargeFailed"],
            "cancellations": self.events["SubscriptionCanceled"],
            "past_due": self.events["SubscriptionPastDue"],
            "recovered": self.events["SubscriptionRecovered"],
            "billed": dict(self.billed),
            "collected": dict(self.collected),
            "deferred": self.deferred,
            "conflicts": self.conflicts,
        }


def run_billing(
    ledger: Ledger, until: datetime, *, page_size: int = PAGE_SIZE,
    progress: Progress | None = None,
) -> BillingSummary:
    """Perform everything due up to ``until`` (inclusive, not in the future)."""
    until = as_utc(until)
    now = ledger.clock()
    if until > now:
        raise BillingUntilInFuture(f"until {isoformat(until)} is after now ({isoformat(now)})")
    summary = BillingSummary(until=until)
    recorder = ledger.store.recorder
    total = recorder.count_due(until)
    done = 0
    after = None
    while page := recorder.select_due(until, after, page_size):
        for start in range(0, len(page), SAVE_BATCH):
            chunk = [subscription_id for _, subscription_id in page[start:start + SAVE_BATCH]]
            _bill_batch(ledger, chunk, until, summary)
            done += len(chunk)
            if progress is not None:
                progress(done, max(total, done))
        ledger.store.flush()  # inside a batch (the demo): one transaction per page
        after = page[-1]
    return summary


def _bill_batch(ledger: Ledger, ids: list[UUID], until: datetime, summary: BillingSummary) -> None:
    """Catch a few subscriptions up together, in rounds: each round saves every decision in
    one transaction, then takes the charges (and refunds) those decisions made due to the
    gateways. If another process recorded one of them first, do them one by one."""
    now = ledger.clock()
    subscriptions = [ledger.subscriptions.get(subscription_id) for subscription_id in ids]
    first_round = True
    while subscriptions:
        steps = [(s, s.next_step(until, recorded_at=now)) for s in subscriptions]
        pending = [event for s in subscriptions for event in s.pending_events]
        try:
            # Saved also when nothing was decided: the agenda row moves on, so the next
            # run does not look at these subscriptions again.
            ledger.store.commit(*subscriptions, result=None, idempotency=None)
        except ConcurrentModification:
            summary.conflicts += 1
            for subscription in subscriptions:
                _bill_one(ledger, subscription.id, until, summary, counted=not first_round)
            return
        if first_round:
            summary.subscriptions += len(subscriptions)
            first_round = False
        _count(summary, pending)
        next_round = []
        for subscription, intent in steps:
            refunds = subscription.pending_refund_intents() if intent is None else []
            if intent is None and not refunds:
                continue
            try:
                if intent is not None:
                    ledger.settlement.take_charge(subscription, intent, now)
                else:
                    ledger.settlement.take_refunds(subscription, refunds, now)
            except GatewayUnavailable:
                summary.deferred += 1
                continue
            next_round.append(subscription)
        subscriptions = next_round


def _count(summary: BillingSummary, events: list[object]) -> None:
    for event in events:
        summary.events[type(event).__name__] += 1
        if isinstance(event, InvoiceIssued):
            summary.billed[event.currency] += event.total
        elif isinstance(event, ChargeSucceeded):
            summary.collected[event.currency] += event.amount


def _bill_one(
    ledger: Ledger, subscription_id: UUID, until: datetime, summary: BillingSummary,
    *, counted: bool = False,
) -> None:
    for _ in range(MAX_CONFLICT_RETRIES):
        subscription = ledger.subscriptions.get(subscription_id)
        try:
            settled = ledger.settlement.settle(subscription, until, ledger.clock(),
                                               observe=lambda events: _count(summary, events))
        except ConcurrentModification:
            summary.conflicts += 1
            continue
        if not counted:
            summary.subscriptions += 1
        if not settled.complete:
            summary.deferred += 1
        return
