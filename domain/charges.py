"""Charging a subscription's invoices: the gateway's answer to each attempt, the dunning
that pursues an unpaid invoice, a retry asked for by hand, and a payment taken outside the
billing clock.

The application takes a :class:`ChargeIntent` (from
:meth:`~subledger.domain.billing_schedule.BillingSchedule.next_step`) to the gateway and
records its :class:`ChargeOutcome` with :meth:`Charging.record_charge`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from .errors import InvoiceNotOpen
from .invoicing import PAID
from .lifecycle import ACTIVE, INVOLUNTARY, PAST_DUE
from .subscription_events import SubscriptionCanceled, SubscriptionEvent

if TYPE_CHECKING:
    from .subscription import Subscription

NO_PAYMENT_METHOD = "no_payment_method"
CANCEL = "cancel"
UNPAID = "unpaid"
CANCEL_WRITE_OFF = "cancel_write_off"
FINAL_ACTIONS = (CANCEL, UNPAID, CANCEL_WRITE_OFF)
MAX_RETRY_DAY = 365
"""A year: a later retry is no dunning, and an unbounded one would overflow the calendar."""


@dataclass(frozen=True)
class Dunning:
    """How an invoice whose charge failed is pursued: retried this many days after its first
    failed attempt, then, when the last retry fails, the subscription canceled (``cancel``,
    involuntary churn: the invoice stays owed), the invoice written off while the
    subscription goes on (``unpaid``), or both (``cancel_write_off``: the debt is taken as a
    loss rather than pursued by other means)."""

    retry_days: tuple[int, ...] = (3, 5, 7)
    final: str = CANCEL

    def __post_init__(self) -> None:
        days = list(self.retry_days)
        if self.final not in FINAL_ACTIONS or not days or days != sorted(set(days)) \
                or days[0] < 1 or days[-1] > MAX_RETRY_DAY:
            raise ValueError(f"retry days are increasing whole days from 1 to {MAX_RETRY_DAY},"
                             f" and the final action is one of {', '.join(FINAL_ACTIONS)}")

    def __str__(self) -> str:
        """As ``SUBLEDGER_DUNNING`` writes it: ``3,5,7:cancel``."""
        return f"{','.join(map(str, self.retry_days))}:{self.final}"

    def retry_at(self, first_failure: datetime, attempt: int) -> datetime | None:
        """When the retry after failed scheduled attempt ``attempt`` is due, or None when
        ``attempt`` was the last one."""
        if attempt > len(self.retry_days):
            return None
        return first_failure + timedelta(days=self.retry_days[attempt - 1])


DUNNING = Dunning()


@dataclass(frozen=True)
class ChargeIntent:
    """An attempt at charging an open invoice, due at ``effective_at``."""

    invoice_id: str
    charge_id: str
    amount: int
    currency: str
    attempt: int
    effective_at: datetime
    manual: bool = False
    """A retry asked for by hand: it leaves the dunning schedule as it was."""


@dataclass(frozen=True)
class ChargeOutcome:
    """What the gateway answered to a :class:`ChargeIntent`."""

    succeeded: bool
    gateway: str | None
    """None when no gateway was asked (no payment method)."""
    gateway_ref: str | None
    decline_code: str | None = None


Payer = Callable[[ChargeIntent], ChargeOutcome]


def assume_paid(intent: ChargeIntent) -> ChargeOutcome:
    """The payer of a probe or a preview: every charge due succeeds, and no gateway is asked
    (so the probe decides on the terms a paying subscriber would meet)."""
    return ChargeOutcome(True, None, None)


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
            "attempt": self.attempt,
        }
        if self.invoice_id is not None:
            aggregate.open_invoices.pop(self.invoice_id, None)
            invoice = aggregate.invoices.get(self.invoice_id)
            if invoice is not None:
                invoice.update(status=PAID, amount_due=0, charge_id=self.charge_id)


class ChargeFailed(SubscriptionEvent):
    """The charge of an invoice failed (declined, or no payment method). Dunning retries it at
    ``next_attempt_at``; null after the last scheduled attempt, when the dunning policy's final
    action follows (the subscription canceled, or the invoice written off)."""

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
        if invoice.pop("retry_at", None) is not None:
            invoice["manual_attempts"] = invoice.get("manual_attempts", 0) + 1


class ChargeRetryScheduled(SubscriptionEvent):
    """An attempt at an unpaid invoice asked for by hand, due at once; the dunning
    schedule goes on as it was if it fails."""

    invoice_id: str
    at: datetime

    def evolve(self, aggregate: Any) -> None:
        aggregate.open_invoices[self.invoice_id]["retry_at"] = self.at


class SubscriptionPastDue(SubscriptionEvent):
    """A charge of an active subscription failed and dunning began: it is past due until no
    invoice is left in dunning."""

    invoice_id: str


class SubscriptionRecovered(SubscriptionEvent):
    """A past-due subscription is active again: a charge succeeded, or the invoice in dunning
    was voided, written off or credited, and no invoice is left in dunning."""

    invoice_id: str


def attempt_charge_id(invoice_id: str, attempt: int) -> str:
    """The id of attempt ``attempt`` at charging an invoice: derived, so two processes
    deciding the same attempt send the gateway the same idempotency key."""
    return str(uuid5(UUID(invoice_id), f"attempt:{attempt}"))


def attempt_due(invoice: dict[str, Any]) -> datetime | None:
    """When the next attempt at an unpaid invoice is due: a retry asked for by hand, or the
    schedule's (None: no more scheduled attempts)."""
    times = [t for t in (invoice.get("retry_at"), invoice["next_attempt_at"]) if t is not None]
    return min(times) if times else None


