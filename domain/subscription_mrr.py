"""One subscription's MRR as pure functions over public envelopes: its state folded from
its events, and its MRR at any instant.

Everything here reads envelopes as :func:`subledger.domain.envelope.to_envelope` writes them
(times ISO-8601 UTC with ``Z``, the event's fields in ``data``) and does no I/O. Figures are
exact ``Fraction``s of a minor unit: a yearly 10000 is ``Fraction(2500, 3)`` a month, which no
``Decimal`` holds exactly. A figure is rounded only when shown
(:func:`~subledger.domain.money.round_minor` ``"833.33"``).

A discount applies to the recurring line, unit price x quantity, as invoices do
(``invoicing.recurring_lines``): an amount-off coupon takes its amount once per period, not
once per seat, and never takes the line below 0. A percent coupon is exact
(``price x (1 - p/100)``), not the half-even whole cents an invoice shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .lifecycle import BILLED_STATUSES, status_after
from .money import exact
from .periods import Interval
from .subscription import Subscription
from .time import parse_instant

Envelope = Mapping[str, Any]
Number = int | Fraction | Decimal

SUBSCRIPTION_EVENT_TYPES: frozenset[str] = frozenset(
    name
    for name, value in vars(Subscription).items()
    if isinstance(value, type) and issubclass(value, Subscription.Event)
    and name not in ("Event", "Created")
)
"""The envelope ``type`` of every event of a subscription's stream."""

ZERO = Fraction(0)


@dataclass(frozen=True)
class Coupon:
    """The coupon on a subscription, as ``CouponApplied`` recorded it."""

    coupon_id: str
    percent_off: Fraction | None
    amount_off: int | None
    duration: str
    """``once``, ``repeating`` or ``forever``."""
    ends_at: datetime | None
    """When a ``repeating`` coupon stops applying (None: it never stops)."""
    event_id: str
    """The ``CouponApplied`` event, so a movement at ``ends_at`` can name its cause."""

    def in_force(self, instant: datetime) -> bool:
        """Whether the coupon discounts the recurring price at ``instant`` for MRR: ``forever``
        always, ``repeating`` before ``ends_at``, ``once`` never (a one-off amount)."""
        if self.duration == "forever":
            return True
        if self.duration == "repeating":
            return self.ends_at is None or instant < self.ends_at
        return False


@dataclass(frozen=True)
class SubscriptionMrr:
    """What a subscription's MRR depends on, folded from its events."""

    subscription_id: str
    subscriber_id: str | None
    status: str
    amount: int
    """Price per billing period per seat, minor units."""
    quantity: int
    interval: Interval
    currency: str
    coupon: Coupon | None
    as_of: datetime
    """``effective_at`` of the last event folded."""


def fold_subscription(state: SubscriptionMrr | None, envelope: Envelope) -> SubscriptionMrr:
    """``state`` after one more event of its subscription (``None``: before the first).

    Events that do not bear on MRR (renewals, invoices, charges, refunds, schedules) only
    move ``as_of``. Raises ``ValueError`` for a stream that is not one subscription's in
    effective order: a first event that is not ``SubscriptionStarted``, another
    subscription's event, or an event effective before the previous one.
    """
    kind = envelope["type"]
    data = envelope["data"]
    at = parse_instant(envelope["effective_at"])
    if state is None:
        if kind != "SubscriptionStarted":
            raise ValueError(f"a subscription's first event is SubscriptionStarted, not {kind}")
        return SubscriptionMrr(
            subscription_id=str(envelope["aggregate_id"]),
            subscriber_id=envelope.get("subscriber_id"),
            status=data["status"],
            amount=int(data["amount"]),
            quantity=int(data["quantity"]),
            interval=Interval(data["interval"]),
            currency=data["currency"],
            coupon=None,
            as_of=at,
        )
    if str(envelope["aggregate_id"]) != state.subscription_id:
        raise ValueError(f"event of {envelope['aggregate_id']} folded into {state.subscription_id}")
    if kind == "SubscriptionStarted":
        raise ValueError(f"subscription {state.subscription_id} started twice")
    if at < state.as_of:
        raise ValueError(f"{kind} at {envelope['effective_at']} precedes the subscription's last event")
    status = status_after(kind, data, state.status)
    if kind == "SubscriptionChanged":
        return SubscriptionMrr(
            subscription_id=state.subscription_id, subscriber_id=state.subscriber_id,
            status=status, amount=int(data["amount"]), quantity=int(data["quantity"]),
            interval=Interval(data["interval"]), currency=data["currency"],
            coupon=state.coupon, as_of=at,
        )
    if kind == "CouponApplied":
        percent = data.get("percent_off")
        amount_off = data.get("amount_off")
        ends_at = data.get("ends_at")
        coupon = Coupon(
            coupon_id=data["coupon_id"],
            percent_off=None if percent is None else exact(percent, "percent_off"),
            amount_off=None if amount_off is None else int(amount_off),
            duration=data["duration"],
            ends_at=None if ends_at is None else parse_instant(ends_at),
            event_id=str(envelope["event_id"]),
        )
    else:
        coupon = state.coupon
    # Built field by field: ``dataclasses.replace`` was a third of the fold's own time.
    return SubscriptionMrr(
        subscription_id=state.subscription_id, subscriber_id=state.subscriber_id, status=status,
        amount=state.amount, quantity=state.quantity, interval=state.interval,
        currency=state.currency, coupon=coupon, as_of=at,
    )


