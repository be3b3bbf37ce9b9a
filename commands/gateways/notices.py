"""What a payment provider tells the ledger on its own (its webhooks), in the ledger's terms.

An adapter's parser turns the provider's event into a :class:`GatewayNotice` (or None: an
event the ledger has no use for); :mod:`subledger.commands.gateway_notices` records it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

DISPUTE_OPENED = "dispute_opened"
DISPUTE_CLOSED = "dispute_closed"
REFUNDED = "refunded"
REFUND_FAILED = "refund_failed"
PAYMENT_METHOD_EXPIRING = "payment_method_expiring"
CHARGE_DENIED = "charge_denied"
KINDS = (DISPUTE_OPENED, DISPUTE_CLOSED, REFUNDED, REFUND_FAILED, PAYMENT_METHOD_EXPIRING,
         CHARGE_DENIED)


class InvalidNotice(ValueError):
    """The provider's event is signed but not what its type promises (a field missing or
    of the wrong kind): refused, so the provider shows it as failed."""


@dataclass(frozen=True)
class GatewayNotice:
    """One provider event the ledger records.

    - ``dispute_opened`` / ``dispute_closed``: ``ref`` is the provider's dispute id,
      ``charge_refs`` the references the disputed charge may be known by, ``amount`` the
      disputed amount (None: the whole charge, for a provider that reports a chargeback
      only as the charge's status, as Authorize.net does), ``outcome`` (closed) ``won`` or
      ``lost``, ``reason`` the provider's reason code;
    - ``refunded``: a refund made at the provider; ``ref`` is its id, ``amount`` its amount;
    - ``refund_failed``: a refund (made at the provider or asked for by the ledger) failed
      after it was announced; ``ref`` is its id, ``reason`` the provider's failure reason;
    - ``charge_denied``: a payment the provider had reported taken (a PayPal capture
      ``PENDING``, an Authorize.net charge approved before its nightly settlement) was
      denied: the money never arrived; ``ref`` is the payment's id, ``reason`` why (for
      Authorize.net its transaction status: ``returnedItem``, ``settlementError``,
      ``voided``);
    - ``payment_method_expiring``: ``tokens`` the payment tokens the card may be set as,
      ``expires_at`` when it stops working.
    """

    kind: str
    occurred_at: datetime
    """When the provider says it happened (its event's creation time)."""
    ref: str | None = None
    charge_refs: tuple[str, ...] = ()
    amount: int | None = None
    currency: str | None = None
    outcome: str | None = None
    reason: str | None = None
    tokens: tuple[str, ...] = ()
    expires_at: datetime | None = None
