"""Revenue metrics as pure functions over public envelopes: MRR, its movements, churn and
retention rates, recognized and deferred revenue (SEMANTICS.md, sections MRR, Churn and
retention, Revenue).

Everything here reads envelopes as :func:`subledger.domain.envelope.to_envelope` writes them
(times ISO-8601 UTC with ``Z``, the event's fields in ``data``) and does no I/O; the
projections fold these functions over the log. Figures are exact ``Fraction``s of a minor
unit: a yearly 10000 is ``Fraction(2500, 3)`` a month, which no ``Decimal`` holds exactly.
Sums of movements therefore add up to the MRR they explain with no rounding residue; a
figure is rounded only when shown (:func:`~subledger.domain.money.round_minor` ``"833.33"``,
:func:`~subledger.domain.money.round_rate`), and both take a ``Fraction``.

Choices where SEMANTICS.md is silent (each stated again where it applies):

- A discount applies to the recurring line, unit price x quantity, as invoices do
  (``invoicing.recurring_lines``): an amount-off coupon takes its amount once per period,
  not once per seat, and never takes the line below 0. A percent coupon is exact
  (``price x (1 - p/100)``), not the half-even whole cents an invoice shows.
- Movements are per subscriber *and currency*: reports are per currency, so a subscriber's
  first MRR in EUR is ``new`` in the EUR book even if they once paid in USD.
- A period P = [start, end) opens with the MRR *before* ``start`` (events effective
  strictly earlier) and closes with the MRR before ``end``; its movements are those at
  instants in [start, end). Then MRR(end) = MRR(start) + new + expansion + reactivation -
  contraction - churn exactly, and one period's closing MRR is the next one's opening. A
  subscriber who signs up exactly at ``start`` is a ``new`` movement of P, not a customer
  at its start.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import groupby
from typing import Any, TypedDict

from .periods import Interval
from .subscription import (
    ACTIVE,
    BILLED_STATUSES,
    CANCELED,
    PAST_DUE,
    PAUSED,
    Subscription,
)
from .time import UTC

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

# -- reading envelopes ---------------------------------------------------------------------


def parse_instant(value: str | datetime) -> datetime:
    """An envelope time (``2026-01-31T00:00:00Z``) as an aware UTC datetime."""
    instant = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"time without a UTC offset: {value!r}")
    return instant.astimezone(UTC)


def _exact(value: Any, field: str) -> Fraction:
    """An exact number from an envelope field (int, decimal string, Decimal); never a float."""
    if isinstance(value, float | bool):
        raise TypeError(f"{field} must be an int or a decimal string, not {type(value).__name__}")
    return Fraction(str(value)) if isinstance(value, Decimal) else Fraction(value)


def _effective_at(envelope: Envelope) -> datetime:
    return parse_instant(envelope["effective_at"])


def _microseconds(delta: timedelta) -> int:
    return delta // timedelta(microseconds=1)


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
    failed_invoices: frozenset[str]
    """Invoices with a failed charge not yet paid: a resume during dunning is ``past_due``."""
    as_of: datetime
    """``effective_at`` of the last event folded."""


_STATUS_OF = {
    "TrialEnded": ACTIVE,
    "SubscriptionPaused": PAUSED,
    "SubscriptionPastDue": PAST_DUE,
    "SubscriptionRecovered": ACTIVE,
    "SubscriptionCanceled": CANCELED,
}


def fold_subscription(state: SubscriptionMrr | None, envelope: Envelope) -> SubscriptionMrr:
    """``state`` after one more event of its subscription (``None``: before the first).

    Events that do not bear on MRR (renewals, invoices, charges, refunds, schedules) only
    move ``as_of``. Raises ``ValueError`` for a stream that is not one subscription's in
    effective order: a first event that is not ``SubscriptionStarted``, another
    subscription's event, or an event effective before the previous one.
    """
    kind = envelope["type"]
    data = envelope["data"]
    at = _effective_at(envelope)
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
            failed_invoices=frozenset(),
            as_of=at,
        )
    if str(envelope["aggregate_id"]) != state.subscription_id:
        raise ValueError(f"event of {envelope['aggregate_id']} folded into {state.subscription_id}")
    if kind == "SubscriptionStarted":
        raise ValueError(f"subscription {state.subscription_id} started twice")
    if at < state.as_of:
        raise ValueError(f"{kind} at {envelope['effective_at']} precedes the subscription's last event")
    state = replace(state, as_of=at)
    if kind in _STATUS_OF:
        return replace(state, status=_STATUS_OF[kind])
    if kind == "SubscriptionResumed":
        return replace(state, status=PAST_DUE if state.failed_invoices else ACTIVE)
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
            percent_off=None if percent is None else _exact(percent, "percent_off"),
            amount_off=None if amount_off is None else int(amount_off),
            duration=data["duration"],
            ends_at=None if ends_at is None else parse_instant(ends_at),
            event_id=str(envelope["event_id"]),
        )
        return replace(state, coupon=coupon)
    if kind == "ChargeFailed":
        return replace(state, failed_invoices=state.failed_invoices | {data["invoice_id"]})
    if kind == "ChargeSucceeded" and data.get("invoice_id") in state.failed_invoices:
        return replace(state, failed_invoices=state.failed_invoices - {data["invoice_id"]})
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
    keyed = sorted(((_effective_at(e), int(e["position"]), e) for e in events), key=lambda k: k[:2])
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


# -- movements -----------------------------------------------------------------------------

NEW = "new"
REACTIVATION = "reactivation"
EXPANSION = "expansion"
CONTRACTION = "contraction"
CHURN = "churn"
MOVEMENT_KINDS = (NEW, EXPANSION, REACTIVATION, CONTRACTION, CHURN)


@dataclass(frozen=True)
class Movement:
    """A change of a subscriber's MRR in one currency, from ``mrr_before`` to ``mrr_after``."""

    at: datetime
    kind: str
    amount: Fraction
    """Always > 0: b - a for new, reactivation and expansion, a - b for contraction and churn."""
    mrr_before: Fraction
    mrr_after: Fraction
    currency: str
    event_ids: tuple[str, ...]


