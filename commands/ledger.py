"""The ledger application: every command is load -> decide -> save, in one transaction.

Optimistic concurrency comes from the store: two commands that load the same version of an
aggregate cannot both append the next one; the second fails with
:class:`~subledger.domain.errors.ConcurrentModification` and nothing of it is kept.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import Environment

from subledger.domain.base import LedgerAggregate
from subledger.domain.billing_schedule import NO_PAYMENT_METHOD, ChargeIntent, ChargeOutcome
from subledger.domain.catalog import Coupon, Plan, coupon_aggregate_id, plan_aggregate_id
from subledger.domain.errors import (
    ChargeNotFound,
    ConcurrentModification,
    CouponAlreadyExists,
    CouponNotFound,
    DomainError,
    GatewayUnavailableError,
    IdempotencyKeyReused,
    NotFound,
    NotYetAvailable,
    PeriodAlreadyClosed,
    PlanAlreadyExists,
    PlanNotFound,
    SubscriberNotFound,
    SubscriptionNotFound,
    UnknownGateway,
    UnknownReference,
)
from subledger.domain.money import normalize_currency
from subledger.domain.refunds import RefundIntent
from subledger.domain.reporting import ReportingPeriod
from subledger.domain.subscriber import Subscriber
from subledger.domain.subscription import Subscription
from subledger.domain.time import isoformat, resolve_effective_at
from subledger.store import IdempotencyRecord, SubscriberLink
from subledger.store.log import EventLog
from subledger.store.recorders import LedgerPostgresRecorder, LedgerSQLiteRecorder

from .gateways import ChargeRequest, GatewayUnavailable, PaymentGateway, RefundRequest
from .gateways.sandbox import SandboxGateway
from .idempotency import IdempotentRequest

A = TypeVar("A", bound=LedgerAggregate)
MAX_SETTLE_ROUNDS = 1000
logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def _assume_paid(intent: ChargeIntent) -> ChargeOutcome:
    """The payer of a probe: every due charge succeeds (see ``_decide_and_settle``)."""
    return ChargeOutcome(True, None, None)


def system_clock() -> datetime:
    return datetime.now(UTC)


class Ledger(Application):
    """The write side of the ledger and the log it keeps."""

    name = "subledger"
    log_section_size = 1000

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        gateways: Mapping[str, PaymentGateway] | None = None,
        clock: Clock = system_clock,
    ) -> None:
        super().__init__(env=env)
        self.clock = clock
        self.payment_gateways: dict[str, PaymentGateway] = dict(
            gateways if gateways is not None else {"sandbox": SandboxGateway()}
        )
        self.gateways = frozenset(self.payment_gateways)
        recorder = self.recorder
        assert isinstance(recorder, (LedgerPostgresRecorder, LedgerSQLiteRecorder))
        self.store_recorder = recorder
        self.event_log = EventLog(recorder, self.mapper)

    def construct_env(self, name: str, env: Any = None) -> Environment:
        # Only the configuration handed in: modules never read the process environment.
        return Environment(name, dict(env or {}))

    # -- plumbing ------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.clock()

    def _times(self, effective_at: datetime | None) -> tuple[datetime, datetime]:
        """(effective_at, recorded_at) of a command; read after loading what it changes."""
        now = self._now()
        return resolve_effective_at(effective_at, now), now

    def _load(self, aggregate_id: UUID, cls: type[A], not_found: DomainError) -> A:
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise not_found from None
        if not isinstance(aggregate, cls):
            raise not_found
        return aggregate

    def _commit(
        self,
        *aggregates: LedgerAggregate,
        result: Any,
        idempotency: IdempotentRequest | None,
        links: Iterable[SubscriberLink] = (),
        on_conflict: DomainError | None = None,
    ) -> Any:
        kwargs: dict[str, Any] = {}
        if idempotency is not None:
            kwargs["idempotency"] = idempotency.record(result, self._now())
        links = list(links)
        if links:
            kwargs["subscriber_links"] = links
        subscriptions = [a for a in aggregates if isinstance(a, Subscription)]
        if subscriptions:
            # The billing clock's agenda and the charge index move with the events.
            kwargs["billing_due"] = [(s.id, s.agenda_due()) for s in subscriptions]
            kwargs["charge_links"] = [
                (event.charge_id, s.id)
                for s in subscriptions
                for event in s.pending_events
                if isinstance(event, Subscription.ChargeSucceeded)
            ]
        try:
            self.save(*aggregates, **kwargs)
        except IntegrityError:
            if idempotency is not None and self.find_idempotency(idempotency.scope, idempotency.key):
                raise IdempotencyKeyReused(
                    f"Idempotency-Key {idempotency.key!r} was used by a request recorded first"
                ) from None
            raise (on_conflict or ConcurrentModification(
                "another change to the same record was saved first; reload and retry"
            )) from None
        return result

    def remember(self, idempotency: IdempotentRequest | None, result: Any) -> Any:
        """Store the answer of a write that appends its events in steps of its own (a
        billing run), so that a retry with the same key gets it back."""
        if idempotency is None:
            return result
        return self._commit(result=result, idempotency=idempotency)

    def find_idempotency(self, scope: str, key: str) -> IdempotencyRecord | None:
        return self.store_recorder.select_idempotency(scope, key)

    # -- catalog -------------------------------------------------------------------------

    def create_plan(
        self,
        *,
        plan_id: str,
        name: str,
        tier: str,
        currency: str,
        amount: int,
        interval: str,
        trial_days: int = 0,
        effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Plan:
        effective, now = self._times(effective_at)
        plan = Plan.create(
            plan_id=plan_id, name=name, tier=tier, currency=currency, amount=amount,
            interval=interval, trial_days=trial_days, effective_at=effective, recorded_at=now,
        )
        exists = PlanAlreadyExists(f"plan {plan_id} already exists")
        if self._exists(plan.id):
            raise exists
        return self._commit(plan, result=plan, idempotency=idempotency, on_conflict=exists)

    def add_plan_price(
        self,
        plan_id: str,
        *,
        amount: int,
        effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Plan:
        plan = self.get_plan(plan_id)
        effective, now = self._times(effective_at)
        plan.add_price(amount=amount, effective_at=effective, recorded_at=now)
        return self._commit(plan, result=plan, idempotency=idempotency)

    def get_plan(self, plan_id: str) -> Plan:
        return self._load(plan_aggregate_id(plan_id), Plan, PlanNotFound(f"no plan {plan_id!r}"))

    def create_coupon(
        self,
        *,
        coupon_id: str,
        percent_off: Decimal | int | str | None = None,
        amount_off: int | None = None,
        currency: str | None = None,
        duration: str,
        duration_in_months: int | None = None,
        name: str | None = None,
        effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Coupon:
        effective, now = self._times(effective_at)
        coupon = Coupon.create(
            coupon_id=coupon_id, percent_off=percent_off, amount_off=amount_off,
            currency=currency, duration=duration, duration_in_months=duration_in_months,
            name=name, effective_at=effective, recorded_at=now,
        )
        exists = CouponAlreadyExists(f"coupon {coupon_id} already exists")
        if self._exists(coupon.id):
            raise exists
        return self._commit(coupon, result=coupon, idempotency=idempotency, on_conflict=exists)

    def get_coupon(self, coupon_id: str) -> Coupon:
        return self._load(
            coupon_aggregate_id(coupon_id), Coupon, CouponNotFound(f"no coupon {coupon_id!r}")
        )

    def _exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    # -- subscribers ---------------------------------------------------------------------

    def register_subscriber(
        self,
        *,
        email: str,
        name: str,
        external_ref: str | None = None,
        effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Subscriber:
        effective, now = self._times(effective_at)
        subscriber = Subscriber.register(
            email=email, name=name, external_ref=external_ref, effective_at=effective,
            recorded_at=now,
        )
        return self._commit(
            subscriber, result=subscriber, idempotency=idempotency,
            links=[SubscriberLink(subscriber.id, subscriber.id)],
        )

    def get_subscriber(self, subscriber_id: UUID) -> Subscriber:
        return self._load(
            subscriber_id, Subscriber, SubscriberNotFound(f"no subscriber {subscriber_id}")
        )

    def subscription_ids(self, subscriber_id: UUID) -> list[UUID]:
        return [i for i in self.store_recorder.select_streams(subscriber_id) if i != subscriber_id]

    def change_subscriber_details(
        self,
        subscriber_id: UUID,
        changes: dict[str, str | None],
        *,
        effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Subscriber:
        subscriber = self.get_subscriber(subscriber_id)
        effective, now = self._times(effective_at)
        subscriber.change_details(changes, effective_at=effective, recorded_at=now)
        return self._commit(subscriber, result=subscriber, idempotency=idempotency)

    def set_payment_method(
        self,
        subscriber_id: UUID,
        *,
        gateway: str,
        token: str,
        effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Subscriber:
        if gateway not in self.gateways:
            raise UnknownGateway(
                f"gateway {gateway!r} is not configured; configured: {', '.join(sorted(self.gateways))}"
            )
        subscriber = self.get_subscriber(subscriber_id)
        effective, now = self._times(effective_at)
        subscriber.set_payment_method(
            gateway=gateway, token=token, effective_at=effective, recorded_at=now
        )
        return self._commit(subscriber, result=subscriber, idempotency=idempotency)

    # -- subscriptions -------------------------------------------------------------------

    def _plan_reference(self, plan_id: str) -> Plan:
        try:
            return self.get_plan(plan_id)
        except PlanNotFound:
            raise UnknownReference(f"plan_id {plan_id!r} names no plan") from None

    def _coupon_reference(self, coupon_id: str, effective: datetime) -> Coupon:
        try:
            coupon = self.get_coupon(coupon_id)
        except CouponNotFound:
            raise UnknownReference(f"coupon {coupon_id!r} names no coupon") from None
        if coupon.created_effective_at > effective:
            raise NotYetAvailable(
                f"coupon {coupon_id} did not exist at {isoformat(effective)}"
            )
        return coupon

    def start_subscription(
        self,
        subscriber_id: UUID,
        *,
        plan_id: str,
        quantity: int = 1,
        trial_days: int | None = None,
        coupon: str | None = None,
        effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Subscription:
        effective, now = self._times(effective_at)
        subscriber = self.get_subscriber(subscriber_id)
        plan = self._plan_reference(plan_id)
        coupon_terms = self._coupon_reference(coupon, effective).terms() if coupon else None
        if effective < subscriber.registered_at:
            raise NotYetAvailable(
                f"subscriber {subscriber_id} was registered at {isoformat(subscriber.registered_at)},"
                f" after effective_at {isoformat(effective)}"
            )
        subscription = Subscription.start(
            subscriber_id=subscriber.id, terms=plan.terms_at(effective), quantity=quantity,
            trial_days=trial_days, effective_at=effective, recorded_at=now, coupon=coupon_terms,
        )
        subscription, _ = self.settle(
            subscription, effective, now, idempotency=idempotency,
            links=[SubscriberLink(subscriber.id, subscription.id)], as_answer=True,
        )
        return subscription

    def get_subscription(self, subscription_id: UUID) -> Subscription:
        return self._load(
            subscription_id, Subscription,
            SubscriptionNotFound(f"no subscription {subscription_id}"),
        )

    def _on_subscription(
        self,
        subscription_id: UUID,
        effective_at: datetime | None,
        idempotency: IdempotentRequest | None,
        decide: Callable[[Subscription, datetime, datetime], None],
    ) -> Subscription:
        subscription = self.get_subscription(subscription_id)
        # The clock is read after loading: a default effective_at is then never earlier than
        # the last event of the version loaded, and losing a race is a concurrent change.
        effective, now = self._times(effective_at)
        subscription.check_effective_at(effective)
        return self._decide_and_settle(subscription, effective, now, decide, idempotency)[0]

    def _decide_and_settle(
        self,
        subscription: Subscription,
        effective: datetime,
        now: datetime,
        decide: Callable[[Subscription, datetime, datetime], Any],
        idempotency: IdempotentRequest | None,
        result_of: Callable[[Subscription, Any], Any] = lambda s, _: s,
    ) -> tuple[Subscription, Any]:
        """A command on a subscription: first what is due up to its effective_at (charges
        included, saved), then its decision, then the charges the decision makes due.

        The decision is tried first on a copy, with every due charge assumed paid, so that
        a command refused for its input appends nothing, not even what was due."""
        probe = copy.deepcopy(subscription)
        probe.advance_to(effective, recorded_at=now, pay=_assume_paid)
        decide(probe, effective, now)
        subscription = self._settle_before(subscription, effective, now)
        outcome = decide(subscription, effective, now)
        subscription, _ = self.settle(subscription, effective, now, idempotency=idempotency,
                                      result_of=lambda s: result_of(s, outcome), as_answer=True)
        return subscription, outcome

    def change_subscription(
        self,
        subscription_id: UUID,
        *,
        plan_id: str | None = None,
        quantity: int | None = None,
        when: str = "now",
        effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Subscription:
        plan = self._plan_reference(plan_id) if plan_id is not None else None

        def decide(sub: Subscription, effective: datetime, now: datetime) -> None:
            terms = plan.terms_at(effective) if plan is not None else None
            sub.change(terms=terms, quantity=quantity, when=when, effective_at=effective,
                       recorded_at=now)

        return self._on_subscription(subscription_id, effective_at, idempotency, decide)

    def cancel_subscription(
        self,
        subscription_id: UUID,
        *,
        when: str = "now",
        at: datetime | None = None,
        reason: str | None = None,
        effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Subscription:
        def decide(sub: Subscription, effective: datetime, now: datetime) -> None:
            sub.cancel(when=when, at=at, comment=reason, effective_at=effective, recorded_at=now)

        return self._on_subscription(subscription_id, effective_at, idempotency, decide)

    def revoke_cancellation(
        self,
        subscription_id: UUID,
        *,
        effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Subscription:
        def decide(sub: Subscription, effective: datetime, now: datetime) -> None:
            sub.revoke_cancellation(effective_at=effective, recorded_at=now)

        return self._on_subscription(subscription_id, effective_at, idempotency, decide)

    def pause_subscription(
        self,
        subscription_id: UUID,
        *,
        effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Subscription:
        def decide(sub: Subscription, effective: datetime, now: datetime) -> None:
            sub.pause(effective_at=effective, recorded_at=now)

        return self._on_subscription(subscription_id, effective_at, idempotency, decide)

    def resume_subscription(
        self,
        subscription_id: UUID,
        *,
        effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Subscription:
        def decide(sub: Subscription, effective: datetime, now: datetime) -> None:
            sub.resume(effective_at=effective, recorded_at=now)

        return self._on_subscription(subscription_id, effective_at, idempotency, decide)

    def apply_coupon(
        self,
        subscription_id: UUID,
        *,
        coupon: str,
        effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> Subscription:
        def decide(sub: Subscription, effective: datetime, now: datetime) -> None:
            terms = self._coupon_reference(coupon, effective).terms()
            sub.apply_coupon(terms, effective_at=effective, recorded_at=now)

        return self._on_subscription(subscription_id, effective_at, idempotency, decide)

    # -- billing -------------------------------------------------------------------------
    #
    # Money moves in two phases. The decision that needs a gateway (an invoice with an
    # attempt due, a refund requested) is saved first; only then is the gateway asked, under
    # an idempotency key derived from that saved decision; its answer is saved next. A
    # command that loses a race therefore never reached a gateway, and an answer that is
    # lost (a crash, a race on the second save) is asked for again under the same key, which
    # the gateway answers without moving money twice.

    def settle(
        self,
        subscription: Subscription,
        instant: datetime,
        now: datetime,
        *,
        idempotency: IdempotentRequest | None = None,
        result_of: Callable[[Subscription], Any] = lambda s: s,
        links: Iterable[SubscriberLink] = (),
        observe: Callable[[list[Any]], None] | None = None,
        as_answer: bool = False,
    ) -> tuple[Subscription, bool]:
        """Save the subscription's pending decision and everything due up to ``instant``,
        taking charges and refunds to their gateways after the step that needs them is
        saved. Returns the subscription as last saved, and whether everything due was done
        (False when a gateway was unavailable: the attempt stays due for the next try). With
        ``as_answer``, if another writer saved in between, the state returned is the one this
        call last saved (the later state is the other writer's doing), for the command's answer.

        The first save carries the caller's decision; if it loses a race,
        :class:`ConcurrentModification` is raised and no gateway was asked. Later saves
        that lose a race reload and carry on: the decision is already durable."""
        durable = False
        saved: Subscription | None = None
        answer: Subscription | None = None
        links = list(links)
        for _ in range(MAX_SETTLE_ROUNDS):
            intent = subscription.next_step(instant, recorded_at=now)
            refunds = subscription.pending_refund_intents() if intent is None else []
            final = intent is None and not refunds
            events = list(subscription.pending_events)
            try:
                # The idempotency answer goes with the decision (the first save), so a key
                # can never be spent twice; it shows the state the decision recorded.
                self._commit(
                    subscription,
                    result=result_of(subscription),
                    idempotency=idempotency if not durable else None,
                    links=links if not durable else (),
                )
            except ConcurrentModification:
                if not durable:
                    raise
                # Another writer came in between: carry on from its state, but answer with
                # the state this command last saved (the later state is another's doing).
                answer = answer or saved
                subscription = self.get_subscription(subscription.id)
                continue
            durable = True
            saved = copy.deepcopy(subscription)
            if observe is not None:
                observe(events)
            if final:
                return (answer or subscription) if as_answer else subscription, True
            try:
                if intent is not None:
                    self.take_charge(subscription, intent, now)
                else:
                    self.take_refunds(subscription, refunds, now)
            except GatewayUnavailable as error:
                logger.warning("gateway unavailable for subscription %s: %s", subscription.id, error)
                return (answer or subscription) if as_answer else subscription, False
        raise RuntimeError(f"subscription {subscription.id} did not settle")  # pragma: no cover

    def take_charge(self, subscription: Subscription, intent: ChargeIntent, now: datetime) -> None:
        """Ask the subscriber's gateway for a saved charge attempt and record its answer on
        the aggregate (saved by the caller). Raises :class:`GatewayUnavailable`."""
        subscriber = self.get_subscriber(subscription.subscriber_id)
        method = subscriber.payment_method
        if method is None:
            outcome = ChargeOutcome(False, None, None, NO_PAYMENT_METHOD)
        else:
            gateway = self.payment_gateways.get(method["gateway"])
            if gateway is None:
                raise GatewayUnavailable(f"gateway {method['gateway']!r} is not configured")
            result = gateway.charge(ChargeRequest(
                idempotency_key=f"subledger-{intent.charge_id}",
                amount=intent.amount, currency=intent.currency, token=method["token"],
                customer_ref=str(subscription.subscriber_id),
                description=f"subscription {subscription.id} invoice {intent.invoice_id}",
                attempt=intent.attempt,
                metadata={"subscription_id": str(subscription.id), "invoice_id": intent.invoice_id},
            ))
            outcome = ChargeOutcome(result.succeeded, gateway.name, result.gateway_ref,
                                    result.decline_code)
        subscription.record_charge(intent, outcome, recorded_at=now)

    def take_refunds(self, subscription: Subscription, intents: list[RefundIntent], now: datetime) -> None:
        """Ask the charges' gateways for saved refund requests and record their answers."""
        for intent in intents:
            gateway = self.payment_gateways.get(intent.gateway or "")
            if gateway is None:
                raise GatewayUnavailable(f"gateway {intent.gateway!r} is not configured")
            refund = gateway.refund(RefundRequest(
                idempotency_key=f"subledger-{intent.refund_id}",
                charge_gateway_ref=intent.charge_gateway_ref or "",
                amount=intent.amount, currency=intent.currency, reason=intent.reason,
            ))
            subscription.record_refund_outcome(
                intent, succeeded=refund.succeeded, gateway_ref=refund.gateway_ref,
                failure_code=refund.failure_code, recorded_at=now,
            )

    def _settle_before(self, subscription: Subscription, instant: datetime, now: datetime) -> Subscription:
        """What is due before a command's own decision; refuse the command (nothing of it
        done) if a gateway it needs first is unavailable."""
        due = subscription.next_due()
        if (due is None or due > instant) and not subscription.pending_refunds:
            return subscription
        subscription, complete = self.settle(subscription, instant, now)
        if not complete:
            raise GatewayUnavailableError(
                "a payment due before this command could not be taken (gateway unavailable);"
                " the command was not performed, retry later"
            )
        return subscription

    def save_billing(self, *subscriptions: Subscription) -> None:
        """Save what a billing run decided (also when it decided nothing: the agenda row
        moves on, so the next run does not look at this subscription again)."""
        self._commit(*subscriptions, result=None, idempotency=None)

    def record_charge(
        self,
        subscription_id: UUID,
        *,
        amount: int,
        currency: str,
        gateway: str,
        gateway_ref: str,
        effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> tuple[Subscription, str]:
        """A payment taken outside the billing clock (returns the subscription and the
        charge id)."""
        if gateway not in self.gateways:
            raise UnknownGateway(
                f"gateway {gateway!r} is not configured; configured: {', '.join(sorted(self.gateways))}"
            )
        subscription = self.get_subscription(subscription_id)
        effective, now = self._times(effective_at)
        subscription.check_effective_at(effective)

        def decide(sub: Subscription, effective: datetime, now: datetime) -> str:
            return sub.record_manual_charge(
                amount=amount, currency=normalize_currency(currency), gateway=gateway,
                gateway_ref=gateway_ref, effective_at=effective, recorded_at=now,
            )

        return self._decide_and_settle(subscription, effective, now, decide, idempotency,
                                       result_of=lambda s, charge_id: (s, charge_id))

    def refund_charge(
        self,
        charge_id: str,
        *,
        amount: int,
        reason: str | None = None,
        effective_at: datetime | None = None,
        idempotency: IdempotentRequest | None = None,
    ) -> tuple[Subscription, str]:
        """Refund at most what is left of a succeeded charge through its gateway: the refund
        is requested (and saved), then sent, then its outcome saved. Returns the
        subscription and the refund id; the refund's state is in ``pending_refunds`` or the
        log (``RefundIssued`` / ``RefundFailed``)."""
        subscription_id = self.store_recorder.select_charge_subscription(charge_id)
        if subscription_id is None:
            raise ChargeNotFound(f"no succeeded charge {charge_id!r}")
        subscription = self.get_subscription(subscription_id)
        effective, now = self._times(effective_at)
        subscription.check_effective_at(effective)

        def decide(sub: Subscription, effective: datetime, now: datetime) -> str:
            return sub.request_refund(charge_id, amount, reason=reason, effective_at=effective,
                                      recorded_at=now).refund_id

        return self._decide_and_settle(subscription, effective, now, decide, idempotency,
                                       result_of=lambda s, refund_id: (s, refund_id))

    # -- reporting periods -----------------------------------------------------------------

    def close_period(
        self,
        period: str,
        *,
        position: int,
        metrics_versions: list[str],
        figures: dict[str, Any],
        idempotency: IdempotentRequest | None = None,
    ) -> ReportingPeriod:
        """Seal a month's figures as known now (computed by the caller from the reports)."""
        effective, now = self._times(None)
        closed = ReportingPeriod.close(period=period, position=position,
                                       metrics_versions=metrics_versions, figures=figures,
                                       effective_at=effective, recorded_at=now)
        already = PeriodAlreadyClosed(f"{period} is already closed")
        if self._exists(closed.id):
            raise already
        return self._commit(closed, result=closed, idempotency=idempotency, on_conflict=already)

    # -- listing -------------------------------------------------------------------------

    def list_created(
        self, type_name: str, cls: type[A], after: int, limit: int
    ) -> tuple[list[A], int | None]:
        """Aggregates in the order they were created, a keyset page after position ``after``."""
        rows = self.event_log.originators(type_name, after, limit)
        items = [self._load(aggregate_id, cls, NotFound(f"aggregate {aggregate_id} vanished")) for _, aggregate_id in rows]
        next_cursor = rows[-1][0] if len(rows) == limit else None
        return items, next_cursor
