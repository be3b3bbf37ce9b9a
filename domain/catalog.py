"""The catalog: plans with versioned prices, and coupons.

A plan's price is versioned: a new price is a new version, and a subscription keeps the
version it started on (grandfathering) until it changes plan. Plans and coupons have
client-chosen ids (slugs); their aggregate ids are uuid5 of those, so the store itself
refuses a second plan or coupon with the same id, in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from .base import LedgerAggregate
from .errors import InvalidInput, NotYetAvailable
from .money import check_amount, normalize_currency
from .periods import Interval, add_months
from .text import check_identifier, check_name
from .time import isoformat

PLAN_NAMESPACE = uuid5(NAMESPACE_URL, "https://subledger.dev/ns/plan")
COUPON_NAMESPACE = uuid5(NAMESPACE_URL, "https://subledger.dev/ns/coupon")
MAX_TRIAL_DAYS = 730
MAX_REPEATING_MONTHS = 120


def check_trial_days(days: int) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_TRIAL_DAYS:
        raise InvalidInput(f"trial_days must be an integer from 0 to {MAX_TRIAL_DAYS}")
    return days


def plan_aggregate_id(plan_id: str) -> UUID:
    return uuid5(PLAN_NAMESPACE, plan_id)


def coupon_aggregate_id(coupon_id: str) -> UUID:
    return uuid5(COUPON_NAMESPACE, coupon_id)


@dataclass(frozen=True)
class PlanTerms:
    """One version of a plan, as a subscription is priced on it."""

    plan_id: str
    version: int
    tier: str
    amount: int
    currency: str
    interval: Interval
    trial_days: int


class Plan(LedgerAggregate):
    """A plan of the catalog and the history of its price versions."""

    plan_id: str
    name: str
    tier: str
    currency: str
    interval: Interval
    trial_days: int
    versions: list[dict[str, Any]]

    def __init__(self) -> None:
        """State comes from the events' ``apply`` alone (the annotations above document it)."""

    class PlanCreated(LedgerAggregate.Created):
        """A plan was added to the catalog with its first price (version 1): an amount per
        billing interval in one currency, and the length of its trial."""

        plan_id: str
        name: str
        tier: str
        currency: str
        amount: int
        interval: str
        trial_days: int
        version: int

        def evolve(self, aggregate: Any) -> None:
            aggregate.plan_id = self.plan_id
            aggregate.name = self.name
            aggregate.tier = self.tier
            aggregate.currency = self.currency
            aggregate.interval = Interval(self.interval)
            aggregate.trial_days = self.trial_days
            aggregate.versions = [
                {"version": self.version, "amount": self.amount, "effective_at": self.effective_at}
            ]

    class PlanPriceVersionAdded(LedgerAggregate.Event):
        """A plan got a new price version, in force from this event's ``effective_at`` for new
        subscriptions and changes to the plan. Existing subscriptions keep the version they
        are on."""

        version: int
        amount: int
        currency: str

        def evolve(self, aggregate: Any) -> None:
            aggregate.versions.append(
                {"version": self.version, "amount": self.amount, "effective_at": self.effective_at}
            )

    @classmethod
    def create(
        cls,
        *,
        plan_id: str,
        name: str,
        tier: str,
        currency: str,
        amount: int,
        interval: str,
        trial_days: int,
        effective_at: datetime,
        recorded_at: datetime,
    ) -> Plan:
        return cls._create(
            cls.PlanCreated,
            id=plan_aggregate_id(check_identifier(plan_id, "plan_id")),
            timestamp=recorded_at,
            effective_at=effective_at,
            plan_id=plan_id,
            name=check_name(name, "name"),
            tier=check_identifier(tier, "tier"),
            currency=normalize_currency(currency),
            amount=check_amount(amount),
            interval=Interval.parse(interval).value,
            trial_days=check_trial_days(trial_days),
            version=1,
        )

    def add_price(self, *, amount: int, effective_at: datetime, recorded_at: datetime) -> None:
        """A new price version; subscriptions already on the plan keep theirs."""
        check_amount(amount)
        self.check_effective_at(effective_at)
        self.trigger_event(
            self.PlanPriceVersionAdded,
            timestamp=recorded_at,
            effective_at=effective_at,
            version=self.latest_version + 1,
            amount=amount,
            currency=self.currency,
        )

    @property
    def latest_version(self) -> int:
        return int(self.versions[-1]["version"])

    @property
    def amount(self) -> int:
        """The current (latest) price."""
        return int(self.versions[-1]["amount"])

    @property
    def created_effective_at(self) -> datetime:
        return self.versions[0]["effective_at"]  # type: ignore[no-any-return]

    def terms_at(self, instant: datetime) -> PlanTerms:
        """The price version in force at ``instant`` (for a new subscription or a change)."""
        in_force = [v for v in self.versions if v["effective_at"] <= instant]
        if not in_force:
            raise NotYetAvailable(
                f"plan {self.plan_id} did not exist at {isoformat(instant)} "
                f"(created effective {isoformat(self.created_effective_at)})"
            )
        return self.terms(int(in_force[-1]["version"]))

    def terms(self, version: int) -> PlanTerms:
        entry = self.versions[version - 1]
        return PlanTerms(
            plan_id=self.plan_id,
            version=int(entry["version"]),
            tier=self.tier,
            amount=int(entry["amount"]),
            currency=self.currency,
            interval=self.interval,
            trial_days=self.trial_days,
        )


