"""What an event of the log makes due, as a pure function (no I/O): a message to send now,
a message to send at a later date (the renewal reminder, the trial-ending notice, the
win-back offer), or the end of such a wait (a subscription that renewed, paused or ended).

Each message is keyed by the event that caused it and its kind, so it is decided once
however often the log is read. A waiting message is checked again against the ledger when
its date comes (:mod:`.worker`): what the log says later (a cancellation scheduled, a new
plan) may have made it untrue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from subledger.domain.lifecycle import BILLED_STATUSES, TRIALING, VOLUNTARY
from subledger.domain.time import parse_instant

from .kinds import (
    PAYMENT_FAILED,
    RECEIPT,
    RENEWAL_REMINDER,
    SUBSCRIPTION_CANCELED,
    TRIAL_ENDING,
    TRIAL_ENDING_DAYS,
    WIN_BACK,
)

NEW_PERIOD = ("SubscriptionStarted", "TrialEnded", "SubscriptionRenewed", "SubscriptionChanged",
              "SubscriptionResumed")
"""Events after which a subscription's current period (and its renewal) is new."""


@dataclass(frozen=True)
class Timing:
    """When the messages that wait for a date are due (``SUBLEDGER_*``: docs/messages.md)."""

    renewal_days: int = 7
    """0: no renewal reminder."""
    winback_coupon: str | None = None
    """None: no win-back offer."""
    winback_days: int = 30


@dataclass(frozen=True)
class Message:
    """A message caused by one event; ``due_at`` None: to send at once."""

    kind: str
    cause: dict[str, Any]
    """The causing envelope's ``event_id``, ``position``, ``subscriber_id``, ``aggregate_id``."""
    data: dict[str, Any]
    """What the template needs beyond the ledger's current state."""
    due_at: datetime | None = None

    @property
    def message_id(self) -> str:
        return f"{self.cause['event_id']}:{self.kind}"


@dataclass
class Plan:
    """What one event makes due."""

    messages: list[Message] = field(default_factory=list)
    ended: list[tuple[str, str]] = field(default_factory=list)
    """(kind, subscription id or subscriber id): waiting messages of that kind for that
    record are no longer due."""


def plan(envelope: dict[str, Any], timing: Timing) -> Plan:
    """The messages ``envelope`` makes due, and the waits it ends."""
    kind, data = envelope["type"], envelope["data"]
    at = parse_instant(envelope["effective_at"])
    cause = {k: envelope[k] for k in ("event_id", "position", "subscriber_id", "aggregate_id")}
    subscription = envelope["aggregate_id"]
    out = Plan()
    if kind == "ChargeSucceeded" and data.get("invoice_id"):
        out.messages.append(Message(RECEIPT, cause, {**_pick(
            data, "invoice_id", "charge_id", "amount", "currency"), "paid_at": envelope["effective_at"]}))
    elif kind == "ChargeFailed":
        out.messages.append(Message(PAYMENT_FAILED, cause, _pick(
            data, "invoice_id", "amount", "currency", "decline_code", "attempt", "next_attempt_at")))
    elif kind == "ChargeReversed" and data.get("invoice_id"):
        # A payment the provider denied after it was reported taken: the subscriber hears it
        # as a failed payment, with the invoice's next attempt.
        out.messages.append(Message(PAYMENT_FAILED, cause, {**_pick(
            data, "invoice_id", "amount", "currency", "next_attempt_at"),
            "decline_code": data["reason"], "attempt": None}))
    elif kind == "SubscriptionCanceled":
        out.messages.append(Message(SUBSCRIPTION_CANCELED, cause, {"reason": data["reason"]}))
        out.ended += [(RENEWAL_REMINDER, subscription), (TRIAL_ENDING, subscription)]
        if data["reason"] == VOLUNTARY and timing.winback_coupon:
            out.messages.append(Message(WIN_BACK, cause, {"coupon": timing.winback_coupon},
                                        at + timedelta(days=timing.winback_days)))
    elif kind == "SubscriptionPaused":
        out.ended.append((RENEWAL_REMINDER, subscription))
    if kind == "SubscriptionStarted":
        out.ended.append((WIN_BACK, envelope["subscriber_id"]))  # they came back
        if data["status"] == TRIALING and data.get("trial_end"):
            trial_end = parse_instant(data["trial_end"])
            out.messages.append(Message(TRIAL_ENDING, cause, {"trial_end": data["trial_end"]},
                                        max(at, trial_end - timedelta(days=TRIAL_ENDING_DAYS))))
    if kind in NEW_PERIOD:
        out.messages.extend(_renewal(envelope, cause, at, timing))
        if kind != "SubscriptionStarted":
            out.ended.insert(0, (RENEWAL_REMINDER, subscription))
    return out


def _renewal(envelope: dict[str, Any], cause: dict[str, Any], at: datetime,
             timing: Timing) -> list[Message]:
    """The reminder of the renewal that ends the current period (a billed one: a trial's end
    is announced by the trial-ending notice)."""
    data = envelope["data"]
    status = data.get("status")
    if envelope["type"] in ("SubscriptionStarted", "SubscriptionResumed") \
            and status not in BILLED_STATUSES:
        return []
    if envelope["type"] == "SubscriptionChanged" and data.get("billing_anchor") is None:
        return []  # a change during a trial: its period is the trial
    if timing.renewal_days == 0 or not data.get("current_period_end"):
        return []
    end = parse_instant(data["current_period_end"])
    due = end - timedelta(days=timing.renewal_days)
    if due < at:
        return []  # a period shorter than the notice: no reminder rather than a late one
    return [Message(RENEWAL_REMINDER, cause, {"period_end": data["current_period_end"]}, due)]


def _pick(data: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: data.get(name) for name in names}
