"""Plans of the catalog, with versioned prices.

A plan's price is versioned: a new price is a new version, and a subscription keeps the
version it started on (grandfathering) until it changes plan. An archived plan is off sale:
subscriptions already on it keep it, nothing new starts on or moves to it. A plan has a
client-chosen id
(a slug); its aggregate id is uuid5 of it, so the store itself refuses a second plan with
the same id, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from .base import LedgerAggregate
from .errors import InvalidInput, NotYetAvailable, PlanIsArchived
from .money import check_amount, check_settleable, normalize_currency
from .periods import Interval
from .text import check_identifier, check_name
from .time import isoformat

PLAN_NAMESPACE = uuid5(NAMESPACE_URL, "https://subledger.dev/ns/plan")
MAX_TRIAL_DAYS = 730

STORED_UNDER = "subledger.domain.catalog:Plan"
"""The topic under which the store has always written plans (they were first defined in
``catalog``): a plan's created events name it, and each plan event's topic is it plus the
event's name, wherever the classes are defined, so stored events stay readable when code
moves. ``catalog`` still exports :class:`Plan`, so the topics also resolve by import."""


def check_trial_days(days: int) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_TRIAL_DAYS:
        raise InvalidInput(f"trial_days must be an integer from 0 to {MAX_TRIAL_DAYS}")
    return days


def plan_aggregate_id(plan_id: str) -> UUID:
    return uuid5(PLAN_NAMESPACE, plan_id)


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


class PlanEvent(LedgerAggregate.Event):
    """The base of every plan event: its stored topic is fixed (see :data:`STORED_UNDER`)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.TOPIC = f"{STORED_UNDER}.{cls.__name__}"


class Plan(LedgerAggregate):
    """A plan of the catalog and the history of its price versions."""

    TOPIC = STORED_UNDER

    class Created(PlanEvent, LedgerAggregate.Created):
        """Unused: the library defines ``Created`` on every aggregate, and with an explicit
        topic each event class of the aggregate needs one."""

    plan_id: str
    name: str
    tier: str
    currency: str
    interval: Interval
    trial_days: int
    versions: list[dict[str, Any]]
    archived_at: datetime | None

    def __init__(self) -> None:
        """State comes from the events' ``apply`` alone (the annotations above document it)."""

    class PlanCreated(PlanEvent, LedgerAggregate.Created):
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
            aggregate.archived_at = None

    class PlanPriceVersionAdded(PlanEvent):
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

    class PlanArchived(PlanEvent):
        """The plan is off sale from `effective_at` on: no new subscription starts on it and
        no subscription changes to it; subscriptions already on it keep it."""

        plan_id: str

        def evolve(self, aggregate: Any) -> None:
            aggregate.archived_at = self.effective_at

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
            amount=check_settleable(check_amount(amount), normalize_currency(currency)),
            interval=Interval.parse(interval).value,
            trial_days=check_trial_days(trial_days),
            version=1,
        )

    def add_price(self, *, amount: int, effective_at: datetime, recorded_at: datetime) -> None:
        """A new price version; subscriptions already on the plan keep theirs. An archived
        plan takes none: nothing new could be priced on it."""
        check_settleable(check_amount(amount), self.currency)
        self.check_effective_at(effective_at)
        self._check_on_sale(effective_at)
        self.trigger_event(
            self.PlanPriceVersionAdded,
            timestamp=recorded_at,
            effective_at=effective_at,
            version=self.latest_version + 1,
            amount=amount,
            currency=self.currency,
        )

    def archive(self, *, effective_at: datetime, recorded_at: datetime) -> None:
        """Take the plan off sale from ``effective_at`` on (once: a second archive is
        refused, see :class:`PlanIsArchived`)."""
        if self.archived_at is not None:
            raise PlanIsArchived(f"plan {self.plan_id} was archived at {isoformat(self.archived_at)}")
        self.check_effective_at(effective_at)
        self.trigger_event(self.PlanArchived, timestamp=recorded_at, effective_at=effective_at,
                           plan_id=self.plan_id)

    def offered_at(self, instant: datetime) -> PlanTerms:
        """The price version a new subscription on this plan takes at ``instant``: the one
        in force, unless the plan was archived by then."""
        self._check_on_sale(instant)
        return self.terms_at(instant)

    def change_terms(self, current_plan_id: str, instant: datetime) -> PlanTerms:
        """The terms a subscription on ``current_plan_id`` that names this plan in a change
        at ``instant`` moves to. Naming the plan it is already on is no move to it (the
        subscription keeps its version), so that stays allowed once the plan is archived."""
        if current_plan_id == self.plan_id:
            return self.terms_at(instant)
        return self.offered_at(instant)

    def _check_on_sale(self, instant: datetime) -> None:
        if self.archived_at is not None and self.archived_at <= instant:
            raise PlanIsArchived(
                f"plan {self.plan_id} was archived at {isoformat(self.archived_at)}: it takes"
                " no new subscription, change to it or price")

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
