"""What a payment provider tells the ledger about a charge after it succeeded: a dispute
(chargeback) opened and closed, and a refund made in the provider's own dashboard.

These are facts the ledger learns rather than decides: the provider has already moved the
money. A lost dispute takes the disputed amount back from the charge as a refund would
(cash and revenue, never MRR); a won one changes no figure. A refund made in the
provider's dashboard is recorded as a ``RefundIssued`` of the charge, so every report counts
it like a refund the ledger asked for.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from .errors import CurrencyMismatch, InvalidInput, RefundExceedsCharge
from .lifecycle import check_comment
from .money import check_amount
from .refunds import RefundIssued
from .subscription_events import SubscriptionEvent
from .text import check_reference

if TYPE_CHECKING:
    from .subscription import Subscription

WON = "won"
LOST = "lost"
OUTCOMES = (WON, LOST)


class ChargeDisputed(SubscriptionEvent):
    """The payer disputed a succeeded charge with their bank (a chargeback): the provider
    holds ``amount`` until the dispute closes. No figure moves until then."""

    dispute_id: str
    charge_id: str
    amount: int
    currency: str
    gateway: str
    gateway_ref: str
    reason: str | None

    def evolve(self, aggregate: Any) -> None:
        disputes = _disputes(aggregate)
        disputes[self.dispute_id] = {"charge_id": self.charge_id, "amount": self.amount,
                                     "status": "open", "gateway_ref": self.gateway_ref}


class DisputeClosed(SubscriptionEvent):
    """A dispute of a charge closed: ``won`` (the money stays with the seller) or ``lost``
    (the bank gave ``amount`` back to the payer: it leaves cash and revenue as a refund of
    the charge would, never MRR)."""

    dispute_id: str
    charge_id: str
    outcome: str
    amount: int
    currency: str
    gateway: str
    gateway_ref: str

    def evolve(self, aggregate: Any) -> None:
        _disputes(aggregate)[self.dispute_id] = {
            "charge_id": self.charge_id, "amount": self.amount, "status": self.outcome,
            "gateway_ref": self.gateway_ref}
        charge = aggregate.charges.get(self.charge_id)
        if charge is not None and self.outcome == LOST:
            charge["refunded"] += self.amount


def _disputes(aggregate: Any) -> dict[str, dict[str, Any]]:
    # Subscriptions started before disputes existed have no such attribute until their first.
    if not hasattr(aggregate, "disputes"):
        aggregate.disputes = {}
    return aggregate.disputes  # type: ignore[no-any-return]


def dispute_id(gateway: str, gateway_ref: str) -> str:
    """The ledger's id of a provider's dispute: derived, so a replayed notice names it again."""
    return str(uuid5(_NAMESPACE, f"dispute:{gateway}:{gateway_ref}"))


def gateway_refund_id(gateway: str, gateway_ref: str) -> str:
    """The ledger's id of a refund made at the provider (derived from the provider's id)."""
    return str(uuid5(_NAMESPACE, f"refund:{gateway}:{gateway_ref}"))


_NAMESPACE = UUID("0f5e3c1a-2b7d-5e8f-9a10-6c4d2e1b7a93")


class Disputes:
    """A subscription's side of what its charges' provider reports."""

    def dispute_opened(
        self: Subscription, charge_id: str, *, gateway_ref: str, amount: int,
        reason: str | None, effective_at: datetime, recorded_at: datetime,
        currency: str | None = None,
    ) -> bool:
        """Record a dispute of a succeeded charge; False (nothing recorded) when it is
        already known."""
        charge = self._disputed_charge(charge_id, gateway_ref, amount, currency)
        key = dispute_id(charge["gateway"], gateway_ref)
        if key in getattr(self, "disputes", {}):
            return False
        self._catch_up(effective_at, recorded_at)
        self._record(ChargeDisputed, effective_at, recorded_at, dispute_id=key,
                     charge_id=charge_id, amount=amount, currency=self.currency,
                     gateway=charge["gateway"], gateway_ref=gateway_ref,
                     reason=check_reference(reason, "reason") if reason else None)
        return True

    def dispute_closed(
        self: Subscription, charge_id: str, *, gateway_ref: str, amount: int, outcome: str,
        effective_at: datetime, recorded_at: datetime, currency: str | None = None,
    ) -> bool:
        """Record how a dispute closed (it need not have been recorded as opened); False
        when it is already recorded as closed."""
        if outcome not in OUTCOMES:
            raise InvalidInput(f"a dispute's outcome is {' or '.join(OUTCOMES)}, not {outcome!r}")
        charge = self._disputed_charge(charge_id, gateway_ref, amount, currency)
        key = dispute_id(charge["gateway"], gateway_ref)
        known = getattr(self, "disputes", {}).get(key)
        if known is not None and known["status"] != "open":
            return False
        if outcome == LOST:
            amount = self._lost(charge_id, charge, amount)
        self._catch_up(effective_at, recorded_at)
        self._record(DisputeClosed, effective_at, recorded_at, dispute_id=key,
                     charge_id=charge_id, outcome=outcome, amount=amount, currency=self.currency,
                     gateway=charge["gateway"], gateway_ref=gateway_ref)
        return True

    def refunded_at_gateway(
        self: Subscription, charge_id: str, *, gateway_ref: str, amount: int,
        reason: str | None, effective_at: datetime, recorded_at: datetime,
        currency: str | None = None,
    ) -> bool:
        """Record a refund the provider made outside the ledger (its dashboard); False when
        it is already recorded (by this or by the ledger's own refund with that reference)."""
        check_reference(gateway_ref, "gateway_ref")
        check_amount(amount)
        check_comment(reason)
        if amount == 0:
            raise InvalidInput("a refund needs an amount above 0")
        self._in_charge_currency(charge_id, currency)
        key = gateway_refund_id(self.charges[charge_id]["gateway"], gateway_ref) \
            if charge_id in self.charges else ""
        if key in self.refunds or any(r.get("gateway_ref") == gateway_ref
                                      for r in self.refunds.values()):
            return False
        left = self.charge_left(charge_id)  # the provider did it: only the charge bounds it
        if amount > left:
            raise RefundExceedsCharge(
                f"charge {charge_id} has {left} {self.currency} minor units left to refund, not {amount}")
        self._catch_up(effective_at, recorded_at)
        self._record(RefundIssued, effective_at, recorded_at, refund_id=key, charge_id=charge_id,
                     amount=amount, currency=self.currency, reason=reason,
                     gateway=self.charges[charge_id]["gateway"], gateway_ref=gateway_ref)
        return True

    def _lost(self: Subscription, charge_id: str, charge: dict[str, Any], disputed: int) -> int:
        """What a lost dispute takes: the amount disputed, but at most what is left of the
        charge. A payer may dispute the whole charge after a partial refund; the issuer then
        gives the seller back the part already refunded (Stripe shows the dispute as lost,
        "partially won"), so only what was left leaves the seller: refused, the notice would
        be answered with an error until the provider gave up, and its loss never recorded."""
        if disputed > charge["amount"]:
            raise RefundExceedsCharge(f"charge {charge_id} is {charge['amount']} {self.currency}"
                                      f" minor units, not {disputed}")
        return max(0, min(disputed, charge["amount"] - charge["refunded"] - charge.get("reversed", 0)))

    def _catch_up(self: Subscription, effective_at: datetime, recorded_at: datetime) -> None:
        # Like every command, what was due before it first (a canceled subscription has
        # nothing due, and its charges can still be disputed or refunded).
        self.check_effective_at(effective_at)
        self.advance_to(effective_at, recorded_at=recorded_at)

    def _disputed_charge(self: Subscription, charge_id: str, gateway_ref: str,
                         amount: int, currency: str | None) -> dict[str, Any]:
        check_reference(gateway_ref, "gateway_ref")
        check_amount(amount)
        self._in_charge_currency(charge_id, currency)
        return self.charges[charge_id]

    def _in_charge_currency(self: Subscription, charge_id: str, currency: str | None) -> None:
        """Refuse a provider's amount in another currency than its charge's: its minor units
        are not the charge's (1900 yen are not 19.00 dollars). None: the provider named none."""
        self.charge_left(charge_id)  # raises ChargeNotFound for an unknown charge
        charged = self.charges[charge_id]["currency"]
        if currency is not None and currency.upper() != charged:
            raise CurrencyMismatch(f"charge {charge_id} is in {charged}; the provider's amount is"
                                   f" in {currency.upper()}")
