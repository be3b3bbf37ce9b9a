"""Settlement: saving a subscription's decisions and taking the money they make due.

Money moves in two phases. The decision that needs a gateway (an invoice with an attempt
due, a refund requested) is saved first; only then is the gateway asked, under an
idempotency key derived from that saved decision; its answer is saved next. A command that
loses a race therefore never reached a gateway, and an answer that is lost (a crash, a race
on the second save) is asked for again under the same key, which the gateway answers
without moving money twice.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from subledger.domain.charges import (
    DUNNING,
    NO_PAYMENT_METHOD,
    ChargeIntent,
    ChargeOutcome,
    Dunning,
    Payer,
    assume_paid,
)
from subledger.domain.errors import (
    ConcurrentModification,
    Conflict,
    DomainError,
    GatewayUnavailableError,
    SubscriptionNotFound,
    UnknownGateway,
)
from subledger.domain.refunds import RefundIntent
from subledger.domain.subscription import Subscription
from subledger.store import SubscriberLink

from .gateways import (
    ChargeRequest,
    GatewayUnavailable,
    PaymentGateway,
    RefundRequest,
    charge_description,
)
from .idempotency import IdempotentRequest
from .store import LedgerStore
from .subscribers import Subscribers

MAX_SETTLE_ROUNDS = 1000
logger = logging.getLogger(__name__)

Decide = Callable[[Subscription, datetime, datetime], Any]
"""A command's decision on a subscription: (subscription, effective_at, recorded_at) ->
its outcome (a charge id, a refund id, or nothing)."""


def load_subscription(store: LedgerStore, subscription_id: UUID,
                      version: int | None = None) -> Subscription:
    return store.load(subscription_id, Subscription,
                      SubscriptionNotFound(f"no subscription {subscription_id}"), version=version)


def located_subscription(store: LedgerStore, document_id: str, not_found: DomainError) -> Subscription:
    """The subscription a document (an invoice, a charge attempt) belongs to, by the
    document index; ``not_found`` when none."""
    subscription_id = store.locate(document_id)
    if subscription_id is None:
        raise not_found
    return load_subscription(store, subscription_id)


def _assume_declined(intent: ChargeIntent) -> ChargeOutcome:
    """The other payer of a probe (beside :func:`assume_paid`): every due charge is declined."""
    return ChargeOutcome(False, None, None, "declined")


@dataclass(frozen=True)
class Decision:
    """What the first save of a settlement carries with the command's events."""

    idempotency: IdempotentRequest | None = None
    result_of: Callable[[Subscription], Any] = lambda s: s
    """The command's result from the subscription it saved (rendered as its answer)."""
    links: tuple[SubscriberLink, ...] = ()


@dataclass
class Settled:
    subscription: Subscription
    """As last saved (possibly by another writer that came in between)."""
    answer: Subscription
    """As this settlement last saved it: the state the command's answer shows."""
    complete: bool
    """False when a gateway was unavailable: the attempt stays due for the next try."""


@dataclass
class _Progress:
    durable: bool = False
    saved: int | None = None
    """The version this settlement last saved."""
    answer: Subscription | None = None


