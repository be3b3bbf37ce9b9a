"""Pausing and resuming a subscription. A pause ends the service at its instant, so it is
caught up only to just before it (the period ending then is the last one served), and the
unused part of the period is credited, as a change ``now`` to nothing would credit it; a
resume starts a new period at its instant, billed at once (up to a cancellation
scheduled inside it)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from .billing_schedule import caught_up_before
from .charges import in_dunning
from .errors import SubscriptionNotPausable, SubscriptionNotPaused
from .invoicing import PAUSE, proration_lines
from .lifecycle import ACTIVE, BILLED_STATUSES, PAST_DUE, PAUSED
from .periods import period_boundary

if TYPE_CHECKING:
    from .subscription import Subscription


class Pausing:
    def pause(self: Subscription, *, effective_at: datetime, recorded_at: datetime) -> None:
        self._begin(effective_at, recorded_at, until=caught_up_before(effective_at))
        if self.status not in BILLED_STATUSES:
            raise SubscriptionNotPausable(
                f"only an active or past_due subscription can be paused; this one is {self.status}"
            )
        self._record(self.SubscriptionPaused, effective_at, recorded_at)
        self._credit_unused_time(effective_at, recorded_at)

    def resume(self: Subscription, *, effective_at: datetime, recorded_at: datetime) -> None:
        self._begin(effective_at, recorded_at)
        if self.status != PAUSED:
            raise SubscriptionNotPaused(f"the subscription is {self.status}, not paused")
        if self.scheduled_change is not None:
            self._apply_scheduled_change(effective_at, recorded_at)
        self._record(
            self.SubscriptionResumed, effective_at, recorded_at,
            status=PAST_DUE if in_dunning(self.open_invoices) else ACTIVE,
            billing_anchor=effective_at,
            current_period_start=effective_at,
            current_period_end=period_boundary(effective_at, self.interval, 1),
        )
        self._invoice_period("resume", effective_at, recorded_at)

    def _credit_unused_time(self: Subscription, at: datetime, recorded_at: datetime) -> None:
        """The invoice of a pause: a credit for the part of the period left unserved, kept as
        the credit balance and taken off the next invoices (none at the period's end)."""
        lines = proration_lines(
            proration=self._unused_time(at), old_description=self.description(),
            new_description=self.description(), at=at, period_end=self.billed_until(),
        )
        if lines:
            self._issue_invoice(PAUSE, lines, at, recorded_at)
