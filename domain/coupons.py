"""Coupons of the catalog: percent-off or amount-off, once, repeating for N months, or
forever.

A coupon has a client-chosen id (a slug); its aggregate id is uuid5 of it, so the store
itself refuses a second coupon with the same id, in the same transaction. An archived coupon
is no longer applied; subscriptions that have it keep it for as long as its duration runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from .base import LedgerAggregate
from .errors import CouponIsArchived, InvalidInput, NotYetAvailable
from .money import check_amount, check_settleable, normalize_currency
from .periods import add_months
from .text import check_identifier, check_name
from .time import isoformat

COUPON_NAMESPACE = uuid5(NAMESPACE_URL, "https://subledger.dev/ns/coupon")
MAX_REPEATING_MONTHS = 120
DURATIONS = ("once", "repeating", "forever")

STORED_UNDER = "subledger.domain.catalog:Coupon"
"""The topic under which the store has always written coupons (they were first defined in
``catalog``), kept for the same reason as :data:`subledger.domain.plans.STORED_UNDER`."""

PERCENT = ("^(100(\\.0{1,4})?|[1-9][0-9]?(\\.[0-9]{1,4})?"
           "|0\\.([1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]?|000[1-9]))$")
"""A percent off written as text: more than 0, at most 100, at most 4 decimal places, no
sign, exponent or leading zero."""
_PERCENT = re.compile(PERCENT)


def coupon_aggregate_id(coupon_id: str) -> UUID:
    return uuid5(COUPON_NAMESPACE, coupon_id)


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


def _check_duration(duration: str, duration_in_months: int | None) -> None:
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


def _check_discount(percent_off: Decimal | int | str | None, amount_off: int | None,
                    currency: str | None) -> tuple[Decimal | None, str | None]:
    """(percent, currency) of a coupon with exactly one of percent_off or amount_off."""
    if (percent_off is None) == (amount_off is None):
        raise InvalidInput("a coupon has exactly one of percent_off or amount_off")
    if percent_off is not None:
        percent = parse_percent(percent_off)
        if currency is not None:
            raise InvalidInput("currency is only for amount_off coupons")
        return percent, None
    check_amount(amount_off, "amount_off")  # type: ignore[arg-type]
    if amount_off == 0:
        raise InvalidInput("amount_off must be more than 0")
    if currency is None:
        raise InvalidInput("an amount_off coupon needs a currency")
    code = normalize_currency(currency)
    check_settleable(amount_off, code, "amount_off")  # type: ignore[arg-type]
    return None, code


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


class CouponEvent(LedgerAggregate.Event):
    """The base of every coupon event: its stored topic is fixed (see :data:`STORED_UNDER`)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.TOPIC = f"{STORED_UNDER}.{cls.__name__}"


class Coupon(LedgerAggregate):
    """A discount: percent-off or amount-off, once, repeating for N months, or forever."""

    TOPIC = STORED_UNDER

    class Created(CouponEvent, LedgerAggregate.Created):
        """Unused: the library defines ``Created`` on every aggregate, and with an explicit
        topic each event class of the aggregate needs one."""

    coupon_id: str
    name: str | None
    percent_off: Decimal | None
    amount_off: int | None
    currency: str | None
    duration: str
    duration_in_months: int | None
    created_effective_at: datetime
    archived_at: datetime | None

    def __init__(self) -> None:
        """State comes from the events' ``apply`` alone (the annotations above document it)."""

    class CouponCreated(CouponEvent, LedgerAggregate.Created):
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
            aggregate.created_effective_at = self.effective_at
            aggregate.archived_at = None

    class CouponArchived(CouponEvent):
        """The coupon is no longer applied from `effective_at` on; subscriptions that have it
        keep it for as long as its duration runs."""

        coupon_id: str

        def evolve(self, aggregate: Any) -> None:
            aggregate.archived_at = self.effective_at

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
        percent, currency = _check_discount(percent_off, amount_off, currency)
        _check_duration(duration, duration_in_months)
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

    def archive(self, *, effective_at: datetime, recorded_at: datetime) -> None:
        """Stop applying the coupon from ``effective_at`` on (once: a second archive is
        refused, see :class:`CouponIsArchived`)."""
        if self.archived_at is not None:
            raise CouponIsArchived(
                f"coupon {self.coupon_id} was archived at {isoformat(self.archived_at)}")
        self.check_effective_at(effective_at)
        self.trigger_event(self.CouponArchived, timestamp=recorded_at,
                           effective_at=effective_at, coupon_id=self.coupon_id)

    def offered_at(self, instant: datetime) -> CouponTerms:
        """The coupon's terms, to apply at ``instant``: it must exist by then and not have
        been archived."""
        if self.created_effective_at > instant:
            raise NotYetAvailable(f"coupon {self.coupon_id} did not exist at {isoformat(instant)}")
        if self.archived_at is not None and self.archived_at <= instant:
            raise CouponIsArchived(
                f"coupon {self.coupon_id} was archived at {isoformat(self.archived_at)}:"
                " it is no longer applied")
        return self.terms()

    def terms(self) -> CouponTerms:
        return CouponTerms(
            coupon_id=self.coupon_id,
            percent_off=self.percent_off,
            amount_off=self.amount_off,
            currency=self.currency,
            duration=self.duration,
            duration_in_months=self.duration_in_months,
        )
