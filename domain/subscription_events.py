"""The events of a subscription's lifecycle, and the base of every subscription event.

Each event says how it changes the aggregate's state (``evolve``); its status comes from
the lifecycle's one table (:func:`~subledger.domain.lifecycle.status_after`). The events of
billing, invoicing and refunds are defined with their concern (``billing_schedule``,
``invoicing``, ``refunds``); :class:`~subledger.domain.subscription.Subscription` lists
them all.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from .base import LedgerAggregate
from .lifecycle import status_after
from .periods import Interval

STORED_UNDER = "subledger.domain.subscription:Subscription"
"""The topic prefix under which the store has always written subscription events: a
subscription event's topic is this plus its class name, wherever the class is defined, so
stored events stay readable when code moves."""


class SubscriptionEvent(LedgerAggregate.Event):
    subscriber_id: UUID

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.TOPIC = f"{STORED_UNDER}.{cls.__name__}"

    def apply(self, aggregate: Any) -> None:
        super().apply(aggregate)
        # A created aggregate has no status before its first event, which names it.
        aggregate.status = status_after(type(self).__name__, vars(self),
                                        getattr(aggregate, "status", ""))

    def envelope_subscriber_id(self) -> UUID | None:
        return self.subscriber_id


def set_terms(aggregate: Any, event: Any) -> None:
    """Copy a plan version's terms from an event onto the aggregate."""
    aggregate.plan_id = event.plan_id
    aggregate.plan_version = event.plan_version
    aggregate.tier = event.tier
    aggregate.amount = event.amount
    aggregate.currency = event.currency
    aggregate.interval = Interval(event.interval)


def set_period(aggregate: Any, event: Any) -> None:
    """Copy the billing calendar (anchor and current period) from an event."""
    aggregate.billing_anchor = event.billing_anchor
    aggregate.current_period_start = event.current_period_start
    aggregate.current_period_end = event.current_period_end


class SubscriptionStarted(SubscriptionEvent, LedgerAggregate.Created):
    """A subscriber signed up to a plan, for a number of seats: the subscription is trialing,
    or active and invoiced for its first period at once."""

    plan_id: str
    plan_version: int
    tier: str
    amount: int
    currency: str
    interval: str
    quantity: int
    status: str
    trial_end: datetime | None
    billing_anchor: datetime | None
    current_period_start: datetime
    current_period_end: datetime

    def evolve(self, aggregate: Any) -> None:
        aggregate.subscriber_id = self.subscriber_id
        set_terms(aggregate, self)
        set_period(aggregate, self)
        aggregate.quantity = self.quantity
        aggregate.started_at = self.effective_at
        aggregate.trial_end = self.trial_end
        aggregate.period_number = 0
        aggregate.cancel_at = None
        aggregate.cancel_comment = None
        aggregate.canceled_at = None
        aggregate.cancel_reason = None
        aggregate.paused_at = None
        aggregate.scheduled_change = None
        aggregate.coupon = None
        aggregate.redeemed_coupons = frozenset()
        aggregate.credit_balance = 0
        aggregate.open_invoices = {}
        aggregate.invoices = {}
        aggregate.credit_notes = {}
        aggregate.charges = {}
        aggregate.pending_refunds = {}
        aggregate.refunds = {}
        aggregate.disputes = {}


class TrialEnded(SubscriptionEvent):
    """The trial is over and the subscription is active: its first paid period starts here (the
    billing anchor) and is invoiced."""

    billing_anchor: datetime
    current_period_start: datetime
    current_period_end: datetime

    def evolve(self, aggregate: Any) -> None:
        set_period(aggregate, self)
        aggregate.period_number = 0