def in_dunning(open_invoices: dict[str, dict[str, Any]]) -> bool:
    """Whether an open invoice has had a failed charge."""
    return any(invoice["first_failure_at"] is not None for invoice in open_invoices.values())


class Charging:
    """A subscription's side of charging its invoices."""

    def record_charge(self: Subscription, intent: ChargeIntent, outcome: ChargeOutcome, *,
                      recorded_at: datetime, dunning: Dunning = DUNNING) -> None:
        """Record the gateway's answer to a charge attempt, and what follows from it:
        recovery, past due, the next dunning retry, or the dunning's final action after the
        last retry (involuntary cancellation, or the invoice written off)."""
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
        if intent.manual:
            next_attempt = invoice["next_attempt_at"]
        else:
            scheduled = intent.attempt - invoice.get("manual_attempts", 0)
            next_attempt = dunning.retry_at(invoice["first_failure_at"] or at, scheduled)
            if next_attempt is not None and next_attempt < at:
                # The policy changed in the middle of this dunning: a retry whose day has
                # passed is due at once, never before the attempt that failed.
                next_attempt = at
        self._record(
            ChargeFailed, at, recorded_at,
            charge_id=intent.charge_id, invoice_id=intent.invoice_id, amount=intent.amount,
            currency=intent.currency, gateway=outcome.gateway,
            decline_code=outcome.decline_code or "declined", attempt=intent.attempt,
            next_attempt_at=next_attempt,
        )
        if next_attempt is None and not intent.manual:
            self._end_of_dunning(intent.invoice_id, at, recorded_at, dunning)
        elif self.status == ACTIVE:
            self._record(SubscriptionPastDue, at, recorded_at, invoice_id=intent.invoice_id)

    def _end_of_dunning(self: Subscription, invoice_id: str, at: datetime, recorded_at: datetime,
                        dunning: Dunning) -> None:
        if dunning.final in (UNPAID, CANCEL_WRITE_OFF):
            invoice = self.invoices[invoice_id]
            self._record(self.InvoiceMarkedUncollectible, at, recorded_at, invoice_id=invoice_id,
                         amount_due=invoice["amount_due"], currency=invoice["currency"],
                         reason="the last retry failed")
        if dunning.final == UNPAID:
            self._end_dunning(invoice_id, at, recorded_at)
        else:  # never recovered first: the subscription goes from past_due to canceled
            self._record(SubscriptionCanceled, at, recorded_at, reason=INVOLUNTARY, comment=None)

    def retry_charge(self: Subscription, charge_id: str, *, effective_at: datetime,
                     recorded_at: datetime) -> str:
        """Ask for another attempt at the unpaid invoice a failed charge was for, at once;
        returns the invoice's id."""
        self._begin(effective_at, recorded_at)
        for invoice_id, invoice in self.open_invoices.items():
            failed = {attempt_charge_id(invoice_id, n) for n in range(1, invoice["attempts"] + 1)}
            if charge_id in failed:
                self._record(ChargeRetryScheduled, effective_at, recorded_at,
                             invoice_id=invoice_id, at=effective_at)
                return invoice_id
        raise InvoiceNotOpen(f"charge {charge_id} is not a failed attempt at an unpaid invoice")
