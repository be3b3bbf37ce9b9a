"""The billing schedule of a subscription: what falls due when (trial ends, renewals,
scheduled changes and cancellations, charge attempts) and performing it in order.

A subscription never performs I/O. The application asks :meth:`BillingSchedule.next_step`
for the next charge attempt due, saves it, takes it to the gateway, and records the answer
with :meth:`~subledger.domain.charges.Charging.record_charge`; everything else due (trial ends, renewals,
scheduled changes and cancellations) the subscription performs itself, stamped with its due
instant.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .charges import DUNNING, ChargeIntent, Dunning, Payer, attempt_charge_id, attempt_due
from .lifecycle import BILLED_STATUSES, CANCELED, TRIALING, VOLUNTARY
from .periods import Interval, period_boundary
from .subscription_events import (
    SubscriptionCanceled,
    SubscriptionChanged,
    SubscriptionEvent,
    TrialEnded,
    set_period,
)

if TYPE_CHECKING:
    from .subscription import Subscription


RESOLUTION = timedelta(microseconds=1)
"""The smallest step between two instants of the ledger."""


def caught_up_before(instant: datetime) -> datetime:
    """How far a command that ends the service at ``instant`` (a cancellation, a pause) is
    caught up first: to just before it. The period ending at ``instant`` is then the last one
    served, so the renewal or trial conversion due at that very instant is neither performed
    nor billed, exactly as a cancellation scheduled for that instant would have it."""
    return instant - RESOLUTION


class ChargesDue(RuntimeError):
    """A programming error: a command ran before the charges due were attempted.

    The application catches a subscription up (:meth:`BillingSchedule.next_step` and the
    gateway) before every command; a command never performs I/O itself."""


class SubscriptionRenewed(SubscriptionEvent):
    """A new paid period started at the end of the previous one; its invoice follows."""

    billing_anchor: datetime
    period_number: int
    current_period_start: datetime
    current_period_end: datetime

    def evolve(self, aggregate: Any) -> None:
        set_period(aggregate, self)
        aggregate.period_number = self.period_number


class BillingSchedule:
    """What falls due on a subscription without a command, and how it is performed."""

    def next_due(self: Subscription) -> datetime | None:
        """The next instant at which something is due without a command, if any: a trial
        end, a renewal, a scheduled cancellation, or a charge attempt."""
        times = [t for t in (self._next_lifecycle_due(),) if t is not None]
        attempt = self._next_attempt()
        if attempt is not None:
            times.append(attempt[0])
        return min(times) if times else None

    def agenda_due(self: Subscription) -> datetime | None:
        """When the billing clock should next look at this subscription: the next thing due,
        or a refund still waiting for its gateway's answer."""
        times = [t for t in (self.next_due(),) if t is not None]
        times += [r["requested_at"] for r in self.pending_refunds.values()]
        return min(times) if times else None

    def next_step(self: Subscription, instant: datetime, *,
                  recorded_at: datetime) -> ChargeIntent | None:
        """Perform, in order, what is due up to ``instant`` until a charge attempt is due;
        return that attempt (for the caller to take to the gateway and then record with
        :meth:`record_charge`), or None when nothing more is due by ``instant``."""
        while (due := self.next_due()) is not None and due <= instant:
            attempt = self._next_attempt()
            if attempt is not None and attempt[0] <= due:
                return self._charge_intent(attempt[1])
            self._perform_due(due, recorded_at)
        return None

    def advance_to(self: Subscription, instant: datetime, *, recorded_at: datetime,
                   pay: Payer | None = None, dunning: Dunning = DUNNING) -> None:
        """Perform everything due up to and including ``instant``, taking each charge due
        to ``pay`` (a failure pursued by ``dunning``); without ``pay``, a charge falling
        due is :class:`ChargesDue`."""
        while (intent := self.next_step(instant, recorded_at=recorded_at)) is not None:
            if pay is None:
                raise ChargesDue(f"a charge on invoice {intent.invoice_id} is due")
            self.record_charge(intent, pay(intent), recorded_at=recorded_at, dunning=dunning)

    # -- what is due ------------------------------------------------------------------------

    def _next_attempt(self: Subscription) -> tuple[datetime, str] | None:
        """The earliest charge attempt due on an open invoice: (when, invoice id)."""
        if self.status == CANCELED:
            return None
        due = [
            (attempt_due(invoice), invoice_id)
            for invoice_id, invoice in self.open_invoices.items()
            if attempt_due(invoice) is not None
        ]
        return min(due) if due else None  # type: ignore[type-var]

    def _next_lifecycle_due(self: Subscription) -> datetime | None:
        if self.status == CANCELED:
            return None
        candidates: list[datetime] = []
        if self.cancel_at is not None:
            candidates.append(self.cancel_at)
        if self.status == TRIALING and self.trial_end is not None:
            candidates.append(self.trial_end)
        elif self.status in BILLED_STATUSES:
            candidates.append(self.current_period_end)
        return min(candidates) if candidates else None

    def _charge_intent(self: Subscription, invoice_id: str) -> ChargeIntent:
        invoice = self.open_invoices[invoice_id]
        attempt = invoice["attempts"] + 1
        due = attempt_due(invoice)
        return ChargeIntent(
            invoice_id=invoice_id,
            charge_id=attempt_charge_id(invoice_id, attempt),
            amount=invoice["amount_due"],
            currency=invoice["currency"],
            attempt=attempt,
            effective_at=due,  # type: ignore[arg-type]
            manual=due != invoice["next_attempt_at"],
        )

    # -- performing it ----------------------------------------------------------------------

    def _perform_due(self: Subscription, due: datetime, recorded_at: datetime) -> None:
        """The scheduled cancellation, trial end or renewal due at ``due`` (a scheduled
        change first, so that the period after it is priced on the new terms)."""
        if self.cancel_at is not None and self.cancel_at <= due:
            self._record(SubscriptionCanceled, self.cancel_at, recorded_at,
                         reason=VOLUNTARY, comment=self.cancel_comment)
            return
        anchor, n = self.billing_anchor, self.period_number + 1
        if self.scheduled_change is not None:
            if anchor is not None and Interval(self.scheduled_change["interval"]) != self.interval:
                # A new interval starts a new calendar, anchored where the new terms begin.
                anchor, n = due, 0
            self._apply_scheduled_change(due, recorded_at)
        if self.status == TRIALING:
            self._record(TrialEnded, due, recorded_at, billing_anchor=due,
                         current_period_start=due,
                         current_period_end=period_boundary(due, self.interval, 1))
            self._invoice_period("trial_end", due, recorded_at)
            return
        assert anchor is not None  # active or past_due always has an anchor
        self._record(SubscriptionRenewed, due, recorded_at, billing_anchor=anchor,
                     period_number=n,
                     current_period_start=period_boundary(anchor, self.interval, n),
                     current_period_end=period_boundary(anchor, self.interval, n + 1))
        self._invoice_period("renewal", due, recorded_at)

    def _apply_scheduled_change(self: Subscription, at: datetime, recorded_at: datetime) -> None:
        """Apply the scheduled change at ``at``, where the next period starts; the renewal,
        trial conversion or resume recorded next prices that period on the new terms."""
        change = self.scheduled_change
        assert change is not None
        self._record(
            SubscriptionChanged, at, recorded_at,
            timing="period_end",
            plan_id=change["plan_id"], plan_version=change["plan_version"], tier=change["tier"],
            amount=change["amount"], currency=change["currency"], interval=change["interval"],
            quantity=change["quantity"],
            **self._previous_fields(),
            billing_anchor=self.billing_anchor,
            period_number=self.period_number,
            current_period_start=self.current_period_start,
            current_period_end=self.current_period_end,
        )
