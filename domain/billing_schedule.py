"""The billing schedule of a subscription: what falls due when, charge attempts and their
outcomes, renewals and dunning.

A subscription never performs I/O. The application asks :meth:`BillingSchedule.next_step`
for the next charge attempt due, saves it, takes it to the gateway, and records the answer
with :meth:`BillingSchedule.record_charge`; everything else due (trial ends, renewals,
scheduled changes and cancellations) the subscription performs itself, stamped with its due
instant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from .errors import CurrencyMismatch, InvalidInput
from .invoicing import MANUAL, Line
from .lifecycle import ACTIVE, BILLED_STATUSES, CANCELED, INVOLUNTARY, PAST_DUE, TRIALING, VOLUNTARY
from .money import check_amount
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

RETRY_DAYS = (3, 5, 7)
"""Dunning: retries this many days after the first failed attempt at an invoice."""
NO_PAYMENT_METHOD = "no_payment_method"


class ChargesDue(RuntimeError):
    """A programming error: a command ran before the charges due were attempted.

    The application catches a subscription up (:meth:`BillingSchedule.next_step` and the
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


class SubscriptionRenewed(SubscriptionEvent):
    """A new paid period started at the end of the previous one; its invoice follows."""

    billing_anchor: datetime
    period_number: int
    current_period_start: datetime
    current_period_end: datetime

    def evolve(self, aggregate: Any) -> None:
        set_period(aggregate, self)
        aggregate.period_number = self.period_number


class ChargeSucceeded(SubscriptionEvent):
    """A payment was taken: the charge of an invoice succeeded at the gateway, or a payment
    taken outside the billing clock was recorded with its manual invoice."""

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


class ChargeFailed(SubscriptionEvent):
    """The charge of an invoice failed (declined, or no payment method). Dunning retries it at
    ``next_attempt_at``; null after the last attempt, which cancels the subscription."""

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


class SubscriptionPastDue(SubscriptionEvent):
    """A charge of an active subscription failed and dunning began: it is past due until no
    invoice is left in dunning."""

    invoice_id: str


class SubscriptionRecovered(SubscriptionEvent):
    """A past-due subscription is active again: a charge succeeded and no invoice is left in
    dunning."""

    invoice_id: str


def retry_at(first_failure: datetime, attempt: int) -> datetime | None:
    """When attempt ``attempt`` + 1 is due after attempt ``attempt`` failed, or None when
    ``attempt`` was the last one."""
    if attempt > len(RETRY_DAYS):
        return None
    return first_failure + timedelta(days=RETRY_DAYS[attempt - 1])


def in_dunning(open_invoices: dict[str, dict[str, Any]]) -> bool:
    """Whether an open invoice has had a failed charge."""
    return any(invoice["first_failure_at"] is not None for invoice in open_invoices.values())


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
                   pay: Payer | None = None) -> None:
        """Perform everything due up to and including ``instant``, taking each charge due
        to ``pay``; without ``pay``, a charge falling due is :class:`ChargesDue`."""
        while (intent := self.next_step(instant, recorded_at=recorded_at)) is not None:
            if pay is None:
                raise ChargesDue(f"a charge on invoice {intent.invoice_id} is due")
            self.record_charge(intent, pay(intent), recorded_at=recorded_at)

    def record_charge(self: Subscription, intent: ChargeIntent, outcome: ChargeOutcome, *,
                      recorded_at: datetime) -> None:
        """Record the gateway's answer to a charge attempt, and what follows from it:
        recovery, past due, the next dunning retry, or involuntary cancellation after the
        last retry."""
        invoice = self.open_invoices.get(intent.invoice_id)
        if invoice is None or invoice["attempts"] + 1 != intent.attempt:
            raise ValueError("the charge attempt is not the one due on this subscription")
        at = intent.effective_at
        if outcome.succeeded:
            self._record(
                ChargeSucceeded, at, recorded_at,
                charge_id=intent.charge_id, invoice_id=intent.invoice_id, amount=intent.amount,
                currency=intent.currency, gateway=outcome.gateway, gateway_ref=outcome.gateway_ref,
                attempt=intent.attempt,
            )
            if self.status == PAST_DUE and not in_dunning(self.open_invoices):
                self._record(SubscriptionRecovered, at, recorded_at, invoice_id=intent.invoice_id)
            return
        next_attempt = retry_at(invoice["first_failure_at"] or at, intent.attempt)
        self._record(
            ChargeFailed, at, recorded_at,
            charge_id=intent.charge_id, invoice_id=intent.invoice_id, amount=intent.amount,
            currency=intent.currency, gateway=outcome.gateway,
            decline_code=outcome.decline_code or "declined", attempt=intent.attempt,
            next_attempt_at=next_attempt,
        )
        if next_attempt is None:
            self._record(SubscriptionCanceled, at, recorded_at, reason=INVOLUNTARY, comment=None)
        elif self.status == ACTIVE:
            self._record(SubscriptionPastDue, at, recorded_at, invoice_id=intent.invoice_id)

    def record_manual_charge(
        self: Subscription, *, amount: int, currency: str, gateway: str, gateway_ref: str,
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
            ChargeSucceeded, effective_at, recorded_at,
            charge_id=charge_id, invoice_id=invoice_id, amount=amount, currency=currency,
            gateway=gateway, gateway_ref=gateway_ref, attempt=1,
        )
        return charge_id

    # -- what is due ------------------------------------------------------------------------

    def _next_attempt(self: Subscription) -> tuple[datetime, str] | None:
        """The earliest charge attempt due on an open invoice: (when, invoice id)."""
        if self.status == CANCELED:
            return None
        due = [
            (invoice["next_attempt_at"], invoice_id)
            for invoice_id, invoice in self.open_invoices.items()
            if invoice["next_attempt_at"] is not None
        ]
        return min(due) if due else None

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
        return ChargeIntent(
            invoice_id=invoice_id,
            charge_id=str(uuid5(UUID(invoice_id), f"attempt:{attempt}")),
            amount=invoice["amount_due"],
            currency=invoice["currency"],
            attempt=attempt,
            effective_at=invoice["next_attempt_at"],
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
