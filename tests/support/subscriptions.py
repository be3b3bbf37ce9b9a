"""A subscription aggregate driven command by command, for the domain's tests of its lifecycle.

Plans to subscribe to, a subscription whose signup is already collected (:func:`started`), and
its commands at a given instant, each at the fixed server clock ``RECORDED_AT``; charges falling
due are paid (``pay_ok``) before each command, as the application does.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from subledger.domain.coupons import CouponTerms
from subledger.domain.subscription import Subscription
from support.factories import RECORDED_AT, pay_ok, plan_terms, start_subscription, utc

BASIC = plan_terms("basic", amount=1000)
FREE = plan_terms("free", amount=0)
PRO = plan_terms("pro", amount=3000)
ANNUAL = plan_terms("annual", amount=10000, interval="year")
EURO = plan_terms("euro", amount=1000, currency="EUR")
JAN_31 = utc(2026, 1, 31)


def started(
    terms: Any = BASIC, at: datetime = JAN_31, **kwargs: Any
) -> Subscription:
    """A subscription whose signup is already collected: SubscriptionStarted and, without a
    trial, its first invoice and the (succeeded) charge of it."""
    sub = start_subscription(terms, at=at, pay=pay_ok, **kwargs)
    sub.collect_events()
    return sub


def change(sub: Subscription, at: datetime, terms: Any = None, quantity: int | None = None,
           when: str = "now") -> Any:
    return sub.change(terms=terms, quantity=quantity, when=when, effective_at=at,
                      recorded_at=RECORDED_AT)


def cancel(sub: Subscription, at: datetime, when: str = "now", cancel_at: datetime | None = None,
           comment: str | None = None) -> None:
    sub.cancel(when=when, at=cancel_at, comment=comment, effective_at=at, recorded_at=RECORDED_AT)


def advance(sub: Subscription, to: datetime) -> list[Any]:
    """The billing clock up to ``to``, every charge due paid; the events it recorded."""
    sub.advance_to(to, recorded_at=RECORDED_AT, pay=pay_ok)
    return sub.collect_events()


def of_type(events: list[Any], name: str) -> list[Any]:
    return [e for e in events if type(e).__name__ == name]


def pause(sub: Subscription, at: datetime) -> None:
    sub.pause(effective_at=at, recorded_at=RECORDED_AT)


def resume(sub: Subscription, at: datetime) -> None:
    sub.resume(effective_at=at, recorded_at=RECORDED_AT)


def revoke(sub: Subscription, at: datetime) -> None:
    sub.revoke_cancellation(effective_at=at, recorded_at=RECORDED_AT)


def coupon_terms(duration: str = "repeating", months: int | None = 3, currency: str | None = None,
                 amount_off: int | None = None, coupon_id: str = "welcome") -> CouponTerms:
    return CouponTerms(
        coupon_id=coupon_id, percent_off=None if amount_off else Decimal("20"), amount_off=amount_off,
        currency=currency, duration=duration, duration_in_months=months,
    )