def movement_kind(before: Fraction, after: Fraction, *, had_mrr: bool) -> str | None:
    """SEMANTICS.md's kind of a change from ``before`` to ``after`` (None: no change).
    ``had_mrr``: whether the subscriber ever had MRR > 0 before this change."""
    if before == after:
        return None
    if before == 0:
        return REACTIVATION if had_mrr else NEW
    if after == 0:
        return CHURN
    return EXPANSION if after > before else CONTRACTION


def movements(timeline: Iterable[MrrPoint]) -> list[Movement]:
    """Every MRR movement of one subscriber's timeline (from its first point), per currency.

    ``new`` only when the subscriber never had MRR > 0 in that currency before; a subscriber
    who churns, comes back and churns again has a ``reactivation`` and two ``churn``s.
    """
    found: list[Movement] = []
    previous: Mapping[str, Fraction] = {}
    had_mrr: set[str] = set()
    for point in timeline:
        for currency in sorted(set(previous) | set(point.mrr)):
            before = previous.get(currency, ZERO)
            after = point.mrr.get(currency, ZERO)
            kind = movement_kind(before, after, had_mrr=currency in had_mrr)
            if kind is not None:
                found.append(Movement(point.at, kind, abs(after - before), before, after,
                                      currency, point.event_ids))
            if after > 0:
                had_mrr.add(currency)
        previous = point.mrr
    return found


@dataclass(frozen=True)
class MrrBridge:
    """One subscriber's MRR over a period [start, end) in one currency, explained:
    ``mrr_end == mrr_start + new + expansion + reactivation - contraction - churn``."""

    currency: str
    start: datetime
    end: datetime
    mrr_start: Fraction
    new: Fraction
    expansion: Fraction
    reactivation: Fraction
    contraction: Fraction
    churn: Fraction
    churned_customers: int
    """The number of ``churn`` movements in the period."""
    mrr_end: Fraction


def bridge(timeline: Sequence[MrrPoint], currency: str, start: datetime, end: datetime) -> MrrBridge:
    """The subscriber's MRR bridge over [start, end): opening MRR before ``start``, the
    movements at instants in [start, end), closing MRR before ``end``."""
    if end < start:
        raise ValueError("a period ends no earlier than it starts")
    sums = dict.fromkeys(MOVEMENT_KINDS, ZERO)
    churned = 0
    for movement in movements(timeline):
        if movement.currency == currency and start <= movement.at < end:
            sums[movement.kind] += movement.amount
            if movement.kind == CHURN:
                churned += 1
    return MrrBridge(
        currency=currency, start=start, end=end,
        mrr_start=mrr_before(timeline, start).get(currency, ZERO),
        new=sums[NEW], expansion=sums[EXPANSION], reactivation=sums[REACTIVATION],
        contraction=sums[CONTRACTION], churn=sums[CHURN], churned_customers=churned,
        mrr_end=mrr_before(timeline, end).get(currency, ZERO),
    )


