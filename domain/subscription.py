"""The subscription and its lifecycle: trialing, active, past_due, paused, canceled.

Command methods check the rules, then record events; applying an event never raises. A
command at ``effective_at`` t first performs what is due up to t (trial end, renewals,
scheduled changes and cancellations) exactly as the billing clock would, so that every
change meets the subscription in the right period (:meth:`Subscription.advance_to`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from uuid import UUID, uuid5

from .base import LedgerAggregate
from .catalog import CouponTerms, PlanTerms
from .errors import (
    ChargeNotFound,
    CurrencyMismatch,
    EmptyChange,
    InvalidInput,
    InvalidSchedule,
    NoCancellationScheduled,
    QuantityOutOfBounds,
    RefundExceedsCharge,
    SubscriptionAlreadyCanceled,
    SubscriptionNotPausable,
    SubscriptionNotPaused,
    SubscriptionPaused,
)
from .invoicing import (
    MANUAL,
    Discount,
    Line,
    discount_amount,
    proration_lines,
    recurring_lines,
    settle,
    total,
)
from .money import check_amount
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

RETRY_DAYS = (3, 5, 7)
"""Dunning: retries this many days after the first failed attempt at an invoice."""
NO_PAYMENT_METHOD = "no_payment_method"


class ChargesDue(RuntimeError):
    """A programming error: a command ran before the charges due were attempted.

    The application catches a subscription up (:meth:`Subscription.next_step` and the
    gateway) before every command; a command never performs I/O itself."""


@dataclass(frozen=True)
class ChargeIntent:
    """An attempt at charging an open invoice, due at ``effective_at``."""

    invoice_id: str
    charge_id: str
    amount: int
    currency: str
    attempt: int
    effective_at: datetime


@dataclass(frozen=True)
class ChargeOutcome:
    """What the gateway answered to a :class:`ChargeIntent`."""

    succeeded: bool
    gateway: str | None
    """None when no gateway was asked (no payment method)."""
    gateway_ref: str | None
    decline_code: str | None = None


Payer = Callable[[ChargeIntent], ChargeOutcome]


@dataclass(frozen=True)
class RefundIntent:
    """A requested refund, to take to the charge's gateway under ``refund_id``'s key."""

    refund_id: str
    charge_id: str
    amount: int
    currency: str
    gateway: str | None
    charge_gateway_ref: str | None
    reason: str | None
    effective_at: datetime


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
    credit_balance: int
    open_invoices: dict[str, dict[str, Any]]
    charges: dict[str, dict[str, Any]]
    pending_refunds: dict[str, dict[str, Any]]
    refunds: dict[str, dict[str, Any]]

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
            aggregate.credit_balance = 0
            aggregate.open_invoices = {}
            aggregate.charges = {}
            aggregate.pending_refunds = {}
            aggregate.refunds = {}

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
                "used": False,
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

        status: str
        """``active``, or ``past_due`` when an invoice is still in dunning."""

        def evolve(self, aggregate: Any) -> None:
            aggregate.status = self.status
            aggregate.paused_at = None
            aggregate.billing_anchor = self.billing_anchor
            aggregate.period_number = 0
            aggregate.current_period_start = self.current_period_start
            aggregate.current_period_end = self.current_period_end

    class InvoiceIssued(Event):
        """An invoice: its lines, total, and how it meets the credit balance.

        ``reason``: subscription_create, trial_end, renewal, resume, proration or manual.
        A positive ``amount_due`` is charged (``ChargeSucceeded``/``ChargeFailed``)."""

        invoice_id: str
        reason: str
        total: int
        currency: str
        lines: list[dict[str, Any]]
        credit_applied: int
        credit_added: int
        amount_due: int

        def evolve(self, aggregate: Any) -> None:
            aggregate.credit_balance += self.credit_added - self.credit_applied
            if self.amount_due > 0 and self.reason != MANUAL:
                aggregate.open_invoices[self.invoice_id] = {
                    "amount_due": self.amount_due,
                    "currency": self.currency,
                    "issued_at": self.effective_at,
                    "attempts": 0,
                    "first_failure_at": None,
                    "next_attempt_at": self.effective_at,
                }
            coupon = aggregate.coupon
            if coupon is not None and coupon["duration"] == "once" and any(
                line["kind"] == "recurring" for line in self.lines
            ):
                coupon["used"] = True

    class ChargeSucceeded(Event):
        charge_id: str
        invoice_id: str | None
        amount: int
        currency: str
        gateway: str
        gateway_ref: str | None
        attempt: int

        def evolve(self, aggregate: Any) -> None:
            aggregate.charges[self.charge_id] = {
                "amount": self.amount,
                "refunded": 0,
                "currency": self.currency,
                "gateway": self.gateway,
                "gateway_ref": self.gateway_ref,
                "invoice_id": self.invoice_id,
            }
            if self.invoice_id is not None:
                aggregate.open_invoices.pop(self.invoice_id, None)

    class ChargeFailed(Event):
        """``next_attempt_at`` is the dunning retry, or null after the last attempt."""

        charge_id: str
        invoice_id: str
        amount: int
        currency: str
        gateway: str | None
        decline_code: str
        attempt: int
        next_attempt_at: datetime | None

        def evolve(self, aggregate: Any) -> None:
            invoice = aggregate.open_invoices.get(self.invoice_id)
            if invoice is None:
                return
            invoice["attempts"] = self.attempt
            if invoice["first_failure_at"] is None:
                invoice["first_failure_at"] = self.effective_at
            invoice["next_attempt_at"] = self.next_attempt_at

    class SubscriptionPastDue(Event):
        invoice_id: str

        def evolve(self, aggregate: Any) -> None:
            aggregate.status = PAST_DUE

    class SubscriptionRecovered(Event):
        invoice_id: str

        def evolve(self, aggregate: Any) -> None:
            aggregate.status = ACTIVE

    class RefundRequested(Event):
        """A refund decided and reserved against the charge, before the gateway is asked
        (under the key derived from ``refund_id``); ``RefundIssued`` or ``RefundFailed``
        follows."""

        refund_id: str
        charge_id: str
        amount: int
        currency: str
        reason: str | None
        gateway: str | None

        def evolve(self, aggregate: Any) -> None:
            aggregate.pending_refunds[self.refund_id] = {
                "charge_id": self.charge_id,
                "amount": self.amount,
                "currency": self.currency,
                "reason": self.reason,
                "gateway": self.gateway,
                "requested_at": self.effective_at,
            }

    class RefundFailed(Event):
        refund_id: str
        charge_id: str
        amount: int
        currency: str
        failure_code: str

        def evolve(self, aggregate: Any) -> None:
            aggregate.pending_refunds.pop(self.refund_id, None)
            aggregate.refunds[self.refund_id] = {
                "charge_id": self.charge_id, "amount": self.amount, "status": "failed",
                "failure_code": self.failure_code, "gateway_ref": None,
            }

    class RefundIssued(Event):
        refund_id: str
        charge_id: str
        amount: int
        currency: str
        reason: str | None
        gateway: str
        gateway_ref: str | None

        def evolve(self, aggregate: Any) -> None:
            aggregate.pending_refunds.pop(self.refund_id, None)
            aggregate.refunds[self.refund_id] = {
                "charge_id": self.charge_id, "amount": self.amount, "status": "succeeded",
                "failure_code": None, "gateway_ref": self.gateway_ref,
            }
            charge = aggregate.charges.get(self.charge_id)
            if charge is not None:
                charge["refunded"] += self.amount

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
        coupon: CouponTerms | None = None,
    ) -> Subscription:
        """Start on a plan version; ``trial_days`` overrides the plan's when given.

        Without a trial the first period is invoiced at once (its charge is then due:
        see :meth:`next_step`); with one, nothing is invoiced until the trial's end."""
        check_quantity(quantity)
        days = terms.trial_days if trial_days is None else trial_days
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 730:
            raise InvalidInput("trial_days must be an integer from 0 to 730")
        if coupon is not None and coupon.currency is not None and coupon.currency != terms.currency:
            raise CurrencyMismatch(
                f"coupon {coupon.coupon_id} is in {coupon.currency}, the plan in {terms.currency}"
            )
        if days > 0:
            trial_end = effective_at + timedelta(days=days)
            status, anchor = TRIALING, None
            period = Period(effective_at, trial_end)
        else:
            trial_end = None
            status, anchor = ACTIVE, effective_at
            period = Period(effective_at, period_boundary(effective_at, terms.interval, 1))
        subscription = cls._create(
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
        if coupon is not None:
            subscription._record_coupon(coupon, effective_at, recorded_at)
        if status == ACTIVE:
            subscription._invoice_period("subscription_create", effective_at, recorded_at)
        return subscription

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

    def _next_attempt(self) -> tuple[datetime, str] | None:
        """The earliest charge attempt due on an open invoice: (when, invoice id)."""
        if self.status == CANCELED:
            return None
        due = [
            (invoice["next_attempt_at"], invoice_id)
            for invoice_id, invoice in self.open_invoices.items()
            if invoice["next_attempt_at"] is not None
        ]
        return min(due) if due else None

    def _next_lifecycle_due(self) -> datetime | None:
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

    def next_due(self) -> datetime | None:
        """The next instant at which something is due without a command, if any: a trial
        end, a renewal, a scheduled cancellation, or a charge attempt."""
        times = [t for t in (self._next_lifecycle_due(),) if t is not None]
        attempt = self._next_attempt()
        if attempt is not None:
            times.append(attempt[0])
        return min(times) if times else None

    def agenda_due(self) -> datetime | None:
        """When the billing clock should next look at this subscription: the next thing due,
        or a refund still waiting for its gateway's answer."""
        times = [t for t in (self.next_due(),) if t is not None]
        times += [r["requested_at"] for r in self.pending_refunds.values()]
        return min(times) if times else None

    def next_step(self, instant: datetime, *, recorded_at: datetime) -> ChargeIntent | None:
        """Perform, in order, what is due up to ``instant`` until a charge attempt is due;
        return that attempt (for the caller to take to the gateway and then record with
        :meth:`record_charge`), or None when nothing more is due by ``instant``."""
        while (due := self.next_due()) is not None and due <= instant:
            attempt = self._next_attempt()
            if attempt is not None and attempt[0] <= due:
                return self._charge_intent(attempt[1])
            self._perform_due(due, recorded_at)
        return None

    def advance_to(self, instant: datetime, *, recorded_at: datetime, pay: Payer | None = None) -> None:
        """Perform everything due up to and including ``instant``, taking each charge due
        to ``pay``; without ``pay``, a charge falling due is :class:`ChargesDue`."""
        while (intent := self.next_step(instant, recorded_at=recorded_at)) is not None:
            if pay is None:
                raise ChargesDue(f"a charge on invoice {intent.invoice_id} is due")
            self.record_charge(intent, pay(intent), recorded_at=recorded_at)

    def _charge_intent(self, invoice_id: str) -> ChargeIntent:
        invoice = self.open_invoices[invoice_id]
        attempt = invoice["attempts"] + 1
        return ChargeIntent(
            invoice_id=invoice_id,
            charge_id=str(uuid5(UUID(invoice_id), f"attempt:{attempt}")),
            amount=invoice["amount_due"],
            currency=invoice["currency"],
            attempt=attempt,
            effective_at=invoice["next_attempt_at"],
        )

    def record_charge(self, intent: ChargeIntent, outcome: ChargeOutcome, *, recorded_at: datetime) -> None:
        """Record the gateway's answer to a charge attempt, and what follows from it:
        recovery, past due, the next dunning retry, or involuntary cancellation after the
        last retry."""
        invoice = self.open_invoices.get(intent.invoice_id)
        if invoice is None or invoice["attempts"] + 1 != intent.attempt:
            raise ValueError("the charge attempt is not the one due on this subscription")
        at = intent.effective_at
        if outcome.succeeded:
            self._record(
                self.ChargeSucceeded, at, recorded_at,
                charge_id=intent.charge_id, invoice_id=intent.invoice_id, amount=intent.amount,
                currency=intent.currency, gateway=outcome.gateway, gateway_ref=outcome.gateway_ref,
                attempt=intent.attempt,
            )
            if self.status == PAST_DUE and not self._in_dunning():
                self._record(self.SubscriptionRecovered, at, recorded_at, invoice_id=intent.invoice_id)
            return
        first_failure = invoice["first_failure_at"] or at
        final = intent.attempt > len(RETRY_DAYS)
        next_attempt = None if final else first_failure + timedelta(days=RETRY_DAYS[intent.attempt - 1])
        self._record(
            self.ChargeFailed, at, recorded_at,
            charge_id=intent.charge_id, invoice_id=intent.invoice_id, amount=intent.amount,
            currency=intent.currency, gateway=outcome.gateway,
            decline_code=outcome.decline_code or "declined", attempt=intent.attempt,
            next_attempt_at=next_attempt,
        )
        if final:
            self._record(self.SubscriptionCanceled, at, recorded_at, reason=INVOLUNTARY, comment=None)
        elif self.status == ACTIVE:
            self._record(self.SubscriptionPastDue, at, recorded_at, invoice_id=intent.invoice_id)

    def _in_dunning(self) -> bool:
        return any(invoice["first_failure_at"] is not None for invoice in self.open_invoices.values())

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
            self._invoice_period("trial_end", due, recorded_at)
            return
        assert anchor is not None  # active or past_due always has an anchor
        self._record(
            self.SubscriptionRenewed, due, recorded_at,
            billing_anchor=anchor,
            period_number=n,
            current_period_start=period_boundary(anchor, self.interval, n),
            current_period_end=period_boundary(anchor, self.interval, n + 1),
        )
        self._invoice_period("renewal", due, recorded_at)

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

    # -- invoicing -----------------------------------------------------------------------

    def discount_at(self, instant: datetime, *, recurring: bool) -> Discount | None:
        """The coupon's discount on an invoice issued at ``instant``, if one is in force:
        ``once`` on the first recurring invoice after it was applied, ``repeating`` until
        its ``ends_at``, ``forever`` always."""
        coupon = self.coupon
        if coupon is None:
            return None
        duration = coupon["duration"]
        if duration == "once" and (coupon["used"] or not recurring):
            return None
        if duration == "repeating" and coupon["ends_at"] is not None and instant >= coupon["ends_at"]:
            return None
        return Discount(coupon["coupon_id"], coupon["percent_off"], coupon["amount_off"])

    def _description(self) -> str:
        return f"{self.plan_id} v{self.plan_version} ({self.interval.value})"

    def _invoice_period(self, reason: str, at: datetime, recorded_at: datetime) -> None:
        lines = recurring_lines(
            description=self._description(), unit_amount=self.amount, quantity=self.quantity,
            period=self.current_period, discount=self.discount_at(at, recurring=True),
        )
        self._issue_invoice(reason, lines, at, recorded_at)

    def _issue_invoice(self, reason: str, lines: list[Line], at: datetime, recorded_at: datetime) -> str:
        # Deterministic: two processes deciding the same invoice give it the same id, so
        # the gateway's idempotency key (derived from it) dedupes their charges.
        invoice_id = str(uuid5(self.id, f"invoice:{self.version + 1}"))
        invoice_total = total(lines)
        settlement = settle(invoice_total, self.credit_balance)
        if reason == MANUAL:
            settlement = settle(invoice_total, 0)
        self._record(
            self.InvoiceIssued, at, recorded_at,
            invoice_id=invoice_id, reason=reason, total=invoice_total, currency=self.currency,
            lines=[line.as_dict() for line in lines],
            credit_applied=settlement.credit_applied, credit_added=settlement.credit_added,
            amount_due=settlement.amount_due,
        )
        return invoice_id

    def _invoice_change(
        self, proration: Proration, old_description: str, at: datetime, recorded_at: datetime,
        *, reanchored_from: Period | None,
    ) -> None:
        """The invoice of a change ``now``: proration lines, or, when the interval changed
        and the calendar was re-anchored, the old price's credit and the new period whole."""
        if reanchored_from is not None:
            lines: list[Line] = []
            if proration.credit:
                lines.append(Line("proration_credit", proration.credit, at,
                                  reanchored_from.end, f"unused time on {old_description}"))
            lines += recurring_lines(
                description=self._description(), unit_amount=self.amount,
                quantity=self.quantity, period=self.current_period,
                discount=self.discount_at(at, recurring=True),
            )
        else:
            lines = proration_lines(
                proration=proration, old_description=old_description,
                new_description=self._description(), at=at, period_end=self.current_period_end,
            )
        if lines:
            self._issue_invoice("proration", lines, at, recorded_at)

    # -- commands ------------------------------------------------------------------------

    def _begin(self, effective_at: datetime, recorded_at: datetime) -> None:
        """Every command: order check, then catch up with what is due (the application
        has already taken the charges due to the gateway)."""
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
        old_description = self._description()
        anchor, number, period = self.billing_anchor, self.period_number, self.current_period
        old_period = period
        if self.status in BILLED_STATUSES:
            # Prorate the prices as billed: after the coupon in force (a `once` coupon
            # discounts one recurring invoice, never a proration).
            discount = self.discount_at(effective_at, recurring=False)
            old_total = _discounted(self.amount * self.quantity, discount)
            new_total = _discounted(terms.amount * new_quantity, discount)
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
        if proration is not None:
            reanchored = old_period if period != old_period else None
            self._invoice_change(proration, old_description, effective_at, recorded_at,
                                 reanchored_from=reanchored)
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
            status=PAST_DUE if self._in_dunning() else ACTIVE,
            billing_anchor=effective_at,
            current_period_start=effective_at,
            current_period_end=period_boundary(effective_at, self.interval, 1),
        )
        self._invoice_period("resume", effective_at, recorded_at)

    def apply_coupon(
        self, coupon: CouponTerms, *, effective_at: datetime, recorded_at: datetime
    ) -> None:
        """Apply (or replace) the subscription's coupon; it stays across plan changes."""
        if coupon.currency is not None and coupon.currency != self.currency:
            raise CurrencyMismatch(
                f"coupon {coupon.coupon_id} is in {coupon.currency}, the subscription in {self.currency}"
            )
        self._begin(effective_at, recorded_at)
        self._record_coupon(coupon, effective_at, recorded_at)

    def _record_coupon(self, coupon: CouponTerms, at: datetime, recorded_at: datetime) -> None:
        self._record(
            self.CouponApplied, at, recorded_at,
            coupon_id=coupon.coupon_id,
            percent_off=coupon.percent_off,
            amount_off=coupon.amount_off,
            currency=coupon.currency,
            duration=coupon.duration,
            duration_in_months=coupon.duration_in_months,
            ends_at=coupon.ends_at(at),
        )

    def record_manual_charge(
        self, *, amount: int, currency: str, gateway: str, gateway_ref: str,
        effective_at: datetime, recorded_at: datetime,
    ) -> str:
        """A payment taken outside the billing clock: a ``manual`` invoice line, paid by a
        succeeded charge. Returns the charge id."""
        check_amount(amount)
        if amount == 0:
            raise InvalidInput("a manual charge needs an amount above 0")
        if currency != self.currency:
            raise CurrencyMismatch(f"the subscription is billed in {self.currency}, not {currency}")
        if not isinstance(gateway_ref, str) or not gateway_ref.strip() or len(gateway_ref) > 255:
            raise InvalidInput("gateway_ref must be a non-empty string of at most 255 characters")
        self.check_effective_at(effective_at)
        self.advance_to(effective_at, recorded_at=recorded_at)
        line = Line(MANUAL, amount, effective_at, effective_at, f"payment via {gateway} {gateway_ref}")
        invoice_id = self._issue_invoice(MANUAL, [line], effective_at, recorded_at)
        charge_id = str(uuid5(UUID(invoice_id), "manual"))
        self._record(
            self.ChargeSucceeded, effective_at, recorded_at,
            charge_id=charge_id, invoice_id=invoice_id, amount=amount, currency=currency,
            gateway=gateway, gateway_ref=gateway_ref, attempt=1,
        )
        return charge_id

    def refundable(self, charge_id: str) -> int:
        """What is left to refund of a succeeded charge (refunds requested count)."""
        charge = self.charges.get(charge_id)
        if charge is None:
            raise ChargeNotFound(f"no succeeded charge {charge_id}")
        pending = sum(r["amount"] for r in self.pending_refunds.values() if r["charge_id"] == charge_id)
        return int(charge["amount"] - charge["refunded"] - pending)

    def request_refund(
        self, charge_id: str, amount: int, *, reason: str | None, effective_at: datetime,
        recorded_at: datetime,
    ) -> RefundIntent:
        """Decide a refund of ``amount`` of a succeeded charge and reserve it; the caller
        saves this before asking the gateway, then records the outcome."""
        check_amount(amount)
        check_comment(reason)
        if amount == 0:
            raise InvalidInput("a refund needs an amount above 0")
        left = self.refundable(charge_id)
        if amount > left:
            raise RefundExceedsCharge(
                f"charge {charge_id} has {left} {self.currency} minor units left to refund, not {amount}"
            )
        self.check_effective_at(effective_at)
        refund_id = str(uuid5(UUID(charge_id), f"refund:{self.version + 1}"))
        self._record(
            self.RefundRequested, effective_at, recorded_at,
            refund_id=refund_id, charge_id=charge_id, amount=amount, currency=self.currency,
            reason=reason, gateway=self.charges[charge_id]["gateway"],
        )
        return self.refund_intent(refund_id)

    def refund_intent(self, refund_id: str) -> RefundIntent:
        """The gateway request of a requested refund (the same on every retry)."""
        pending = self.pending_refunds[refund_id]
        charge = self.charges[pending["charge_id"]]
        return RefundIntent(
            refund_id=refund_id, charge_id=pending["charge_id"], amount=pending["amount"],
            currency=pending["currency"], gateway=pending["gateway"],
            charge_gateway_ref=charge["gateway_ref"], reason=pending["reason"],
            effective_at=pending["requested_at"],
        )

    def refund_status(self, refund_id: str) -> dict[str, Any]:
        """{status: pending | succeeded | failed, failure_code, gateway_ref, amount}."""
        if refund_id in self.pending_refunds:
            pending = self.pending_refunds[refund_id]
            return {"charge_id": pending["charge_id"], "amount": pending["amount"],
                    "status": "pending", "failure_code": None, "gateway_ref": None}
        return dict(self.refunds[refund_id])

    def pending_refund_intents(self) -> list[RefundIntent]:
        return [self.refund_intent(refund_id) for refund_id in sorted(self.pending_refunds)]

    def record_refund_outcome(
        self, intent: RefundIntent, *, succeeded: bool, gateway_ref: str | None,
        failure_code: str | None, recorded_at: datetime,
    ) -> None:
        """Record what the gateway did with a requested refund (refunds move cash and
        revenue, never MRR)."""
        if intent.refund_id not in self.pending_refunds:
            raise ValueError("the refund is not pending on this subscription")
        if succeeded:
            self._record(
                self.RefundIssued, intent.effective_at, recorded_at,
                refund_id=intent.refund_id, charge_id=intent.charge_id, amount=intent.amount,
                currency=intent.currency, reason=intent.reason, gateway=intent.gateway or "",
                gateway_ref=gateway_ref,
            )
        else:
            self._record(
                self.RefundFailed, intent.effective_at, recorded_at,
                refund_id=intent.refund_id, charge_id=intent.charge_id, amount=intent.amount,
                currency=intent.currency, failure_code=failure_code or "refund_failed",
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


def _discounted(amount: int, discount: Discount | None) -> int:
    return amount if discount is None else amount - discount_amount(discount, amount)


def _set_terms(aggregate: Any, event: Any) -> None:
    aggregate.plan_id = event.plan_id
    aggregate.plan_version = event.plan_version
    aggregate.tier = event.tier
    aggregate.amount = event.amount
    aggregate.currency = event.currency
    aggregate.interval = Interval(event.interval)
