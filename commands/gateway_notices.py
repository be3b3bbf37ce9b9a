"""Recording what a payment provider reports on its own: disputes, refunds made in its
dashboard, a refund that failed after it was announced, a payment it denied after it was
reported taken, a payment method about to expire
(:class:`~.gateways.notices.GatewayNotice`).

The charge a notice is about is found by the provider's reference of it (the
``gateway_ref`` of its ``ChargeSucceeded``), the subscriber by a hash of their payment token,
both through the document index (:mod:`.document_index`). A notice about something this
ledger does not know (a charge taken by another system on the same account) is answered
``ignored`` and appends nothing.

A notice may come before the ledger has the answer it is about: the provider took a payment
or a refund, but its answer was lost on the way back, and the ledger would send it again
(same key) on the billing clock's next run. Ignored, such a notice would be lost (a provider
sends an answered notice once). So a notice about a payment the gateway says this ledger
made (:class:`~.gateways.PaymentOwners`), or about a refund of a charge that has a refund
waiting for its answer, first has what is waiting on that subscription sent again, as any
command on it would; unreachable, the notice is answered 503 and the provider sends it again.

The provider's time is the event's ``effective_at``, clamped between the subscription's (or
subscriber's) last event and now: a notice that arrives after the ledger moved on is
recorded when the ledger learned it, never before what it already recorded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from subledger.domain.errors import GatewayUnavailableError, SubscriptionNotFound
from subledger.domain.subscription import Subscription

from .document_index import gateway_ref_key, token_key
from .gateways import GatewayUnavailable, PaymentOwners
from .gateways.notices import (
    CHARGE_DENIED,
    DISPUTE_CLOSED,
    DISPUTE_OPENED,
    PAYMENT_METHOD_EXPIRING,
    REFUND_FAILED,
    REFUNDED,
    GatewayNotice,
)
from .idempotency import IdempotentRequest
from .settlement import Settlement, due_before, load_subscription
from .store import LedgerStore
from .subscribers import Subscribers

logger = logging.getLogger(__name__)

RECORDED = "recorded"
ALREADY_RECORDED = "already_recorded"
IGNORED = "ignored"


@dataclass(frozen=True)
class NoticeOutcome:
    """What became of a notice: ``recorded`` (with the ledger's record it is about),
    ``already_recorded`` or ``ignored`` (with why)."""

    outcome: str
    detail: str
    subscription_id: str | None = None
    subscriber_id: str | None = None


class GatewayNotices:
    def __init__(self, store: LedgerStore, settlement: Settlement, subscribers: Subscribers) -> None:
        self.store = store
        self.settlement = settlement
        self.subscribers = subscribers

    def record(self, gateway: str, notice: GatewayNotice,
               idempotency: IdempotentRequest | None = None) -> NoticeOutcome:
        if notice.kind == PAYMENT_METHOD_EXPIRING:
            return self._expiring(gateway, notice, idempotency)
        found = self._charge(gateway, notice.charge_refs) or self._answered_first(gateway, notice)
        if found is None:
            logger.warning("%s %s: no charge of this ledger has reference %s; ignored",
                           gateway, notice.kind, ", ".join(notice.charge_refs) or "(none)")
            return NoticeOutcome(IGNORED, "no charge of this ledger has that reference")
        subscription, charge_id, charge_ref = found
        if notice.kind == REFUND_FAILED and subscription.issued_refund(charge_id, notice.ref or "") is None \
                and subscription.pending_refunds:
            subscription = self._settled(subscription)  # the refund's own answer first
        if notice.kind == REFUND_FAILED and subscription.issued_refund(charge_id, notice.ref or "") is None:
            # A refund still waiting for the ledger's answer, or one it never recorded.
            logger.warning("%s refund %s of charge %s failed: no issued refund of this ledger has"
                           " that reference; ignored", gateway, notice.ref, charge_id)
            return NoticeOutcome(IGNORED, "no issued refund of this ledger has that reference")
        now = self.store.clock()
        effective = max(min(notice.occurred_at, now), subscription.last_effective_at)

        def decide(sub: Subscription, effective: datetime, now: datetime) -> bool:
            fields: dict[str, Any] = {"amount": notice.amount, "currency": notice.currency,
                                      "effective_at": effective, "recorded_at": now}
            if notice.amount is None and notice.kind in (DISPUTE_OPENED, DISPUTE_CLOSED):
                fields["amount"] = sub.charges[charge_id]["amount"]  # the whole charge
            if notice.kind == DISPUTE_OPENED:
                return sub.dispute_opened(charge_id, gateway_ref=notice.ref or "",
                                          reason=notice.reason, **fields)
            if notice.kind == DISPUTE_CLOSED:
                return sub.dispute_closed(charge_id, gateway_ref=notice.ref or "",
                                          outcome=notice.outcome or "", **fields)
            if notice.kind == REFUND_FAILED:
                refund_id = sub.issued_refund(charge_id, notice.ref or "")
                return refund_id is not None and sub.reverse_refund(
                    refund_id, failure_code=notice.reason or "failed", currency=notice.currency,
                    effective_at=effective, recorded_at=now)
            if notice.kind == CHARGE_DENIED:
                return sub.reverse_charge(charge_id, reason=notice.reason or "denied",
                                          currency=notice.currency, effective_at=effective,
                                          recorded_at=now, dunning=self.settlement.dunning)
            if notice.kind != REFUNDED:
                raise ValueError(f"not a notice about a charge: {notice.kind}")
            return sub.refunded_at_gateway(charge_id, gateway_ref=notice.ref or "",
                                           reason=notice.reason, **fields)

        def outcome(sub: Subscription, recorded: bool) -> NoticeOutcome:
            return NoticeOutcome(
                RECORDED if recorded else ALREADY_RECORDED,
                f"{notice.kind} of charge {charge_id} ({gateway} {charge_ref})",
                subscription_id=str(sub.id), subscriber_id=str(sub.subscriber_id))

        answer, result = self.settlement.decide(subscription, effective, now, decide,
                                                idempotency, result_of=outcome)
        return outcome(answer, bool(result))

    def _charge(self, gateway: str, refs: tuple[str, ...]) -> tuple[Subscription, str, str] | None:
        """The subscription, ledger charge id and reference of the first reference known."""
        for ref in refs:
            subscription_id = self.store.locate(gateway_ref_key(gateway, ref))
            if subscription_id is None:
                continue
            subscription = load_subscription(self.store, subscription_id)
            for charge_id, charge in subscription.charges.items():
                if charge["gateway"] == gateway and charge["gateway_ref"] == ref:
                    return subscription, charge_id, ref
        return None

    def _answered_first(self, gateway: str, notice: GatewayNotice) -> tuple[Subscription, str, str] | None:
        """The charge a notice is about, once what waits on the subscription the gateway says
        its payment was for has been sent again (the lost answer comes back with it); None
        when the payment is not this ledger's or nothing of it is waiting."""
        source = self.settlement.gateways.get(gateway)
        if not isinstance(source, PaymentOwners):
            return None
        for ref in notice.charge_refs:
            try:
                owner = source.charged_subscription(ref)
            except GatewayUnavailable as error:
                raise GatewayUnavailableError(f"{gateway} could not say whose payment {ref} is"
                                              f" ({error}); send the notice again later") from error
            try:
                subscription = load_subscription(self.store, UUID(owner)) if owner else None
            except (ValueError, SubscriptionNotFound):
                subscription = None  # another ledger's metadata on the same account
            if subscription is not None and due_before(subscription, self.store.clock()):
                self._settled(subscription)
                return self._charge(gateway, notice.charge_refs)
        return None

    def _settled(self, subscription: Subscription) -> Subscription:
        now = self.store.clock()
        settled = self.settlement.settle(subscription, now, now)
        if not settled.complete:
            raise GatewayUnavailableError(
                "the payment this notice is about still waits for its gateway's answer;"
                " send the notice again later")
        return settled.subscription

    def _expiring(self, gateway: str, notice: GatewayNotice,
                  idempotency: IdempotentRequest | None) -> NoticeOutcome:
        for token in notice.tokens:
            subscriber_id = self.store.locate(token_key(gateway, token))
            if subscriber_id is None:
                continue
            subscriber = self.subscribers.get(subscriber_id)
            now = self.store.clock()
            effective = max(min(notice.occurred_at, now), subscriber.last_effective_at)
            if notice.expires_at is None:
                raise ValueError("a payment method's expiry needs its instant")
            recorded = subscriber.payment_method_expiring(
                gateway=gateway, token=token, expires_at=notice.expires_at,
                effective_at=effective, recorded_at=now)
            result = NoticeOutcome(RECORDED if recorded else ALREADY_RECORDED,
                                   f"payment method of subscriber {subscriber_id} expiring",
                                   subscriber_id=str(subscriber_id))
            return self.store.commit(subscriber, result=result, idempotency=idempotency) \
                if recorded else result
        return NoticeOutcome(IGNORED, "no subscriber of this ledger has that payment method")
