"""A refund that failed at the provider after it was recorded as issued.

Some refunds are not final when the provider first answers: a card refund can stay
``pending`` for days, and a refund reported ``succeeded`` can still fail later (the card was
closed, the bank refused it). The provider then returns the money to the seller's balance.
The ledger never edits the ``RefundIssued``: it records a ``RefundReversed`` of the same
refund, the exact opposite of it at its own ``effective_at``. The charge's ``refunded`` goes
down and its ``refundable`` up by the refund's amount; cash and revenue take it back in the
bucket of the reversal (a correction never rewrites a closed period); MRR never moves.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from .errors import InvalidInput
from .subscription_events import SubscriptionEvent
from .text import check_reference

if TYPE_CHECKING:
    from .subscription import Subscription

REVERSED = "reversed"
"""The ``status`` a reversed refund keeps in the aggregate's ``refunds``."""


class RefundReversed(SubscriptionEvent):
    """A refund recorded as issued failed at the provider (``failure_code``, the provider's
    reason): ``amount`` is back with the seller. The opposite of the ``RefundIssued`` of
    ``refund_id`` at this event's ``effective_at``: cash and revenue, never MRR.
    ``reversal_id`` is its own id (derived from the refund's: a refund is reversed once), what
    the revenue figures name it by beside the refund."""

    reversal_id: str
    refund_id: str
    charge_id: str
    amount: int
    currency: str
    gateway: str
    gateway_ref: str
    failure_code: str

    def evolve(self, aggregate: Any) -> None:
        refund = aggregate.refunds.get(self.refund_id)
        if refund is not None:
            refund.update(status=REVERSED, failure_code=self.failure_code)
        charge = aggregate.charges.get(self.charge_id)
        if charge is not None:
            charge["refunded"] -= self.amount


def reversal_id(refund_id: str) -> str:
    """The id of a refund's reversal: derived, so a replayed notice names it again."""
    return str(uuid5(_NAMESPACE, f"reversal:{refund_id}"))


_NAMESPACE = UUID("7d0c5b8e-3f1a-5c2d-8e4b-9a6f1d2c3b4e")


class RefundReversals:
    """A subscription's side of its refunds failing at the provider."""

    def issued_refund(self: Subscription, charge_id: str, gateway_ref: str) -> str | None:
        """The ledger's id of the refund of ``charge_id`` the provider knows as
        ``gateway_ref`` (asked for by the ledger or made in the provider's dashboard, both
        record the provider's id), whether or not it was reversed since; None when none."""
        for refund_id, refund in self.refunds.items():
            if refund["charge_id"] == charge_id and refund.get("gateway_ref") == gateway_ref \
                    and refund["status"] in ("succeeded", REVERSED):
                return refund_id
        return None

    def reverse_refund(
        self: Subscription, refund_id: str, *, failure_code: str, effective_at: datetime,
        recorded_at: datetime, currency: str | None = None,
    ) -> bool:
        """Record that an issued refund failed at its provider; False (nothing recorded)
        when it is already recorded as reversed. ``currency``: the provider's, refused when
        it is not the charge's (None: it named none)."""
        refund = self.refunds.get(refund_id)
        if refund is None or refund["status"] not in ("succeeded", REVERSED):
            raise InvalidInput(f"no issued refund {refund_id} on subscription {self.id}")
        check_reference(failure_code, "failure_code")
        self._in_charge_currency(refund["charge_id"], currency)
        if refund["status"] == REVERSED:
            return False
        charge = self.charges[refund["charge_id"]]
        # Like every command, what was due before it first (a canceled subscription has
        # nothing due, and its refunds can still fail).
        self.check_effective_at(effective_at)
        self.advance_to(effective_at, recorded_at=recorded_at)
        self._record(RefundReversed, effective_at, recorded_at,
                     reversal_id=reversal_id(refund_id), refund_id=refund_id,
                     charge_id=refund["charge_id"], amount=refund["amount"],
                     currency=self.currency, gateway=charge["gateway"],
                     gateway_ref=refund["gateway_ref"], failure_code=failure_code)
        return True