DURATIONS = ("once", "repeating", "forever")


PERCENT = ("^(100(\\.0{1,4})?|[1-9][0-9]?(\\.[0-9]{1,4})?"
           "|0\\.([1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]?|000[1-9]))$")
"""A percent off written as text: more than 0, at most 100, at most 4 decimal places, no
sign, exponent or leading zero."""
_PERCENT = re.compile(PERCENT)


def parse_percent(value: Decimal | int | str) -> Decimal:
    """A percent off from a Decimal, a whole number or text written as :data:`PERCENT`."""
    if isinstance(value, bool) or isinstance(value, float) or (
            isinstance(value, str) and not _PERCENT.fullmatch(value)):
        raise InvalidInput("percent_off must be a whole number or a decimal written as text,"
                           " more than 0 and at most 100, with at most 4 decimal places")
    try:
        percent = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput("percent_off must be a decimal number") from None
    if not percent.is_finite() or not Decimal(0) < percent <= Decimal(100):
        raise InvalidInput("percent_off must be more than 0 and at most 100")
    if percent.as_tuple().exponent < -4:  # type: ignore[operator]
        raise InvalidInput("percent_off may have at most 4 decimal places")
    # Canonical text: "20" not "2E+1" or "20.00"; "12.5" not "12.50".
    return Decimal(int(percent)) if percent == percent.to_integral_value() else percent.normalize()


@dataclass(frozen=True)
class CouponTerms:
    """A coupon as it is applied to a subscription."""

    coupon_id: str
    percent_off: Decimal | None
    amount_off: int | None
    currency: str | None
    duration: str
    duration_in_months: int | None

    def ends_at(self, applied_at: datetime) -> datetime | None:
        """When a ``repeating`` coupon stops applying; None for ``once`` and ``forever``."""
        if self.duration == "repeating" and self.duration_in_months:
            return add_months(applied_at, self.duration_in_months)
        return None


class Coupon(LedgerAggregate):
    """A discount: percent-off or amount-off, once, repeating for N months, or forever."""

    coupon_id: str
    name: str | None
    percent_off: Decimal | None
    amount_off: int | None
    currency: str | None
    duration: str
    duration_in_months: int | None

    def __init__(self) -> None:
        """State comes from the events' ``apply`` alone (the annotations above document it)."""

    class CouponCreated(LedgerAggregate.Created):
        """A coupon was added to the catalog: a percentage or an amount off, for one invoice, a
        number of months, or forever."""

        coupon_id: str
        name: str | None
        percent_off: Decimal | None
        amount_off: int | None
        currency: str | None
        duration: str
        duration_in_months: int | None

        def evolve(self, aggregate: Any) -> None:
            aggregate.coupon_id = self.coupon_id
            aggregate.name = self.name
            aggregate.percent_off = self.percent_off
            aggregate.amount_off = self.amount_off
            aggregate.currency = self.currency
            aggregate.duration = self.duration
            aggregate.duration_in_months = self.duration_in_months

    @classmethod
    def create(
        cls,
        *,
        coupon_id: str,
        percent_off: Decimal | int | str | None,
        amount_off: int | None,
        currency: str | None,
        duration: str,
        duration_in_months: int | None,
        effective_at: datetime,
        recorded_at: datetime,
        name: str | None = None,
    ) -> Coupon:
        check_identifier(coupon_id, "coupon_id")
        if (percent_off is None) == (amount_off is None):
            raise InvalidInput("a coupon has exactly one of percent_off or amount_off")
        percent: Decimal | None = None
        if percent_off is not None:
            percent = parse_percent(percent_off)
            if currency is not None:
                raise InvalidInput("currency is only for amount_off coupons")
        else:
            check_amount(amount_off, "amount_off")  # type: ignore[arg-type]
            if amount_off == 0:
                raise InvalidInput("amount_off must be more than 0")
            if currency is None:
                raise InvalidInput("an amount_off coupon needs a currency")
            currency = normalize_currency(currency)
        if duration not in DURATIONS:
            raise InvalidInput("duration must be one of once, repeating, forever")
        if duration == "repeating":
            if (
                isinstance(duration_in_months, bool)
                or not isinstance(duration_in_months, int)
                or not 1 <= duration_in_months <= MAX_REPEATING_MONTHS
            ):
                raise InvalidInput(
                    f"a repeating coupon needs duration_in_months from 1 to {MAX_REPEATING_MONTHS}"
                )
        elif duration_in_months is not None:
            raise InvalidInput("duration_in_months is only for repeating coupons")
        if name is not None:
            check_name(name, "name")
        return cls._create(
            cls.CouponCreated,
            id=coupon_aggregate_id(coupon_id),
            timestamp=recorded_at,
            effective_at=effective_at,
            coupon_id=coupon_id,
            name=name,
            percent_off=percent,
            amount_off=amount_off,
            currency=currency,
            duration=duration,
            duration_in_months=duration_in_months,
        )

    @property
    def created_effective_at(self) -> datetime:
        return self.last_effective_at

    def terms(self) -> CouponTerms:
        return CouponTerms(
            coupon_id=self.coupon_id,
            percent_off=self.percent_off,
            amount_off=self.amount_off,
            currency=self.currency,
            duration=self.duration,
            duration_in_months=self.duration_in_months,
        )
