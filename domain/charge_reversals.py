"""A charge recorded as succeeded that the provider later denied: the money never arrived.

PayPal may answer a capture ``PENDING`` (an eCheck clearing, a payment under review) and
settle it later; the ledger counts such a capture as collected, as it counts a
``COMPLETED`` one. When the provider then denies it, the ledger never edits the
``ChargeSucceeded``: it records a ``ChargeReversed`` of the same charge, the exact opposite
of its success at the reversal's own ``effective_at``. ``collected`` goes down, the invoice
is unpaid again and what its lines were still to serve is no longer recognized, and the
invoice goes into dunning as if a charge of it had just failed; MRR follows the
subscription's status as it does for any failed charge.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from .charges import DUNNING, Dunning, SubscriptionPastDue, attempt_charge_id
from .invoicing import OPEN
from .lifecycle import ACTIVE, CANCELED
from .subscription_events import SubscriptionEvent
from .text import check_reference

if TYPE_CHECKING:
    from .subscription import Subscription

DENIED = "denied"
"""The ``reason`` of a capture the provider denied after it was reported pending."""


class ChargeReversed(SubscriptionEvent):
    """A charge recorded as succeeded was denied by its provider afterwards (``reason``):
    ``amount`` (what was left of the charge after its refunds) never reached the seller. The
    opposite of its ``ChargeSucceeded`` at this event's ``effective_at``: ``collected`` and
    the invoice's recognition go down, never MRR by itself. The invoice is due again
    (``amount``) and can be paid by other means, voided or written off; when the charge was
    an attempt of the billing clock, its next attempt is due at ``next_attempt_at``, as after
    a first failed charge (null: no dunning, the subscription is canceled or the payment was
    recorded by hand)."""

    reversal_id: str
    charge_id: str
    invoice_id: str | None
    amount: int
    currency: str
    gateway: str
    gateway_ref: str
    reason: str
    next_attempt_at: datetime | None

    def evolve(self, aggregate: Any) -> None:
        charge = aggregate.charges.get(self.charge_id)
        if charge is None:
            return
        charge["reversed"] = self.amount  # nothing of it is left to refund or to lose
        invoice = aggregate.invoices.get(self.invoice_id) if self.invoice_id else None
        if invoice is None:
            return
        invoice.update(status=OPEN, amount_due=self.amount, charge_id=None)
        attempts = int(charge.get("attempt", 1))
        dunned = self.next_attempt_at is not None
        # Due again either way; without a next attempt nothing charges it by itself.
        aggregate.open_invoices[self.invoice_id] = {
            "amount_due": self.amount, "currency": self.currency, "issued_at": self.effective_at,
            "attempts": attempts, "first_failure_at": self.effective_at if dunned else None,
            "next_attempt_at": self.next_attempt_at,
            # The attempts before the denied one are not the dunning's: its schedule starts
            # anew at the denial, as after a first failed attempt.
            "manual_attempts": attempts - 1,
        }


def charge_reversal_id(charge_id: str) -> str:
    """The id of a charge's reversal: derived, so a charge is reversed once."""
    return str(uuid5(_NAMESPACE, f"charge-reversal:{charge_id}"))


_NAMESPACE = UUID("3b8f2a61-9c4e-5d7a-b1e0-4f6a8c2d9e17")


class ChargeReversals:
    """A subscription's side of its charges denied at the provider."""

    def reverse_charge(
        self: Subscription, charge_id: str, *, reason: str, effective_at: datetime,
        recorded_at: datetime, currency: str | None = None, dunning: Dunning = DUNNING,
    ) -> bool:
        """Record that a succeeded charge was denied by its provider; False (nothing
        recorded) when it is already reversed or nothing of it is left (refunded in full).
        ``currency``: the provider's, refused when it is not the charge's."""
        check_reference(reason, "reason")
        self._in_charge_currency(charge_id, currency)
        charge = self.charges[charge_id]
        if "reversed" in charge:
            return False
        left = self.charge_left(charge_id)
        if left <= 0:
            return False
        # Like every command, what was due before it first (a canceled subscription has
        # nothing due, and its payments can still be denied).
        self.check_effective_at(effective_at)
        self.advance_to(effective_at, recorded_at=recorded_at)
        invoice_id = charge["invoice_id"]
        billed = invoice_id is not None and invoice_id in self.invoices \
            and charge_id == attempt_charge_id(invoice_id, int(charge.get("attempt", 1)))
        dunned = billed and self.status != CANCELED
        self._record(ChargeReversed, effective_at, recorded_at,
                     reversal_id=charge_reversal_id(charge_id), charge_id=charge_id,
                     invoice_id=invoice_id if invoice_id in self.invoices else None,
                     amount=left, currency=self.currency, gateway=charge["gateway"],
                     gateway_ref=charge["gateway_ref"] or "", reason=reason,
                     next_attempt_at=dunning.retry_at(effective_at, 1) if dunned else None)
        if dunned and self.status == ACTIVE:
            self._record(SubscriptionPastDue, effective_at, recorded_at, invoice_id=invoice_id)
        return True

