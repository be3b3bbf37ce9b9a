"""Pure factories shared by the tests: instants, plan terms, aggregates, and payers.

Nothing here reads a clock or touches a store; every instant is passed in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from subledger.domain.charges import ChargeIntent, ChargeOutcome, Payer
from subledger.domain.coupons import Coupon
from subledger.domain.periods import Interval
from subledger.domain.plans import Plan, PlanTerms
from subledger.domain.subscription import Subscription

RECORDED_AT = datetime(2030, 1, 1, tzinfo=UTC)
"""A fixed server clock for events whose recorded_at does not matter to the test."""


SUBSCRIBER_ID = UUID("00000000-0000-4000-8000-000000000001")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
    microsecond: int = 0,
) -> datetime:
    """A UTC instant."""
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=UTC)


def plan_terms(
    plan_id: str = "basic",
    *,
    version: int = 1,
    tier: str | None = None,
    amount: int = 1000,
    currency: str = "USD",
    interval: Interval | str = Interval.MONTH,
    trial_days: int = 0,
) -> PlanTerms:
    """One version of a plan as a subscription is priced on it (no Plan aggregate needed)."""
    return PlanTerms(
        plan_id=plan_id,
        version=version,
        tier=tier if tier is not None else plan_id,
        amount=amount,
        currency=currency,
        interval=Interval(interval),
        trial_days=trial_days,
    )


def pay_ok(intent: ChargeIntent) -> ChargeOutcome:
    """A payer whose every charge succeeds (a working card); the gateway reference is
    derived from the charge id, so the same attempt always gets the same reference."""
    return ChargeOutcome(succeeded=True, gateway="sandbox", gateway_ref=f"sb_ch_{intent.charge_id}")


def pay_declined(intent: ChargeIntent) -> ChargeOutcome:
    """A payer whose every charge is declined (``card_declined``)."""
    return ChargeOutcome(succeeded=False, gateway="sandbox", gateway_ref=f"sb_ch_{intent.charge_id}",
                         decline_code="card_declined")


def pay_fail_first(intent: ChargeIntent) -> ChargeOutcome:
    """A payer that declines the first attempt at each invoice and accepts every retry."""
    return pay_declined(intent) if intent.attempt == 1 else pay_ok(intent)


PAYERS: dict[str, Payer] = {"ok": pay_ok, "declined": pay_declined, "fail_first": pay_fail_first}
"""The sandbox cards' rules, without a gateway, by name (for a property to draw from)."""


def start_subscription(
    terms: PlanTerms | None = None,
    *,
    at: datetime,
    quantity: int = 1,
    trial_days: int | None = None,
    subscriber_id: UUID = SUBSCRIBER_ID,
    recorded_at: datetime = RECORDED_AT,
    pay: Payer | None = None,
) -> Subscription:
    """A subscription started at ``at``, its events still pending: SubscriptionStarted and,
    without a trial, the first InvoiceIssued; with ``pay``, also the charge of that invoice
    (without, that charge is still due at ``at``)."""
    subscription = Subscription.start(
        subscriber_id=subscriber_id,
        terms=terms if terms is not None else plan_terms(),
        quantity=quantity,
        trial_days=trial_days,
        effective_at=at,
        recorded_at=recorded_at,
    )
    if pay is not None:
        subscription.advance_to(at, recorded_at=recorded_at, pay=pay)
    return subscription


def create_plan(**overrides: Any) -> Plan:
    """A valid plan; any keyword of ``Plan.create`` may be overridden."""
    fields: dict[str, Any] = {
        "plan_id": "basic",
        "name": "Basic",
        "tier": "basic",
        "currency": "USD",
        "amount": 1000,
        "interval": "month",
        "trial_days": 0,
        "effective_at": utc(2026, 1, 1),
        "recorded_at": RECORDED_AT,
    }
    fields.update(overrides)
    return Plan.create(**fields)


def create_coupon(**overrides: Any) -> Coupon:
    """A valid 20 %-off forever coupon; any keyword of ``Coupon.create`` may be overridden."""
    fields: dict[str, Any] = {
        "coupon_id": "twenty",
        "percent_off": 20,
        "amount_off": None,
        "currency": None,
        "duration": "forever",
        "duration_in_months": None,
        "effective_at": utc(2026, 1, 1),
        "recorded_at": RECORDED_AT,
    }
    fields.update(overrides)
    return Coupon.create(**fields)


def event_names(events: list[Any]) -> list[str]:
    """The type names of events, in order."""
    return [type(event).__name__ for event in events]


def replay(events: list[Any]) -> Any:
    """An aggregate rebuilt from its events alone, as the store would load it."""
    aggregate = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def state(aggregate: Any) -> dict[str, Any]:
    """An aggregate's attributes, without its pending (unsaved) events."""
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def event_record(event: Any) -> tuple[str, datetime, dict[str, Any]]:
    """(type, effective_at, data) of a domain event: everything but its recorded_at."""
    data = {k: v for k, v in vars(event).items() if k not in ("timestamp", "effective_at")}
    return type(event).__name__, event.effective_at, data
