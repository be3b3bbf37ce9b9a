"""MRR as pure functions over public envelopes: one subscription's MRR at any instant, and
a subscriber's MRR over time.

Everything here reads envelopes as :func:`subledger.domain.envelope.to_envelope` writes them
(times ISO-8601 UTC with ``Z``, the event's fields in ``data``) and does no I/O; the
projections fold these functions over the log. Figures are exact ``Fraction``s of a minor
unit: a yearly 10000 is ``Fraction(2500, 3)`` a month, which no ``Decimal`` holds exactly.
A figure is rounded only when shown (:func:`~subledger.domain.money.round_minor`
``"833.33"``).

A discount applies to the recurring line, unit price x quantity, as invoices do
(``invoicing.recurring_lines``): an amount-off coupon takes its amount once per period, not
once per seat, and never takes the line below 0. A percent coupon is exact
(``price x (1 - p/100)``), not the half-even whole cents an invoice shows.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from itertools import groupby
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

# -- one subscription's MRR ----------------------------------------------------------------


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
    state = replace(state, as_of=at, status=status_after(kind, data, state.status))
    if kind == "SubscriptionChanged":
        return replace(
            state, amount=int(data["amount"]), quantity=int(data["quantity"]),
            interval=Interval(data["interval"]), currency=data["currency"],
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
        return replace(state, coupon=coupon)
    return state


def mrr_at(state: SubscriptionMrr, instant: datetime) -> Fraction:
    """The subscription's MRR at ``instant`` (no earlier than ``state.as_of``), in minor units.

    0 unless ``active`` or ``past_due``; otherwise the recurring line (unit price x quantity)
    after the coupon in force at ``instant`` (percent: x (1 - p/100), exact; amount: minus
    the amount, never below 0; ``repeating`` only before ``ends_at``; ``once`` never),
    normalised to a month: month x 1, quarter / 3, year / 12.
    """
    if state.status not in BILLED_STATUSES:
        return ZERO
    price = Fraction(state.amount * state.quantity)
    coupon = state.coupon
    if coupon is not None and coupon.in_force(instant):
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


# -- a subscriber's MRR over time ----------------------------------------------------------


@dataclass(frozen=True)
class MrrPoint:
    """A subscriber's MRR per currency from ``at`` until the next point."""

    at: datetime
    mrr: Mapping[str, Fraction]
    """Per currency, every currency the subscriber has had a subscription in (0 included)."""
    event_ids: tuple[str, ...]
    """The events effective at ``at``, in ledger order, then the ``CouponApplied`` of any
    coupon that ends at ``at``."""


def mrr_timeline(envelopes: Iterable[Envelope], *, as_of: datetime | None = None) -> list[MrrPoint]:
    """One subscriber's MRR after each instant it may change, in effective order.

    ``envelopes``: the subscriber's history (``GET /subscribers/{id}/history``); events that
    are not of a subscription are skipped. They are ordered by ``(effective_at, position)``:
    two subscriptions of one subscriber may be recorded out of effective order (a backdated
    second subscription), while each subscription's own events are in effective order. One
    point per distinct ``effective_at`` (its events all applied), plus one at each coupon end
    that changes MRR between events. ``as_of``: only events effective at or before it, and
    coupon ends up to it; None = every event and every coupon end still pending.
    """
    events = [e for e in envelopes if e["type"] in SUBSCRIPTION_EVENT_TYPES]
    subscribers = {e.get("subscriber_id") for e in events}
    if len(subscribers) > 1:
        raise ValueError(f"a timeline is one subscriber's; got {sorted(map(str, subscribers))}")
    keyed = sorted(((parse_instant(e["effective_at"]), int(e["position"]), e) for e in events), key=lambda k: k[:2])
    if as_of is not None:
        keyed = [k for k in keyed if k[0] <= as_of]

    states: dict[str, SubscriptionMrr] = {}
    currencies: list[str] = []
    points: list[MrrPoint] = []

    def total(instant: datetime) -> dict[str, Fraction]:
        sums = dict.fromkeys(currencies, ZERO)
        for state in states.values():
            sums[state.currency] += mrr_at(state, instant)
        return sums

    def coupon_ends(after: datetime | None, before: datetime | None, *, inclusive: bool) -> dict[datetime, list[str]]:
        """Pending coupon ends in (after, before) (or (after, before]), with their causes."""
        ends: dict[datetime, list[str]] = {}
        for state in states.values():
            for instant in change_points(state):
                if after is not None and instant <= after:
                    continue
                if before is not None and (instant > before or (instant == before and not inclusive)):
                    continue
                assert state.coupon is not None
                ends.setdefault(instant, []).append(state.coupon.event_id)
        return ends

    def emit_coupon_ends(before: datetime | None, *, inclusive: bool) -> None:
        last = points[-1].at if points else None
        for instant, causes in sorted(coupon_ends(last, before, inclusive=inclusive).items()):
            points.append(MrrPoint(instant, total(instant), tuple(causes)))

    for at, group in groupby(keyed, key=lambda k: k[0]):
        emit_coupon_ends(at, inclusive=False)
        ending_now = coupon_ends(None, at, inclusive=True).get(at, [])
        ids: list[str] = []
        for _at, _position, envelope in group:
            sid = str(envelope["aggregate_id"])
            states[sid] = fold_subscription(states.get(sid), envelope)
            if states[sid].currency not in currencies:
                currencies.append(states[sid].currency)
            ids.append(str(envelope["event_id"]))
        points.append(MrrPoint(at, total(at), tuple(ids + ending_now)))
    emit_coupon_ends(as_of, inclusive=True)
    return points


def mrr_as_of(timeline: Sequence[MrrPoint], instant: datetime) -> dict[str, Fraction]:
    """The MRR per currency as of ``instant``: after every event effective at or before it."""
    index = bisect.bisect_right([p.at for p in timeline], instant)
    return dict(timeline[index - 1].mrr) if index else {}


def mrr_before(timeline: Sequence[MrrPoint], instant: datetime) -> dict[str, Fraction]:
    """The MRR per currency just before ``instant`` (events effective strictly earlier): the
    opening MRR of a period starting at ``instant``, and the closing MRR of one ending there."""
    index = bisect.bisect_left([p.at for p in timeline], instant)
    return dict(timeline[index - 1].mrr) if index else {}
