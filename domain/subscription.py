"""The subscription aggregate: its state, its lifecycle commands, and its events.

Command methods check the rules, then record events; applying an event never raises. A
command at ``effective_at`` t first performs what is due up to t (trial end, renewals,
scheduled changes and cancellations) exactly as the billing clock would, so that every
change meets the subscription in the right period (:meth:`BillingSchedule.advance_to`).

The aggregate is composed by concern: the lifecycle here (events in
``subscription_events``, statuses in ``lifecycle``), cancelling in ``cancellation``, pausing
in ``pausing``, plan changes in ``plan_changes``, what
falls due in ``billing_schedule``, charges and dunning in ``charges``, invoices in
``invoicing``, refunds in ``refunds``, corrections of what was invoiced in ``corrections``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from . import (
    billing_schedule,
    charge_reversals,
    charges,
    corrections,
    disputes,
    invoicing,
    refund_reversals,
    refunds,
    subscription_events,
)
from .base import LedgerAggregate
from .billing_schedule import BillingSchedule
from .cancellation import Cancellation
from .charge_reversals import ChargeReversals
from .charges import Charging
from .corrections import Corrections
from .coupons import CouponTerms
from .disputes import Disputes
from .errors import CouponAlreadyRedeemed, CurrencyMismatch, SubscriptionAlreadyCanceled
from .lifecycle import ACTIVE, CANCELED, TRIALING, check_quantity
from .outside_payments import OutsidePayments
from .pausing import Pausing
from .periods import Interval, Period, period_boundary
from .plan_changes import PlanChanges, terms_fields
from .plans import PlanTerms, check_trial_days
from .refund_reversals import RefundReversals
from .refunds import Refunds
from .subscription_invoicing import Invoicing
from .time import isoformat


class Subscription(
    PlanChanges, Pausing, Cancellation, Disputes, Corrections, ChargeReversals, RefundReversals,
    Refunds, Invoicing, Charging, OutsidePayments, BillingSchedule,
    LedgerAggregate,
):
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
    redeemed_coupons: frozenset[str]
    credit_balance: int
    open_invoices: dict[str, dict[str, Any]]
    invoices: dict[str, dict[str, Any]]
    credit_notes: dict[str, dict[str, Any]]
    charges: dict[str, dict[str, Any]]
    pending_refunds: dict[str, dict[str, Any]]
    refunds: dict[str, dict[str, Any]]
    disputes: dict[str, dict[str, Any]]

    def __init__(self) -> None:
        """State comes from the events' ``apply`` alone (the annotations above document it)."""

    # The catalogue of the aggregate's events (each defined with its concern).
    Event = subscription_events.SubscriptionEvent
    SubscriptionStarted = subscription_events.SubscriptionStarted
    TrialEnded = subscription_events.TrialEnded
    SubscriptionChanged = subscription_events.SubscriptionChanged
    ChangeScheduled = subscription_events.ChangeScheduled
    CouponApplied = subscription_events.CouponApplied
    CancellationScheduled = subscription_events.CancellationScheduled
    CancellationRevoked = subscription_events.CancellationRevoked
    SubscriptionCanceled = subscription_events.SubscriptionCanceled
    SubscriptionPaused = subscription_events.SubscriptionPaused
    SubscriptionResumed = subscription_events.SubscriptionResumed
    SubscriptionRenewed = billing_schedule.SubscriptionRenewed
    ChargeSucceeded = charges.ChargeSucceeded
    ChargeFailed = charges.ChargeFailed
    SubscriptionPastDue = charges.SubscriptionPastDue
    SubscriptionRecovered = charges.SubscriptionRecovered
    InvoiceIssued = invoicing.InvoiceIssued
    RefundRequested = refunds.RefundRequested
    RefundFailed = refunds.RefundFailed
    RefundIssued = refunds.RefundIssued
    RefundReversed = refund_reversals.RefundReversed
    ChargeReversed = charge_reversals.ChargeReversed
    ChargeRetryScheduled = charges.ChargeRetryScheduled
    InvoiceVoided = corrections.InvoiceVoided
    InvoiceMarkedUncollectible = corrections.InvoiceMarkedUncollectible
    CreditNoteIssued = corrections.CreditNoteIssued
    BalanceAdjusted = corrections.BalanceAdjusted
    ChargeDisputed = disputes.ChargeDisputed
    DisputeClosed = disputes.DisputeClosed

    # -- creation ------------------------------------------------------------------------

    @classmethod
    def start(
        cls, *, subscriber_id: UUID, terms: PlanTerms, quantity: int, trial_days: int | None,
        effective_at: datetime, recorded_at: datetime, coupon: CouponTerms | None = None,
    ) -> Subscription:
        """Start on a plan version; ``trial_days`` overrides the plan's when given.

        Without a trial the first period is invoiced at once (its charge is then due:
        see :meth:`next_step`); with one, nothing is invoiced until the trial's end."""
        check_quantity(quantity)
        days = check_trial_days(terms.trial_days if trial_days is None else trial_days)
        if coupon is not None and coupon.currency is not None and coupon.currency != terms.currency:
            raise CurrencyMismatch(
                f"coupon {coupon.coupon_id} is in {coupon.currency}, the plan in {terms.currency}"
            )
        if days > 0:
            trial_end: datetime | None = effective_at + timedelta(days=days)
            status, anchor, end = TRIALING, None, trial_end
        else:
            trial_end, status, anchor = None, ACTIVE, effective_at
            end = period_boundary(effective_at, terms.interval, 1)
        subscription = cls._create(
            cls.SubscriptionStarted, timestamp=recorded_at, effective_at=effective_at,
            subscriber_id=subscriber_id, quantity=quantity, status=status, trial_end=trial_end,
            billing_anchor=anchor, current_period_start=effective_at, current_period_end=end,
            **terms_fields(terms),
        )
        if coupon is not None:
            subscription._record_coupon(coupon, effective_at, recorded_at)
        if status == ACTIVE:
            subscription._invoice_period("subscription_create", effective_at, recorded_at)
        return subscription

    @property
    def current_period(self) -> Period:
        return Period(self.current_period_start, self.current_period_end)

    @property
    def terms(self) -> PlanTerms:
        return PlanTerms(plan_id=self.plan_id, version=self.plan_version, tier=self.tier,
                         amount=self.amount, currency=self.currency, interval=self.interval,
                         trial_days=0)

    # -- commands ------------------------------------------------------------------------

    def apply_coupon(
        self, coupon: CouponTerms, *, effective_at: datetime, recorded_at: datetime
    ) -> None:
        """Apply (or replace) the subscription's coupon; it stays across plan changes. A
        coupon the subscription has had before is refused: each is redeemed once."""
        if coupon.currency is not None and coupon.currency != self.currency:
            raise CurrencyMismatch(
                f"coupon {coupon.coupon_id} is in {coupon.currency}, the subscription in {self.currency}"
            )
        if coupon.coupon_id in self.redeemed_coupons:
            raise CouponAlreadyRedeemed(
                f"coupon {coupon.coupon_id} was already redeemed on subscription {self.id}")
        self._begin(effective_at, recorded_at)
        self._record_coupon(coupon, effective_at, recorded_at)

    # -- helpers -------------------------------------------------------------------------

    def _begin(self, effective_at: datetime, recorded_at: datetime,
               until: datetime | None = None) -> None:
        """Every command: order check, then catch up with what is due up to ``until``
        (default ``effective_at``; the application has already taken the charges due to
        the gateway)."""
        self.check_effective_at(effective_at)
        self.advance_to(effective_at if until is None else until, recorded_at=recorded_at)
        if self.status == CANCELED:
            raise SubscriptionAlreadyCanceled(
                f"subscription {self.id} was canceled at {isoformat(self.canceled_at)}"  # type: ignore[arg-type]
            )

    def _record_coupon(self, coupon: CouponTerms, at: datetime, recorded_at: datetime) -> None:
        self._record(
            self.CouponApplied, at, recorded_at,
            coupon_id=coupon.coupon_id, percent_off=coupon.percent_off,
            amount_off=coupon.amount_off, currency=coupon.currency, duration=coupon.duration,
            duration_in_months=coupon.duration_in_months, ends_at=coupon.ends_at(at),
        )

    def _record(
        self, event_class: type[subscription_events.SubscriptionEvent], effective_at: datetime,
        recorded_at: datetime, **fields: Any,
    ) -> None:
        self.trigger_event(event_class, timestamp=recorded_at, effective_at=effective_at,
                           subscriber_id=self.subscriber_id, **fields)
