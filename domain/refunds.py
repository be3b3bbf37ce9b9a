"""Refunds of a subscription's charges: decided and reserved first, then sent to the
charge's gateway, then their outcome recorded.

A refund is against one succeeded charge, at most its amount minus what was already
refunded or is still waiting for its gateway, and never what a credit note of its invoice
already gave back (see :meth:`~subledger.domain.corrections.Corrections.unreturned`). Refunds
move cash and revenue, never MRR.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from .errors import ChargeNotFound, InvalidInput, RefundExceedsCharge
from .lifecycle import check_comment
from .money import check_amount, check_settleable
from .subscription_events import SubscriptionEvent

if TYPE_CHECKING:
    from .subscription import Subscription


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


class RefundRequested(SubscriptionEvent):
    """A refund of a succeeded charge was decided and its amount reserved, before the gateway
    was asked; ``RefundIssued`` or ``RefundFailed`` follows."""

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


class RefundFailed(SubscriptionEvent):
    """The gateway refused a requested refund: nothing was refunded, and the amount reserved
    for it can be refunded again."""

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


class RefundIssued(SubscriptionEvent):
    """The gateway refunded part or all of a succeeded charge. A refund moves cash and revenue,
    never MRR or the subscription's status."""

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


class Refunds:
    """A subscription's side of refunding its charges."""

    def refundable(self: Subscription, charge_id: str) -> int:
        """What the ledger may still refund of a succeeded charge: what is left of the charge
        (refunds requested count), and no more than its invoice's subscriber does not have
        back already (credit notes kept as credit balance count)."""
        left = self.charge_left(charge_id)
        invoice_id = self.charges[charge_id]["invoice_id"]
        if invoice_id is None or invoice_id not in self.invoices:
            return left
        return max(0, min(left, self.unreturned(invoice_id)))

    def charge_left(self: Subscription, charge_id: str) -> int:
        """What is left of a succeeded charge at its provider: its amount less what was
        refunded, lost in a dispute, denied by the provider afterwards (a reversal), or
        requested and not answered yet."""
        charge = self.charges.get(charge_id)
        if charge is None:
            raise ChargeNotFound(f"no succeeded charge {charge_id}")
        pending = sum(r["amount"] for r in self.pending_refunds.values() if r["charge_id"] == charge_id)
        return int(charge["amount"] - charge["refunded"] - charge.get("reversed", 0) - pending)

    def request_refund(
        self: Subscription, charge_id: str, amount: int, *, reason: str | None,
        effective_at: datetime, recorded_at: datetime, refund_id: str | None = None,
    ) -> RefundIntent:
        """Decide a refund of ``amount`` of a succeeded charge and reserve it; the caller
        saves this before asking the gateway, then records the outcome. ``refund_id`` is
        given when what decided the refund (a credit note) named it first."""
        check_amount(amount)
        check_comment(reason)
        if amount == 0:
            raise InvalidInput("a refund needs an amount above 0")
        check_settleable(amount, self.currency)
        left = self.refundable(charge_id)
        if amount > left:
            raise RefundExceedsCharge(
                f"charge {charge_id} has {left} {self.currency} minor units left to refund (what"
                f" its invoice's credit notes gave back counts), not {amount}")
        self.check_effective_at(effective_at)
        refund_id = refund_id or str(uuid5(UUID(charge_id), f"refund:{self.version + 1}"))
        self._record(
            RefundRequested, effective_at, recorded_at,
            refund_id=refund_id, charge_id=charge_id, amount=amount, currency=self.currency,
            reason=reason, gateway=self.charges[charge_id]["gateway"],
        )
        return self.refund_intent(refund_id)

    def refund_intent(self: Subscription, refund_id: str) -> RefundIntent:
        """The gateway request of a requested refund (the same on every retry)."""
        pending = self.pending_refunds[refund_id]
        charge = self.charges[pending["charge_id"]]
        return RefundIntent(
            refund_id=refund_id, charge_id=pending["charge_id"], amount=pending["amount"],
            currency=pending["currency"], gateway=pending["gateway"],
            charge_gateway_ref=charge["gateway_ref"], reason=pending["reason"],
            effective_at=pending["requested_at"],
        )

    def refund_status(self: Subscription, refund_id: str) -> dict[str, Any]:
        """{status: pending | succeeded | failed, failure_code, gateway_ref, amount}."""
        if refund_id in self.pending_refunds:
            pending = self.pending_refunds[refund_id]
            return {"charge_id": pending["charge_id"], "amount": pending["amount"],
                    "status": "pending", "failure_code": None, "gateway_ref": None}
        return dict(self.refunds[refund_id])

    def pending_refund_intents(self: Subscription) -> list[RefundIntent]:
        return [self.refund_intent(refund_id) for refund_id in sorted(self.pending_refunds)]

    def record_refund_outcome(
        self: Subscription, intent: RefundIntent, *, succeeded: bool, gateway_ref: str | None,
        failure_code: str | None, recorded_at: datetime,
    ) -> None:
        """Record what the gateway did with a requested refund."""
        if intent.refund_id not in self.pending_refunds:
            raise ValueError("the refund is not pending on this subscription")
        fields = {"refund_id": intent.refund_id, "charge_id": intent.charge_id,
                  "amount": intent.amount, "currency": intent.currency}
        if succeeded:
            self._record(RefundIssued, intent.effective_at, recorded_at, **fields,
                         reason=intent.reason, gateway=intent.gateway or "",
                         gateway_ref=gateway_ref)
        else:
            self._record(RefundFailed, intent.effective_at, recorded_at, **fields,
                         failure_code=failure_code or "refund_failed")
