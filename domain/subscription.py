"""The subscription and its lifecycle: trialing, active, past_due, paused, canceled.

Command methods check the rules, then record events; applying an event never raises. A
command at ``effective_at`` t first performs what is due up to t (trial end, renewals,
scheduled changes and cancellations) exactly as the billing clock would, so that every
change meets the subscription in the right period (:meth:`Subscription.advance_to`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from uuid import UUID

from .base import LedgerAggregate
from .catalog import CouponTerms, PlanTerms
from .errors import (
    CurrencyMismatch,
    EmptyChange,
    InvalidInput,
    InvalidSchedule,
    NoCancellationScheduled,
    QuantityOutOfBounds,
    SubscriptionAlreadyCanceled,
    SubscriptionNotPausable,
    SubscriptionNotPaused,
    SubscriptionPaused,
)
from .periods import Interval, Period, period_boundary
from .proration import Proration, prorate
from .time import as_utc, isoformat

TRIALING = "trialing"
ACTIVE = "active"
PAST_DUE = "past_due"
PAUSED = "paused"
CANCELED = "canceled"
STATUSES = (TRIALING, ACTIVE, PAST_DUE, PAUSED, CANCELED)
BILLED_STATUSES = (ACTIVE, PAST_DUE)

MAX_QUANTITY = 1_000_000
MAX_COMMENT = 500

VOLUNTARY = "voluntary"
INVOLUNTARY = "involuntary"


def check_quantity(quantity: int) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise QuantityOutOfBounds(f"quantity must be an integer from 1 to {MAX_QUANTITY}")
    return quantity


def check_comment(comment: str | None) -> str | None:
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
        raise InvalidInput(f"reason must be a string of at most {MAX_COMMENT} characters")
    return comment


def _terms_fields(terms: PlanTerms) -> dict[str, Any]:
    return {
        "plan_id": terms.plan_id,
        "plan_version": terms.version,
        "tier": terms.tier,
        "amount": terms.amount,
        "currency": terms.currency,
        "interval": terms.interval.value,
    }


@dataclass(frozen=True)
class ScheduledChange:
    at: datetime
    terms: PlanTerms
    quantity: int


class Subscription(LedgerAggregate):
    """One subscriber's subscription to one plan version, with a quantity of seats."""

    subscriber_id: UUID
    plan_id: str
    plan_version: int
    tier: str
    amount: int
    currency: str
    interval: Interval
    quantity: int
    status: str
    started_at: datetime
    trial_end: datetime | None
    billing_anchor: datetime | None
    period_number: int
    current_period_start: datetime
    current_period_end: datetime
    cancel_at: datetime | None
    cancel_comment: str | None
    canceled_at: datetime | None
    cancel_reason: str | None
    paused_at: datetime | None
    scheduled_change: dict[str, Any] | None
    coupon: dict[str, Any] | None

    def __init__(self) -> None:
        """State comes from the events' ``apply`` alone (the annotations above document it)."""

    # -- events --------------------------------------------------------------------------

    class Event(LedgerAggregate.Event):
        subscriber_id: UUID

        def envelope_subscriber_id(self) -> UUID | None:
            return self.subscriber_id

    class SubscriptionStarted(Event, LedgerAggregate.Created):
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
            _set_terms(aggregate, self)
            aggregate.quantity = self.quantity
            aggregate.status = self.status
            aggregate.started_at = self.effective_at
            aggregate.trial_end = self.trial_end
            aggregate.billing_anchor = self.billing_anchor
            aggregate.period_number = 0
            aggregate.current_period_start = self.current_period_start
            aggregate.current_period_end = self.current_period_end
            aggregate.cancel_at = None
            aggregate.cancel_comment = None
            aggregate.canceled_at = None
            aggregate.cancel_reason = None
            aggregate.paused_at = None
            aggregate.scheduled_change = None
            aggregate.coupon = None

    class TrialEnded(Event):
        """The trial is over; the first paid period starts (the billing anchor)."""

        billing_anchor: datetime
        current_period_start: datetime
        current_period_end: datetime

        def evolve(self, aggregate: Any) -> None:
            aggregate.status = ACTIVE
            aggregate.billing_anchor = self.billing_anchor
            aggregate.period_number = 0
            aggregate.current_period_start = self.current_period_start
            aggregate.current_period_end = self.current_period_end

    class SubscriptionRenewed(Event):
        """A new paid period starts at the end of the previous one."""

        billing_anchor: datetime
        period_number: int
        current_period_start: datetime
        current_period_end: datetime

        def evolve(self, aggregate: Any) -> None:
            aggregate.billing_anchor = self.billing_anchor
            aggregate.period_number = self.period_number
            aggregate.current_period_start = self.current_period_start
            aggregate.current_period_end = self.current_period_end

    class SubscriptionChanged(Event):
        """Plan and/or quantity changed, at once (``timing`` now) or at a renewal
        (``timing`` period_end). Supersedes any scheduled change."""

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
            _set_terms(aggregate, self)
            aggregate.quantity = self.quantity
            aggregate.billing_anchor = self.billing_anchor
            aggregate.period_number = self.period_number
            aggregate.current_period_start = self.current_period_start
            aggregate.current_period_end = self.current_period_end
            aggregate.scheduled_change = None

    class ChangeScheduled(Event):
        """A change that takes effect at the next renewal (or the trial's end)."""

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

    class CouponApplied(Event):
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
            }

    class CancellationScheduled(Event):
        at: datetime
        reason: str
        comment: str | None

        def evolve(self, aggregate: Any) -> None:
            aggregate.cancel_at = self.at
            aggregate.cancel_comment = self.comment

    class CancellationRevoked(Event):
        revoked_at: datetime

        def evolve(self, aggregate: Any) -> None:
            aggregate.cancel_at = None
            aggregate.cancel_comment = None

    class SubscriptionCanceled(Event):
        reason: str
        comment: str | None

        def evolve(self, aggregate: Any) -> None:
            aggregate.status = CANCELED
            aggregate.canceled_at = self.effective_at
            aggregate.cancel_reason = self.reason
            aggregate.cancel_comment = self.comment
            aggregate.cancel_at = None
            aggregate.scheduled_change = None

    class SubscriptionPaused(Event):
        def evolve(self, aggregate: Any) -> None:
            aggregate.status = PAUSED
            aggregate.paused_at = self.effective_at

    class SubscriptionResumed(Event):
        """Billing starts again with a new period anchored at the resume."""

        billing_anchor: datetime
        current_period_start: datetime
        current_period_end: datetime

        def evolve(self, aggregate: Any) -> None:
            aggregate.status = ACTIVE
            aggregate.paused_at = None
            aggregate.billing_anchor = self.billing_anchor
            aggregate.period_number = 0
            aggregate.current_period_start = self.current_period_start
            aggregate.current_period_end = self.current_period_end

    # -- creation ------------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        *,
        subscriber_id: UUID,
        terms: PlanTerms,
        quantity: int,
        trial_days: int | None,
        effective_at: datetime,
        recorded_at: datetime,
    ) -> Subscription:
        """Start on a plan version; ``trial_days`` overrides the plan's when given."""
        check_quantity(quantity)
        days = terms.trial_days if trial_days is None else trial_days
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 730:
            raise InvalidInput("trial_days must be an integer from 0 to 730")
        if days > 0:
            trial_end = effective_at + timedelta(days=days)
            status, anchor = TRIALING, None
            period = Period(effective_at, trial_end)
        else:
            trial_end = None
            status, anchor = ACTIVE, effective_at
            period = Period(effective_at, period_boundary(effective_at, terms.interval, 1))
        return cls._create(
            cls.SubscriptionStarted,
            timestamp=recorded_at,
            effective_at=effective_at,
            subscriber_id=subscriber_id,
            quantity=quantity,
            status=status,
            trial_end=trial_end,
            billing_anchor=anchor,
            current_period_start=period.start,
            current_period_end=period.end,
            **_terms_fields(terms),
        )

    # -- what is due ---------------------------------------------------------------------

    @property
    def current_period(self) -> Period:
        return Period(self.current_period_start, self.current_period_end)

    @property
    def terms(self) -> PlanTerms:
        return PlanTerms(
            plan_id=self.plan_id,
            version=self.plan_version,
            tier=self.tier,
            amount=self.amount,
            currency=self.currency,
            interval=self.interval,
            trial_days=0,
        )

    def next_due(self) -> datetime | None:
        """The next instant at which something is due without a command, if any."""
        candidates: list[datetime] = []
        if self.cancel_at is not None:
            candidates.append(self.cancel_at)
        if self.status == TRIALING and self.trial_end is not None:
            candidates.append(self.trial_end)
        elif self.status in BILLED_STATUSES:
            candidates.append(self.current_period_end)
        if self.status == CANCELED or not candidates:
            return None
        return min(candidates)

    def advance_to(self, instant: datetime, *, recorded_at: datetime) -> None:
        """Perform, in order, everything due up to and including ``instant``."""
        while (due := self.next_due()) is not None and due <= instant:
            self._perform_due(due, recorded_at)

    def _perform_due(self, due: datetime, recorded_at: datetime) -> None:
        if self.cancel_at is not None and self.cancel_at <= due:
            self._record(
                self.SubscriptionCanceled, self.cancel_at, recorded_at,
                reason=VOLUNTARY, comment=self.cancel_comment,
            )
            return
        anchor, n = self.billing_anchor, self.period_number + 1
        if self.scheduled_change is not None:
            if anchor is not None and Interval(self.scheduled_change["interval"]) != self.interval:
                # A new interval starts a new calendar, anchored where the new terms begin.
                anchor, n = due, 0
            self._apply_scheduled_change(due, recorded_at)
        if self.status == TRIALING:
            self._record(
                self.TrialEnded, due, recorded_at,
                billing_anchor=due,
                current_period_start=due,
                current_period_end=period_boundary(due, self.interval, 1),
            )
            return
        assert anchor is not None  # active or past_due always has an anchor
        self._record(
            self.SubscriptionRenewed, due, recorded_at,
            billing_anchor=anchor,
            period_number=n,
            current_period_start=period_boundary(anchor, self.interval, n),
            current_period_end=period_boundary(anchor, self.interval, n + 1),
        )

    def _apply_scheduled_change(self, at: datetime, recorded_at: datetime) -> None:
        """Apply the scheduled change at ``at``, where the next period starts; the renewal,
        trial conversion or resume recorded next prices that period on the new terms."""
        change = self.scheduled_change
        assert change is not None
        self._record(
            self.SubscriptionChanged, at, recorded_at,
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

    # -- commands ------------------------------------------------------------------------

    def _begin(self, effective_at: datetime, recorded_at: datetime) -> None:
        """Every command: order check, then catch up with what is due."""
        self.check_effective_at(effective_at)
        self.advance_to(effective_at, recorded_at=recorded_at)
        if self.status == CANCELED:
            raise SubscriptionAlreadyCanceled(
                f"subscription {self.id} was canceled at {isoformat(self.canceled_at)}"  # type: ignore[arg-type]
            )

    def change(
        self,
        *,
        terms: PlanTerms | None,
        quantity: int | None,
        when: str,
        effective_at: datetime,
        recorded_at: datetime,
    ) -> Proration | None:
        """Change plan and/or quantity, ``now`` or at ``period_end``.

        A change ``now`` of a billed subscription is prorated; the proration is returned for
        the invoice. A change to the plan the subscription is on keeps its price version.
        """
        if when not in ("now", "period_end"):
            raise InvalidInput("when must be 'now' or 'period_end'")
        if terms is None and quantity is None:
            raise EmptyChange("a change needs a plan_id or a quantity")
        if quantity is not None:
            check_quantity(quantity)
        self._begin(effective_at, recorded_at)
        if self.status == PAUSED:
            raise SubscriptionPaused("a paused subscription cannot change; resume it first")
        if terms is None or terms.plan_id == self.plan_id:
            terms = self.terms
        if terms.currency != self.currency:
            raise CurrencyMismatch(
                f"plan {terms.plan_id} is priced in {terms.currency}, the subscription in {self.currency}"
            )
        new_quantity = self.quantity if quantity is None else quantity
        if terms.plan_id == self.plan_id and new_quantity == self.quantity:
            raise EmptyChange("the subscription is already on this plan and quantity")
        if when == "period_end":
            at = self.trial_end if self.status == TRIALING else self.current_period_end
            self._record(
                self.ChangeScheduled, effective_at, recorded_at,
                at=at, quantity=new_quantity, **_terms_fields(terms),
            )
            return None
        proration: Proration | None = None
        anchor, number, period = self.billing_anchor, self.period_number, self.current_period
        if self.status in BILLED_STATUSES:
            old_total = self.amount * self.quantity
            new_total = terms.amount * new_quantity
            if terms.interval == self.interval:
                proration = prorate(old_total, new_total, period, effective_at)
            else:
                # A new interval re-anchors the calendar at the change (as Stripe does): the
                # old price's unused part is credited and the new period is charged whole.
                credit = prorate(old_total, 0, period, effective_at).credit
                anchor, number = effective_at, 0
                period = Period(effective_at, period_boundary(effective_at, terms.interval, 1))
                proration = Proration(credit=credit, charge=new_total, fraction=Fraction(1))
        self._record(
            self.SubscriptionChanged, effective_at, recorded_at,
            timing="now",
            quantity=new_quantity,
            **_terms_fields(terms),
            **self._previous_fields(),
            billing_anchor=anchor,
            period_number=number,
            current_period_start=period.start,
            current_period_end=period.end,
        )
        return proration

    def cancel(
        self,
        *,
        when: str,
        at: datetime | None,
        comment: str | None,
        effective_at: datetime,
        recorded_at: datetime,
    ) -> None:
        """Cancel ``now``, at ``period_end`` (the trial's end while trialing), or ``at`` a time."""
        check_comment(comment)
        if when not in ("now", "period_end", "at"):
            raise InvalidInput("when must be 'now', 'period_end' or 'at'")
        if when == "at":
            if at is None:
                raise InvalidInput("when 'at' needs the time to cancel at in 'at'")
            at = as_utc(at)
            if at < effective_at:
                raise InvalidSchedule("'at' must not be earlier than effective_at")
        elif at is not None:
            raise InvalidInput("'at' is only for when 'at'")
        self._begin(effective_at, recorded_at)
        if when == "period_end":
            if self.status == PAUSED:
                raise SubscriptionPaused(
                    "a paused subscription has no current period; cancel it now or at a time"
                )
            at = self.trial_end if self.status == TRIALING else self.current_period_end
        if when == "now" or at == effective_at:
            self._record(
                self.SubscriptionCanceled, effective_at, recorded_at,
                reason=VOLUNTARY, comment=comment,
            )
            return
        self._record(
            self.CancellationScheduled, effective_at, recorded_at,
            at=at, reason=VOLUNTARY, comment=comment,
        )

    def revoke_cancellation(self, *, effective_at: datetime, recorded_at: datetime) -> None:
        self._begin(effective_at, recorded_at)
        if self.cancel_at is None:
            raise NoCancellationScheduled("no cancellation is scheduled for this subscription")
        self._record(self.CancellationRevoked, effective_at, recorded_at, revoked_at=self.cancel_at)

    def pause(self, *, effective_at: datetime, recorded_at: datetime) -> None:
        self._begin(effective_at, recorded_at)
        if self.status not in BILLED_STATUSES:
            raise SubscriptionNotPausable(
                f"only an active or past_due subscription can be paused; this one is {self.status}"
            )
        self._record(self.SubscriptionPaused, effective_at, recorded_at)

    def resume(self, *, effective_at: datetime, recorded_at: datetime) -> None:
        self._begin(effective_at, recorded_at)
        if self.status != PAUSED:
            raise SubscriptionNotPaused(f"the subscription is {self.status}, not paused")
        if self.scheduled_change is not None:
            self._apply_scheduled_change(effective_at, recorded_at)
        self._record(
            self.SubscriptionResumed, effective_at, recorded_at,
            billing_anchor=effective_at,
            current_period_start=effective_at,
            current_period_end=period_boundary(effective_at, self.interval, 1),
        )

    def apply_coupon(
        self, coupon: CouponTerms, *, effective_at: datetime, recorded_at: datetime
    ) -> None:
        """Apply (or replace) the subscription's coupon; it stays across plan changes."""
        if coupon.currency is not None and coupon.currency != self.currency:
            raise CurrencyMismatch(
                f"coupon {coupon.coupon_id} is in {coupon.currency}, the subscription in {self.currency}"
            )
        self._begin(effective_at, recorded_at)
        self._record(
            self.CouponApplied, effective_at, recorded_at,
            coupon_id=coupon.coupon_id,
            percent_off=coupon.percent_off,
            amount_off=coupon.amount_off,
            currency=coupon.currency,
            duration=coupon.duration,
            duration_in_months=coupon.duration_in_months,
            ends_at=coupon.ends_at(effective_at),
        )

    # -- helpers -------------------------------------------------------------------------

    def _previous_fields(self) -> dict[str, Any]:
        return {
            "previous_plan_id": self.plan_id,
            "previous_plan_version": self.plan_version,
            "previous_amount": self.amount,
            "previous_interval": self.interval.value,
            "previous_quantity": self.quantity,
        }

    def _record(
        self, event_class: type[Subscription.Event], effective_at: datetime,
        recorded_at: datetime, **fields: Any,
    ) -> None:
        self.trigger_event(
            event_class,
            timestamp=recorded_at,
            effective_at=effective_at,
            subscriber_id=self.subscriber_id,
            **fields,
        )


def _set_terms(aggregate: Any, event: Any) -> None:
    aggregate.plan_id = event.plan_id
    aggregate.plan_version = event.plan_version
    aggregate.tier = event.tier
    aggregate.amount = event.amount
    aggregate.currency = event.currency
    aggregate.interval = Interval(event.interval)
