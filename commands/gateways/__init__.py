"""The payment-gateway port: every way of taking money goes through these two calls.

An adapter is one module implementing :class:`PaymentGateway`. Each call carries an
idempotency key derived from the ledger's own ids (invoice id + attempt, refund id), which
the adapter passes to the provider, so a retried call never charges or refunds twice.

A *decline* (the card was refused) is a result, recorded as ``ChargeFailed``; a gateway that
cannot be reached or answers with a server error raises :class:`GatewayUnavailable`, and
nothing is recorded: the billing clock tries the same attempt again on its next run.

Providers keep an idempotency key for a while only (Stripe 24 hours, PayPal 6). A request
therefore says how old an earlier sending of its attempt may be (:meth:`ChargeRequest.
may_be_older_than`); an adapter whose provider may have forgotten the key looks the earlier
payment up by a reference the ledger set on it before sending again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .notices import GatewayNotice


EARLY_SENDING = timedelta(minutes=10)
"""How much earlier than its ``due_at`` an attempt may have been sent: an ``effective_at``
may be a few minutes ahead of the ledger's clock, and the provider's clock is not the
ledger's."""


class GatewayUnavailable(Exception):
    """Transient: the provider could not be reached or failed; retry the same request."""


def charge_description(subscription_id: str, invoice_id: str) -> str:
    """The description the ledger gives every charge it asks for. A provider that keeps no
    metadata on a payment (PayPal's orders) tells whose payment it is only by this text, read
    back by :func:`described_subscription`: the two are one format."""
    return f"subscription {subscription_id} invoice {invoice_id}"


_DESCRIBED = re.compile(r"subscription ([0-9a-f-]{36}) invoice \S+")


def described_subscription(description: str) -> str | None:
    """The subscription id in a description :func:`charge_description` wrote; None for any
    other text (a payment another system made)."""
    match = _DESCRIBED.fullmatch(description)
    return match[1] if match else None


@dataclass(frozen=True)
class ChargeRequest:
    idempotency_key: str
    """Stable for one attempt at one invoice: a retry of the same call reuses it."""
    amount: int
    """Minor units, > 0."""
    currency: str
    """ISO 4217, upper case."""
    token: str
    """The subscriber's payment method token at this gateway."""
    customer_ref: str
    """The subscriber id."""
    description: str
    """:func:`charge_description` of the subscription and the invoice."""
    attempt: int = 1
    """1 for the first attempt at an invoice, then 2, 3, 4 for dunning retries."""
    metadata: dict[str, str] = field(default_factory=dict)
    due_at: datetime | None = None
    """When the attempt fell due. No sending of it happened before (give or take an
    ``effective_at`` a few minutes ahead), so ``sent_at - due_at`` bounds the age of an
    earlier sending whose answer was lost."""
    sent_at: datetime | None = None
    """The ledger's clock as it sends this request."""

    def may_be_older_than(self, window: timedelta) -> bool:
        """Whether an earlier sending of this attempt may be older than ``window`` (so the
        provider may have forgotten its key). Without both times nothing is known: True."""
        if self.due_at is None or self.sent_at is None:
            return True
        return self.sent_at - self.due_at >= window

    def earliest_sending(self) -> datetime | None:
        """The instant no sending of this attempt can be older than; None when its due
        instant is unknown."""
        return None if self.due_at is None else self.due_at - EARLY_SENDING


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    gateway_ref: str | None
    """The provider's id of the payment (e.g. Stripe's PaymentIntent id)."""
    decline_code: str | None = None
    """Why it failed, as the provider says (e.g. ``card_declined``); None on success."""


@dataclass(frozen=True)
class RefundRequest:
    idempotency_key: str
    charge_gateway_ref: str
    amount: int
    currency: str
    reason: str | None = None


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    gateway_ref: str | None
    failure_code: str | None = None


class PaymentGateway(Protocol):
    name: str

    def charge(self, request: ChargeRequest) -> ChargeResult: ...

    def refund(self, request: RefundRequest) -> RefundResult: ...


@runtime_checkable
class PaymentOwners(Protocol):
    """A gateway that can say which subscription of this ledger a payment was taken for (the
    metadata the ledger set on it), for a provider's notice about a payment whose answer the
    ledger lost: the notice can then wait for that answer instead of being ignored."""

    def charged_subscription(self, payment_ref: str) -> str | None:
        """The ``subscription_id`` the ledger set on the payment; None for a payment it did
        not make. Raises :class:`GatewayUnavailable`."""
        ...


@runtime_checkable
class SettlementReports(Protocol):
    """A gateway whose provider says what became of a payment after it was approved only
    when asked (Authorize.net sends no webhook for a settlement error or a return)."""

    def settlement_notices(self, since: datetime, until: datetime) -> list[GatewayNotice]:
        """The notices about payments settled (or voided before settling) between ``since``
        and ``until`` whose money did not reach the merchant. Raises
        :class:`GatewayUnavailable`; nothing is returned in part."""
        ...
