"""Payments outside the billing clock: a charge taken elsewhere, and refunds."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from uuid import UUID

from subledger.domain.errors import ChargeNotFound, InvoiceNotFound, PaymentAlreadyRecorded
from subledger.domain.money import normalize_currency
from subledger.domain.subscription import Subscription

from .document_index import gateway_ref_key
from .idempotency import IdempotentRequest
from .settlement import Settlement, load_subscription, located_subscription
from .store import LedgerStore
from .subscribers import check_gateway


class Payments:
    def __init__(self, store: LedgerStore, settlement: Settlement, gateways: Collection[str]) -> None:
        self.store = store
        self.settlement = settlement
        self.gateways = gateways

    def record_charge(
        self, subscription_id: UUID, *, amount: int, currency: str, gateway: str,
        gateway_ref: str, effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> tuple[Subscription, str]:
        """A payment taken outside the billing clock (returns the subscription and the
        charge id)."""
        check_gateway(gateway, self.gateways)
        subscription = load_subscription(self.store, subscription_id)

        def decide(sub: Subscription, effective: datetime, now: datetime) -> str:
            return sub.record_manual_charge(
                amount=amount, currency=normalize_currency(currency), gateway=gateway,
                gateway_ref=gateway_ref, effective_at=effective, recorded_at=now,
            )

        return self._recorded(subscription, gateway, gateway_ref, effective_at, idempotency, decide)

    def pay_invoice(
        self, invoice_id: str, *, gateway: str, gateway_ref: str,
        effective_at: datetime | None = None, idempotency: IdempotentRequest | None = None,
    ) -> tuple[Subscription, str]:
        """An open invoice paid in full outside the billing clock, through a configured
        gateway (returns the subscription and the charge id): its dunning ends."""
        check_gateway(gateway, self.gateways)
        subscription = located_subscription(self.store, invoice_id,
                                            InvoiceNotFound(f"no invoice {invoice_id!r}"))

        def decide(sub: Subscription, effective: datetime, now: datetime) -> str:
            return sub.pay_outside(invoice_id, gateway=gateway, gateway_ref=gateway_ref,
                                   effective_at=effective, recorded_at=now)

        return self._recorded(subscription, gateway, gateway_ref, effective_at, idempotency, decide)

    def _recorded(
        self, subscription: Subscription, gateway: str, gateway_ref: str,
        effective_at: datetime | None, idempotency: IdempotentRequest | None,
        decide: Callable[[Subscription, datetime, datetime], str],
    ) -> tuple[Subscription, str]:
        """A payment recorded by hand (the subscription and the charge id): counted once in
        the whole ledger. The subscription itself refuses its own charges again; the index
        knows the others'."""
        elsewhere = self.store.locate(gateway_ref_key(gateway, gateway_ref)) \
            if isinstance(gateway_ref, str) else None
        if elsewhere is not None and elsewhere != subscription.id:
            raise PaymentAlreadyRecorded(
                f"{gateway} payment {gateway_ref} is already a charge of subscription {elsewhere}")
        effective, now = self.store.times(effective_at)
        subscription.check_effective_at(effective)
        return self.settlement.decide(subscription, effective, now, decide, idempotency,
                                      result_of=lambda s, charge_id: (s, charge_id))

    def refund_charge(
        self, charge_id: str, *, amount: int, reason: str | None = None,
        effective_at: datetime | None = None, idempotency: IdempotentRequest | None = None,
    ) -> tuple[Subscription, str]:
        """Refund at most what is left of a succeeded charge through its gateway: the refund
        is requested (and saved), then sent, then its outcome saved. Returns the
        subscription and the refund id; the refund's state is in ``pending_refunds`` or the
        log (``RefundIssued`` / ``RefundFailed``)."""
        subscription = self.charged_subscription(charge_id)
        effective, now = self.store.times(effective_at)
        subscription.check_effective_at(effective)

        def decide(sub: Subscription, effective: datetime, now: datetime) -> str:
            return sub.request_refund(charge_id, amount, reason=reason, effective_at=effective,
                                      recorded_at=now).refund_id

        return self.settlement.decide(subscription, effective, now, decide, idempotency,
                                      result_of=lambda s, refund_id: (s, refund_id))

    def charged_subscription(self, charge_id: str) -> Subscription:
        """The subscription a succeeded charge was taken on."""
        subscription_id = self.store.charge_subscription(charge_id)
        if subscription_id is None:
            raise ChargeNotFound(f"no succeeded charge {charge_id!r}")
        return load_subscription(self.store, subscription_id)
