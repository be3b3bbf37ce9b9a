"""The ledger's writes as data: one dataclass per command, saying how it runs and what it
answers.

Every entry point (the HTTP API, the command line, a Python caller) hands these to
:meth:`Ledger.execute <subledger.commands.ledger.Ledger.execute>`, which runs them under
their idempotency key, so each gets the same guarantee. A command's fingerprint is its kind
and its fields; fields the server derives rather than the client gives (a period's figures
at its close) or that only change how it is shown (a progress bar) are marked
``NOT_IDENTITY`` and left out of it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from subledger.contract.bodies import (
    charge_body,
    forgotten_body,
    subscriber_body,
    subscription_body,
)
from subledger.domain.subscriber import Subscriber
from subledger.domain.subscription import Subscription

from .billing import Progress, run_billing
from .idempotency import IdempotentRequest

if TYPE_CHECKING:
    from .ledger import Ledger

Idem = IdempotentRequest | None
NOT_IDENTITY = {"identity": False}
"""Field metadata: not part of what the caller asked for, so not fingerprinted."""


class Write:
    """A command: ``handle`` runs it on the ledger, ``answer`` renders its result as JSON."""

    creates: ClassVar[bool] = False
    """Whether it creates a record (HTTP answers 201)."""

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        raise NotImplementedError

    def answer(self, ledger: Ledger, result: Any) -> Any:
        raise NotImplementedError


# -- subscribers ---------------------------------------------------------------------------


class _SubscriberWrite(Write):
    def answer(self, ledger: Ledger, result: Subscriber) -> Any:
        return subscriber_body(result, ledger.subscribers.subscription_ids(result.id))


@dataclass(frozen=True)
class RegisterSubscriber(_SubscriberWrite):
    creates: ClassVar[bool] = True
    email: str
    name: str
    external_ref: str | None = None
    effective_at: datetime | None = None

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.subscribers.register(**fields_of(self), idempotency=idempotency)


@dataclass(frozen=True)
class ChangeSubscriberDetails(_SubscriberWrite):
    subscriber_id: UUID
    changes: dict[str, str | None]
    effective_at: datetime | None = None

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.subscribers.change_details(self.subscriber_id, self.changes,
                                                 effective_at=self.effective_at,
                                                 idempotency=idempotency)


@dataclass(frozen=True)
class SetPaymentMethod(_SubscriberWrite):
    subscriber_id: UUID
    gateway: str
    token: str
    effective_at: datetime | None = None

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.subscribers.set_payment_method(**fields_of(self), idempotency=idempotency)


@dataclass(frozen=True)
class SetMarketingConsent(_SubscriberWrite):
    subscriber_id: UUID
    consent: bool
    effective_at: datetime | None = None

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.subscribers.set_marketing_consent(**fields_of(self), idempotency=idempotency)


@dataclass(frozen=True)
class ForgetSubscriber(Write):
    """Forget a subscriber; the answer says whether the log held their data encrypted."""

    subscriber_id: UUID

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.subscribers.forget(self.subscriber_id, idempotency=idempotency)

    def answer(self, ledger: Ledger, result: Subscriber) -> Any:
        return forgotten_body(result, encrypted=ledger.keys is not None)


# -- subscriptions -------------------------------------------------------------------------


class _SubscriptionWrite(Write):
    def answer(self, ledger: Ledger, result: Subscription) -> Any:
        return subscription_body(result)


@dataclass(frozen=True)
class StartSubscription(_SubscriptionWrite):
    creates: ClassVar[bool] = True
    subscriber_id: UUID
    plan_id: str
    quantity: int = 1
    trial_days: int | None = None
    coupon: str | None = None
    effective_at: datetime | None = None

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.subscriptions.start(**fields_of(self), idempotency=idempotency)


@dataclass(frozen=True)
class ChangeSubscription(_SubscriptionWrite):
    subscription_id: UUID
    plan_id: str | None = None
    quantity: int | None = None
    when: str = "now"
    effective_at: datetime | None = None

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.subscriptions.change(**fields_of(self), idempotency=idempotency)


@dataclass(frozen=True)
class CancelSubscription(_SubscriptionWrite):
    subscription_id: UUID
    when: str = "now"
    at: datetime | None = None
    reason: str | None = None
    effective_at: datetime | None = None

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.subscriptions.cancel(**fields_of(self), idempotency=idempotency)


@dataclass(frozen=True)
class RevokeCancellation(_SubscriptionWrite):
    subscription_id: UUID
    effective_at: datetime | None = None

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.subscriptions.revoke_cancellation(**fields_of(self), idempotency=idempotency)


@dataclass(frozen=True)
class PauseSubscription(_SubscriptionWrite):
    subscription_id: UUID
    effective_at: datetime | None = None

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.subscriptions.pause(**fields_of(self), idempotency=idempotency)


@dataclass(frozen=True)
class ResumeSubscription(_SubscriptionWrite):
    subscription_id: UUID
    effective_at: datetime | None = None

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.subscriptions.resume(**fields_of(self), idempotency=idempotency)


@dataclass(frozen=True)
class ApplyCoupon(_SubscriptionWrite):
    subscription_id: UUID
    coupon: str
    effective_at: datetime | None = None

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.subscriptions.apply_coupon(**fields_of(self), idempotency=idempotency)


# -- payments, billing, periods ------------------------------------------------------------


@dataclass(frozen=True)
class RecordCharge(Write):
    creates: ClassVar[bool] = True
    subscription_id: UUID
    amount: int
    currency: str
    gateway: str
    gateway_ref: str
    effective_at: datetime | None = None

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.payments.record_charge(**fields_of(self), idempotency=idempotency)

    def answer(self, ledger: Ledger, result: tuple[Subscription, str]) -> Any:
        return charge_body(*result)


@dataclass(frozen=True)
class PayInvoice(Write):
    creates: ClassVar[bool] = True
    invoice_id: str
    gateway: str
    gateway_ref: str
    effective_at: datetime | None = None

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.payments.pay_invoice(**fields_of(self), idempotency=idempotency)

    def answer(self, ledger: Ledger, result: tuple[Subscription, str]) -> Any:
        return charge_body(*result)


@dataclass(frozen=True)
class RefundCharge(Write):
    creates: ClassVar[bool] = True
    charge_id: str
    amount: int
    reason: str | None = None
    effective_at: datetime | None = None

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.payments.refund_charge(**fields_of(self), idempotency=idempotency)

    def answer(self, ledger: Ledger, result: tuple[Subscription, str]) -> Any:
        subscription, refund_id = result
        status = subscription.refund_status(refund_id)
        return {"refund_id": refund_id, "status": status["status"], "amount": status["amount"],
                "failure_code": status["failure_code"], "gateway_ref": status["gateway_ref"],
                "charge": charge_body(subscription, self.charge_id)}


@dataclass(frozen=True)
class RunBilling(Write):
    until: datetime
    progress: Progress | None = field(default=None, metadata=NOT_IDENTITY)

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        # A run appends in steps of its own; its answer is stored once it is done.
        summary = run_billing(ledger, self.until, progress=self.progress)
        if idempotency is not None:
            ledger.store.commit(result=summary, idempotency=idempotency)
        return summary

    def answer(self, ledger: Ledger, result: Any) -> Any:
        return result.as_dict()


@dataclass(frozen=True)
class ClosePeriod(Write):
    creates: ClassVar[bool] = True
    period: str
    position: int = field(metadata=NOT_IDENTITY)
    metrics_versions: list[str] = field(metadata=NOT_IDENTITY)
    figures: dict[str, Any] = field(metadata=NOT_IDENTITY)

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.periods.close(**fields_of(self), idempotency=idempotency)

    def answer(self, ledger: Ledger, result: Any) -> Any:
        return {"period": result.period, "position": result.closed_position,
                "metrics_versions": self.metrics_versions, "figures": result.figures}


def fields_of(command: Any) -> dict[str, Any]:
    return {f.name: getattr(command, f.name) for f in dataclasses.fields(command)}
