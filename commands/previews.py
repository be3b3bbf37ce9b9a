"""Previews: what a change would cost, and the next invoice the billing clock will issue.

Both run the domain code that issues invoices on a copy of the subscription
(:mod:`subledger.domain.previews`): a preview loads and reads, and appends nothing, keeps
no idempotency answer and asks no gateway. A change is previewed with the very decision
the change runs (:meth:`Subscriptions.change_decision`), so it is refused with the same
error for the same input.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from subledger.domain.previews import (
    CommandPreview,
    InvoicePreview,
    preview_command,
    upcoming_invoice,
)
from subledger.domain.subscription import Subscription

from .store import LedgerStore
from .subscriptions import Subscriptions


class Previews:
    def __init__(self, store: LedgerStore, subscriptions: Subscriptions) -> None:
        self.store = store
        self.subscriptions = subscriptions

    def change(
        self, subscription_id: UUID, *, plan_id: str | None = None, quantity: int | None = None,
        when: str = "now", effective_at: datetime | None = None,
    ) -> CommandPreview:
        """What ``ledger.subscriptions.change`` with the same arguments would invoice, and
        the subscription after it, if every charge falling due is paid."""
        decide = self.subscriptions.change_decision(plan_id=plan_id, quantity=quantity, when=when)
        subscription, effective, now = self.subscriptions.command_at(subscription_id, effective_at)

        def command(sub: Subscription) -> None:
            decide(sub, effective, now)

        return preview_command(subscription, command, at=effective, recorded_at=now)

    def upcoming_invoice(self, subscription_id: UUID) -> InvoicePreview:
        """The next invoice the billing clock will issue (a renewal or a trial's conversion),
        or :class:`~subledger.domain.errors.NoUpcomingInvoice`."""
        subscription = self.subscriptions.get(subscription_id)
        return upcoming_invoice(subscription, recorded_at=self.store.clock())