class Settlement:
    def __init__(self, store: LedgerStore, subscribers: Subscribers,
                 gateways: Mapping[str, PaymentGateway], dunning: Dunning = DUNNING) -> None:
        self.store = store
        self.subscribers = subscribers
        self.gateways = gateways
        self.dunning = dunning
        """The policy every charge recorded here is pursued by (``SUBLEDGER_DUNNING``)."""

    def settle(
        self, subscription: Subscription, instant: datetime, now: datetime, *,
        decision: Decision | None = None, observe: Callable[[list[Any]], None] | None = None,
    ) -> Settled:
        """Save the subscription's pending decision and everything due up to ``instant``,
        taking charges and refunds to their gateways after the step that needs them is
        saved; ``observe`` sees the events of each save.

        The first save carries ``decision``; if it loses a race, :class:`ConcurrentModification`
        is raised and no gateway was asked. Later saves that lose a race reload and carry
        on: the decision is already durable."""
        progress = _Progress()
        for _ in range(MAX_SETTLE_ROUNDS):
            intent = subscription.next_step(instant, recorded_at=now)
            refunds = subscription.pending_refund_intents() if intent is None else []
            events = list(subscription.pending_events)
            if not self._save(subscription, decision, progress):
                subscription = load_subscription(self.store, subscription.id)
                continue
            if observe is not None:
                observe(events)
            if intent is None and not refunds:
                return Settled(subscription, progress.answer or subscription, True)
            try:
                self._take(subscription, intent, refunds, now)
            except GatewayUnavailable as error:
                logger.warning("gateway unavailable for subscription %s: %s", subscription.id, error)
                return Settled(subscription, progress.answer or subscription, False)
        raise RuntimeError(f"subscription {subscription.id} did not settle")  # pragma: no cover

    def _save(self, subscription: Subscription, decision: Decision | None,
              progress: _Progress) -> bool:
        """One save of a settlement; False when another writer came in between a later
        save (the caller reloads and carries on; the answer stays this command's state)."""
        first = decision if not progress.durable and decision is not None else Decision()
        try:
            # The idempotency answer goes with the decision (the first save), so a key can
            # never be spent twice; it shows the state the decision recorded.
            self.store.commit(subscription, result=first.result_of(subscription),
                              idempotency=first.idempotency, links=first.links)
        except ConcurrentModification:
            if not progress.durable:
                raise
            # Read back as saved (not copied at every save: a race here is rare).
            progress.answer = progress.answer or load_subscription(
                self.store, subscription.id, version=progress.saved)
            return False
        progress.durable = True
        progress.saved = subscription.version
        return True

    def _take(self, subscription: Subscription, intent: ChargeIntent | None,
              refunds: list[RefundIntent], now: datetime) -> None:
        if intent is not None:
            self.take_charge(subscription, intent, now)
        else:
            self.take_refunds(subscription, refunds, now)

    def take_charge(self, subscription: Subscription, intent: ChargeIntent, now: datetime) -> None:
        """Ask the gateway of the subscriber's payment method in effect when a saved charge
        attempt fell due, and record its answer on the aggregate (saved by the caller).
        Raises :class:`GatewayUnavailable`."""
        subscriber = self.subscribers.get(subscription.subscriber_id)
        method = subscriber.payment_method_at(intent.effective_at)
        if method is None:
            outcome = ChargeOutcome(False, None, None, NO_PAYMENT_METHOD)
        else:
            gateway = self._gateway(method["gateway"])
            result = gateway.charge(ChargeRequest(
                idempotency_key=f"subledger-{intent.charge_id}",
                amount=intent.amount, currency=intent.currency, token=method["token"],
                customer_ref=str(subscription.subscriber_id),
                description=charge_description(str(subscription.id), intent.invoice_id),
                attempt=intent.attempt,
                metadata={"subscription_id": str(subscription.id), "invoice_id": intent.invoice_id},
                due_at=intent.effective_at, sent_at=now,
            ))
            outcome = ChargeOutcome(result.succeeded, gateway.name, result.gateway_ref,
                                    result.decline_code)
        subscription.record_charge(intent, outcome, recorded_at=now, dunning=self.dunning)

    def take_refunds(self, subscription: Subscription, intents: list[RefundIntent],
                     now: datetime) -> None:
        """Ask the charges' gateways for saved refund requests and record their answers."""
        for intent in intents:
            refund = self._gateway(intent.gateway or "").refund(RefundRequest(
                idempotency_key=f"subledger-{intent.refund_id}",
                charge_gateway_ref=intent.charge_gateway_ref or "",
                amount=intent.amount, currency=intent.currency, reason=intent.reason,
            ))
            subscription.record_refund_outcome(
                intent, succeeded=refund.succeeded, gateway_ref=refund.gateway_ref,
                failure_code=refund.failure_code, recorded_at=now,
            )

    def _gateway(self, name: str) -> PaymentGateway:
        gateway = self.gateways.get(name)
        if gateway is None:
            raise GatewayUnavailable(f"gateway {name!r} is not configured")
        return gateway

    def decide(
        self, subscription: Subscription, effective: datetime, now: datetime, decide: Decide,
        idempotency: IdempotentRequest | None,
        result_of: Callable[[Subscription, Any], Any] = lambda s, _: s,
        catch_up_to: datetime | None = None,
    ) -> tuple[Subscription, Any]:
        """A command on a subscription: first what is due up to its effective_at (charges
        included, saved), then its decision, then the charges the decision makes due.

        When something is due first, the decision is tried first on a copy, with every due
        charge assumed paid, so that a command refused for its input appends nothing, not
        even what was due. A refusal
        that depends on the state (a conflict) may depend on how the charges due turn out
        (a void of an invoice whose retry is due): then it is tried with them declined too;
        a command refused alike both ways is refused before the gateway is asked, any other
        is decided on what the charges really did. ``catch_up_to`` (default ``effective``)
        is how far the command itself catches up first (see ``caught_up_before``)."""
        decide = self._routable(decide)
        before = effective if catch_up_to is None else catch_up_to
        if due_before(subscription, before):
            self._probe(subscription, effective, now, decide, before)
            subscription = self._settle_before(subscription, before, now)
        # Else nothing is performed before the decision, so the probe would decide exactly
        # this: a refusal raises here, before anything is saved, and nothing is copied.
        outcome = decide(subscription, effective, now)
        settled = self.settle(subscription, effective, now, decision=Decision(
            idempotency, lambda s: result_of(s, outcome)))
        return settled.answer, outcome

    def _routable(self, decide: Decide) -> Decide:
        """The decision, refused when a refund it requests must go back through a gateway not
        configured here: it would wait for that gateway forever, and every later command on
        the subscription (which settles it first) with it."""

        def checked(subscription: Subscription, effective: datetime, now: datetime) -> Any:
            before = set(subscription.pending_refunds)
            outcome = decide(subscription, effective, now)
            for refund_id in subscription.pending_refunds.keys() - before:
                gateway = subscription.pending_refunds[refund_id]["gateway"]
                # None only in a probe, for a charge it assumed paid with no gateway asked.
                if gateway is not None and gateway not in self.gateways:
                    raise UnknownGateway(
                        f"charge {subscription.pending_refunds[refund_id]['charge_id']} was"
                        f" taken through gateway {gateway!r}, which is not configured; it"
                        f" cannot be refunded through the ledger")
            return outcome

        return checked

    def _probe(self, subscription: Subscription, effective: datetime, now: datetime,
               decide: Decide, before: datetime) -> None:
        """Refuse, before anything is appended, a command that would be refused however the
        charges due before it (up to ``before``) turn out (see :meth:`decide`)."""
        refusals: list[Conflict] = []
        for assumed in (assume_paid, _assume_declined):
            asked: list[ChargeIntent] = []

            def pay(intent: ChargeIntent, assumed: Payer = assumed,
                    asked: list[ChargeIntent] = asked) -> ChargeOutcome:
                asked.append(intent)
                return assumed(intent)

            probe = copy.deepcopy(subscription)
            probe.advance_to(before, recorded_at=now, pay=pay, dunning=self.dunning)
            try:
                decide(probe, effective, now)
                return
            except Conflict as refused:
                if not asked:
                    raise
                refusals.append(refused)
        if type(refusals[0]) is type(refusals[1]):
            raise refusals[0]

    def _settle_before(self, subscription: Subscription, instant: datetime, now: datetime) -> Subscription:
        """What is due before a command's own decision; refuse the command (nothing of it
        done) if a gateway it needs first is unavailable."""
        if not due_before(subscription, instant):
            return subscription
        settled = self.settle(subscription, instant, now)
        if not settled.complete:
            raise GatewayUnavailableError(
                "a payment due before this command could not be taken (gateway unavailable);"
                " the command was not performed, retry later"
            )
        return settled.subscription


def due_before(subscription: Subscription, instant: datetime) -> bool:
    """Whether anything is to be performed on the subscription before a command at
    ``instant``: something due by then, or a refund waiting for its gateway."""
    due = subscription.next_due()
    return (due is not None and due <= instant) or bool(subscription.pending_refunds)