# -- churn and retention -------------------------------------------------------------------


class ChurnRates(TypedDict):
    customer_churn_rate: Fraction | None
    gross_mrr_churn_rate: Fraction | None
    net_mrr_churn_rate: Fraction | None
    net_revenue_retention: Fraction | None


def churn_rates(
    *,
    customers_start: int,
    churned_customers: int,
    mrr_start: Number,
    churn: Number,
    contraction: Number,
    expansion: Number,
    reactivation: Number,
) -> ChurnRates:
    """SEMANTICS.md's rates of a period, exact; a rate whose denominator is 0 is None
    (never an error, never 0). Round with ``round_rate`` to show them.

    - customer_churn_rate = churned_customers / customers_start
    - gross_mrr_churn_rate = (churn + contraction) / mrr_start
    - net_mrr_churn_rate = (churn + contraction - expansion - reactivation) / mrr_start
    - net_revenue_retention = (mrr_start + expansion + reactivation - contraction - churn) / mrr_start
    """
    start = _exact(mrr_start, "mrr_start")
    lost = _exact(churn, "churn") + _exact(contraction, "contraction")
    won = _exact(expansion, "expansion") + _exact(reactivation, "reactivation")

    def ratio(numerator: Fraction, denominator: Fraction) -> Fraction | None:
        return None if denominator == 0 else numerator / denominator

    return ChurnRates(
        customer_churn_rate=ratio(Fraction(churned_customers), Fraction(customers_start)),
        gross_mrr_churn_rate=ratio(lost, start),
        net_mrr_churn_rate=ratio(lost - won, start),
        net_revenue_retention=ratio(start + won - lost, start),
    )


# -- revenue -------------------------------------------------------------------------------

REFUND = "refund"


@dataclass(frozen=True)
class RevenueLine:
    """An amount recognized evenly over [start, end), or at ``start`` when ``end == start``."""

    amount: Fraction
    """Minor units; negative for discounts, proration credits and refunds."""
    currency: str
    start: datetime
    end: datetime
    settled_at: datetime
    """When it was collected (its invoice's charge succeeded, or nothing was due) or, for a
    refund's line, refunded."""
    kind: str
    """The invoice line's kind, or ``refund``."""
    source: str
    """The invoice id, or the refund id."""

    def _length(self) -> int:
        return _microseconds(self.end - self.start)

    def unserved(self, instant: datetime) -> Fraction:
        """The part of the line for service after ``instant``."""
        length = self._length()
        if length == 0:
            return self.amount if self.start > instant else ZERO
        left = _microseconds(self.end - max(instant, self.start))
        return self.amount * Fraction(min(max(left, 0), length), length)

    def within(self, start: datetime, end: datetime) -> Fraction:
        """The part of the line recognized in [start, end)."""
        length = self._length()
        if length == 0:
            return self.amount if start <= self.start < end else ZERO
        overlap = _microseconds(min(end, self.end) - max(start, self.start))
        return self.amount * Fraction(max(overlap, 0), length) if overlap > 0 else ZERO