class SubscriptionChanged(SubscriptionEvent):
    """The subscription moved to another plan, quantity or both: at once (``timing`` now,
    prorated when it was paying) or where a scheduled change took effect (``timing``
    period_end). It supersedes any scheduled change."""

    timing: str
    plan_id: str
    plan_version: int
    tier: str
    amount: int
    currency: str
    interval: str
    quantity: int
    previous_plan_id: str
    previous_plan_version: int
    previous_amount: int
    previous_interval: str
    previous_quantity: int
    billing_anchor: datetime | None
    period_number: int
    current_period_start: datetime
    current_period_end: datetime

    def evolve(self, aggregate: Any) -> None:
        set_terms(aggregate, self)
        set_period(aggregate, self)
        aggregate.quantity = self.quantity
        aggregate.period_number = self.period_number
        aggregate.scheduled_change = None


class ChangeScheduled(SubscriptionEvent):
    """A change of plan, quantity or both was scheduled for ``at``: the next renewal, the
    trial's end, or the resume of a paused subscription. Until then the subscription keeps
    its terms; a later request replaces it."""

    at: datetime
    plan_id: str
    plan_version: int
    tier: str
    amount: int
    currency: str
    interval: str
    quantity: int

    def evolve(self, aggregate: Any) -> None:
        aggregate.scheduled_change = {
            "at": self.at,
            "plan_id": self.plan_id,
            "plan_version": self.plan_version,
            "tier": self.tier,
            "amount": self.amount,
            "currency": self.currency,
            "interval": self.interval,
            "quantity": self.quantity,
        }


class CouponApplied(SubscriptionEvent):
    """A coupon now discounts the subscription's recurring line, replacing any coupon it had,
    for as long as its duration runs (``ends_at`` for a repeating one)."""

    coupon_id: str
    percent_off: Decimal | None
    amount_off: int | None
    currency: str | None
    duration: str
    duration_in_months: int | None
    ends_at: datetime | None

    def evolve(self, aggregate: Any) -> None:
        aggregate.coupon = {
            "coupon_id": self.coupon_id,
            "percent_off": self.percent_off,
            "amount_off": self.amount_off,
            "currency": self.currency,
            "duration": self.duration,
            "duration_in_months": self.duration_in_months,
            "applied_at": self.effective_at,
            "ends_at": self.ends_at,
            "used": False,
        }
        aggregate.redeemed_coupons = aggregate.redeemed_coupons | {self.coupon_id}


class CancellationScheduled(SubscriptionEvent):
    """The subscription will end at ``at`` (its period's end, its trial's end, or a chosen
    time) unless the cancellation is revoked before then. ``comment`` is the client's own
    reason."""

    at: datetime
    reason: str
    comment: str | None

    def evolve(self, aggregate: Any) -> None:
        aggregate.cancel_at = self.at
        aggregate.cancel_comment = self.comment


class CancellationRevoked(SubscriptionEvent):
    """A scheduled cancellation was withdrawn before it happened, and the subscription goes on.
    ``revoked_at`` is the instant it had been scheduled for."""

    revoked_at: datetime

    def evolve(self, aggregate: Any) -> None:
        aggregate.cancel_at = None
        aggregate.cancel_comment = None


class SubscriptionCanceled(SubscriptionEvent):
    """The subscription ended, for good: ``voluntary`` when the client canceled it,
    ``involuntary`` when the last dunning retry failed."""

    reason: str
    comment: str | None

    def evolve(self, aggregate: Any) -> None:
        aggregate.canceled_at = self.effective_at
        aggregate.cancel_reason = self.reason
        aggregate.cancel_comment = self.comment
        aggregate.cancel_at = None
        aggregate.scheduled_change = None


class SubscriptionPaused(SubscriptionEvent):
    """Billing stopped: the subscription renews no more and counts no MRR until it is resumed."""

    def evolve(self, aggregate: Any) -> None:
        aggregate.paused_at = self.effective_at


class SubscriptionResumed(SubscriptionEvent):
    """A paused subscription was resumed: billing starts again with a new period anchored at
    the resume, invoiced at once."""

    billing_anchor: datetime
    current_period_start: datetime
    current_period_end: datetime

    status: str
    """``active``, or ``past_due`` when an invoice is still in dunning."""

    def evolve(self, aggregate: Any) -> None:
        set_period(aggregate, self)
        aggregate.paused_at = None
        aggregate.period_number = 0