def mrr_at(state: SubscriptionMrr, instant: datetime) -> Fraction:
    """The subscription's MRR at ``instant`` (no earlier than ``state.as_of``), in minor units.

    0 unless ``active`` or ``past_due``; otherwise the recurring line (unit price x quantity)
    after the coupon in force at ``instant`` (percent: x (1 - p/100), exact; amount: minus
    the amount, never below 0; ``repeating`` only before ``ends_at``; ``once`` never),
    normalised to a month: month x 1, quarter / 3, year / 12.
    """
    if state.status not in BILLED_STATUSES:
        return ZERO
    coupon = state.coupon
    if coupon is None:
        # One exact fraction, not a price then a division: a report's fold asks this of
        # every subscription at every instant.
        return Fraction(state.amount * state.quantity, state.interval.months)
    price = Fraction(state.amount * state.quantity)
    if coupon.in_force(instant):
        if coupon.percent_off is not None:
            price *= 1 - coupon.percent_off / 100
        elif coupon.amount_off is not None:
            price = max(ZERO, price - coupon.amount_off)
    return price / state.interval.months


def aggregate_mrr(sub: Subscription, instant: datetime) -> Fraction:
    """A subscription aggregate's MRR at ``instant``: :func:`mrr_at` of the state its
    events fold to (for a subscription that is decided on, not read from envelopes)."""
    coupon = sub.coupon
    state = SubscriptionMrr(
        subscription_id=str(sub.id), subscriber_id=str(sub.subscriber_id), status=sub.status,
        amount=sub.amount, quantity=sub.quantity, interval=sub.interval, currency=sub.currency,
        coupon=None if coupon is None else Coupon(
            coupon_id=coupon["coupon_id"],
            percent_off=None if coupon["percent_off"] is None
            else exact(coupon["percent_off"], "percent_off"),
            amount_off=coupon["amount_off"], duration=coupon["duration"],
            ends_at=coupon["ends_at"], event_id=""),  # no movement is derived from it
        as_of=sub.last_effective_at,
    )
    return mrr_at(state, instant)


def change_points(state: SubscriptionMrr) -> list[datetime]:
    """Instants after ``state.as_of`` where the subscription's MRR changes with no event of
    its own, if no event comes first: the end of a ``repeating`` coupon that discounts it.

    (Trial ends, renewals with a scheduled change and scheduled cancellations also change
    MRR at a set time, but each is recorded as an event effective at that very instant.)
    """
    coupon = state.coupon
    if (
        coupon is None
        or coupon.duration != "repeating"
        or coupon.ends_at is None
        or coupon.ends_at <= state.as_of
    ):
        return []
    if mrr_at(state, state.as_of) == mrr_at(state, coupon.ends_at):
        return []
    return [coupon.ends_at]