def revenue_lines(envelopes: Iterable[Envelope]) -> list[RevenueLine]:
    """The lines of every paid invoice, and the lines that refunds take off them, from
    envelopes of any subscriptions (ordered here by ``position``).

    - An invoice's lines count once it is settled: at its ``effective_at`` when nothing was
      due (``amount_due`` 0: covered by the credit balance, or a net credit), else when a
      charge of it succeeds; at full value either way (a total partly paid by credit is
      collected, the credit having been collected before). Unpaid invoices never count.
    - A refund of R at instant r against a charge of invoice I is attributed to I's lines in
      proportion to what is left of each line's service after r: with U the value of I's
      lines still unserved after r (net of earlier refunds of I), min(R, U) comes off the
      lines pro rata, each line's share spread evenly over its remaining service [r, end)
      (so the invoice's future recognition and deferral shrink by the same factor); the rest
      of R (all of it when nothing is left to serve, e.g. a manual charge or an ended
      period) is taken off revenue at r, as a zero-length line.
    """
    invoices: dict[str, Mapping[str, Any]] = {}
    settled: dict[str, list[RevenueLine]] = {}
    remaining: dict[str, Fraction] = {}  # invoice id -> share of its lines not yet refunded
    charge_invoice: dict[str, str | None] = {}
    out: list[RevenueLine] = []

    def settle(invoice_id: str, at: datetime) -> None:
        if invoice_id in settled or invoice_id not in invoices:
            return
        data = invoices[invoice_id]
        lines = [
            RevenueLine(
                amount=Fraction(int(line["amount"])), currency=data["currency"],
                start=parse_instant(line["period_start"]), end=parse_instant(line["period_end"]),
                settled_at=at, kind=line["kind"], source=invoice_id,
            )
            for line in data["lines"]
        ]
        settled[invoice_id] = lines
        remaining[invoice_id] = Fraction(1)
        out.extend(lines)

    for envelope in sorted(envelopes, key=lambda e: int(e["position"])):
        kind, data = envelope["type"], envelope["data"]
        at = _effective_at(envelope)
        if kind == "InvoiceIssued":
            invoices[data["invoice_id"]] = data
            if int(data["amount_due"]) == 0:
                settle(data["invoice_id"], at)
        elif kind == "ChargeSucceeded":
            charge_invoice[data["charge_id"]] = data.get("invoice_id")
            if data.get("invoice_id") is not None:
                settle(data["invoice_id"], at)
        elif kind == "RefundIssued":
            if data["charge_id"] not in charge_invoice:
                raise ValueError(f"refund {data['refund_id']} of charge {data['charge_id']}, "
                                 "whose ChargeSucceeded is not among the envelopes")
            out.extend(_refund_lines(data, at, charge_invoice[data["charge_id"]], settled, remaining))
    return out


def _refund_lines(
    data: Mapping[str, Any], at: datetime, invoice_id: str | None,
    settled: Mapping[str, list[RevenueLine]], remaining: dict[str, Fraction],
) -> list[RevenueLine]:
    refund = Fraction(int(data["amount"]))
    lines = settled.get(invoice_id, []) if invoice_id is not None else []
    unserved = sum((line.unserved(at) for line in lines), ZERO)
    share = remaining.get(invoice_id, ZERO) if invoice_id is not None else ZERO
    attributed = min(refund, share * unserved) if unserved > 0 and share > 0 else ZERO
    out: list[RevenueLine] = []
    if attributed:
        assert invoice_id is not None
        fraction = attributed / unserved  # of each line's unserved part
        remaining[invoice_id] = share - fraction
        for line in lines:
            part = line.unserved(at)
            if part:
                start = line.start if line.start == line.end else max(at, line.start)
                out.append(RevenueLine(-fraction * part, data["currency"], start, line.end,
                                       at, REFUND, data["refund_id"]))
    if refund > attributed:
        out.append(RevenueLine(attributed - refund, data["currency"], at, at, at, REFUND,
                               data["refund_id"]))
    return out


def _one_currency(lines: Sequence[RevenueLine]) -> None:
    currencies = {line.currency for line in lines}
    if len(currencies) > 1:
        raise ValueError(f"revenue lines in several currencies: {sorted(currencies)}")


def recognized(lines: Iterable[RevenueLine], start: datetime, end: datetime) -> Fraction:
    """Revenue recognized in [start, end): each line evenly over its service period (exact
    to the microsecond), a zero-length line at its instant. Lines of one currency."""
    if end < start:
        raise ValueError("an interval ends no earlier than it starts")
    lines = list(lines)
    _one_currency(lines)
    return sum((line.within(start, end) for line in lines), ZERO)


def deferred_at(lines: Iterable[RevenueLine], instant: datetime) -> Fraction:
    """Deferred revenue at ``instant``: what was collected by then (lines settled at or
    before it) for service after it, minus the refunds of it (refund lines, as
    :func:`revenue_lines` attributes them). Lines of one currency."""
    lines = list(lines)
    _one_currency(lines)
    return sum((line.unserved(instant) for line in lines if line.settled_at <= instant), ZERO)
