"""Random command histories for properties over the read models and the replay.

The commands go through the Ledger (signups with and without trials, plan and quantity
changes now and at period end, pauses, resumes, cancellations, coupons, failing cards,
refunds, billing runs, several subscriptions per subscriber, second subscriptions backdated
before the first); the projector runs after random prefixes of the history with random page
sizes; instants K between two commands are captured for "as known at" (the ledger's clock
ticks one millisecond per reading, so K falls between two recordings exactly).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import strategies as st

from subledger.bootstrap import build_ledger, build_projector
from subledger.commands.billing import run_billing
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.domain.errors import DomainError
from subledger.projections.runner import ProjectionRunner

CATALOG_AT = datetime(2025, 1, 1, tzinfo=UTC)
LAST_EFFECTIVE = datetime(2025, 12, 31, tzinfo=UTC)
RECORDED_FROM = datetime(2026, 1, 1, tzinfo=UTC)
PLANS = [  # plan_id, currency, amount, interval, trial days
    ("basic", "USD", 1000, "month", 0),
    ("pro", "USD", 2500, "month", 14),
    ("team", "USD", 9000, "quarter", 0),
    ("corp", "USD", 120000, "year", 0),
    ("euro", "EUR", 2000, "month", 7),
]
COUPONS = [
    {"coupon_id": "R20", "percent_off": 20, "duration": "repeating", "duration_in_months": 2},
    {"coupon_id": "F10", "percent_off": 10, "duration": "forever"},
    {"coupon_id": "A5", "amount_off": 500, "currency": "USD", "duration": "forever"},
    {"coupon_id": "O3", "amount_off": 300, "currency": "USD", "duration": "once"},
]
COMMANDS = (
    ["signup"] * 4 + ["second"] * 3 + ["change"] * 4 + ["cancel"] * 3 + ["pause", "resume",
     "revoke", "coupon", "refund"] + ["billing"] * 2 + ["advance"] * 4 + ["project"] * 2 + ["known"] * 2
)


class TickingClock:
    """The ledger's clock: one millisecond later at every reading, so that an instant
    between two commands is known exactly."""

    def __init__(self) -> None:
        self.last = RECORDED_FROM

    def __call__(self) -> datetime:
        self.last += timedelta(milliseconds=1)
        return self.last

    def between(self) -> datetime:
        """After everything recorded so far, before anything recorded next."""
        return self.last + timedelta(microseconds=500)


@dataclass
class History:
    ledger: Ledger
    runner: ProjectionRunner
    settings: Settings
    known: list[datetime] = field(default_factory=list)
    """Instants K captured between commands."""
    commands: list[str] = field(default_factory=list)
    """The commands played, ``!`` after those the ledger refused."""


@contextmanager
def random_history(data: st.DataObject, tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """Run a random command history on a fresh SQLite file, projecting after random
    prefixes of it (with random page sizes, so a command's events may straddle two
    pages); the projector has caught up with the whole log when the block starts."""
    path = tmp_path_factory.mktemp("history") / "ledger.db"
    config = Settings.from_env({"SUBLEDGER_DATABASE_URL": f"sqlite:///{path}"})
    clock = TickingClock()
    ledger = build_ledger(config, clock=clock)
    runner = build_projector(config, ledger)
    history = History(ledger, runner, config)
    try:
        _play(data, history, clock)
        runner.page_size = data.draw(st.sampled_from([1, 2, 5, 13, 1000]), label="last page size")
        runner.run_once()
        yield history
    finally:
        runner.close()
        runner.store.close()
        ledger.close()


def _play(data: st.DataObject, history: History, clock: TickingClock) -> None:
    ledger = history.ledger
    for plan_id, currency, amount, interval, trial in PLANS:
        ledger.catalog.create_plan(plan_id=plan_id, name=plan_id, tier=plan_id, currency=currency,
                           amount=amount, interval=interval, trial_days=trial, effective_at=CATALOG_AT)
    for coupon in COUPONS:
        ledger.catalog.create_coupon(**coupon, effective_at=CATALOG_AT)  # type: ignore[arg-type]
    cursor = CATALOG_AT + timedelta(days=1)
    subscribers: list[tuple[UUID, datetime]] = []
    subscriptions: list[UUID] = []

    def start(subscriber: UUID, at: datetime) -> None:
        plan = data.draw(st.sampled_from([p[0] for p in PLANS]), label="plan")
        quantity = data.draw(st.integers(1, 4), label="quantity")
        coupon = data.draw(st.sampled_from([None, None, "R20", "F10", "A5", "O3"]), label="coupon")
        trial = data.draw(st.sampled_from([None, None, 0, 10]), label="trial days")
        subscription = ledger.subscriptions.start(subscriber, plan_id=plan, quantity=quantity,
                                                 coupon=coupon, trial_days=trial, effective_at=at)
        subscriptions.append(subscription.id)

    for _ in range(data.draw(st.integers(6, 30), label="commands")):
        command = data.draw(st.sampled_from(COMMANDS), label="command")
        if command in ("second", "change", "pause", "resume", "cancel", "revoke", "coupon", "refund") \
                and not subscriptions:
            command = "signup"
        history.commands.append(command)
        try:
            if command == "signup":
                who = ledger.subscribers.register(email=f"s{len(subscribers)}@example.com",
                                                 name=f"S{len(subscribers)}", effective_at=cursor)
                token = data.draw(st.sampled_from(["tok_visa"] * 4 + ["tok_chargeDeclined"]), label="card")
                ledger.subscribers.set_payment_method(who.id, gateway="sandbox", token=token, effective_at=cursor)
                subscribers.append((who.id, cursor))
                start(who.id, cursor)
            elif command == "second":
                who, registered = data.draw(st.sampled_from(subscribers), label="subscriber")
                back = data.draw(st.sampled_from([0, 3, 30, 90]), label="backdated days")
                start(who, max(registered, cursor - timedelta(days=back)))
            elif command == "advance":
                cursor = min(LAST_EFFECTIVE, cursor + timedelta(
                    days=data.draw(st.integers(1, 70), label="days"),
                    hours=data.draw(st.integers(0, 23), label="hours")))
            elif command == "billing":
                run_billing(ledger, cursor)
            elif command == "project":
                history.runner.page_size = data.draw(st.sampled_from([1, 2, 3, 7, 40]), label="page size")
                history.runner.run_once()
            elif command == "known":
                history.known.append(clock.between())
            else:
                _on_subscription(data, ledger, command, data.draw(st.sampled_from(subscriptions),
                                                                  label="subscription"), cursor)
        except DomainError:
            history.commands[-1] += "!"  # refused (pausing a canceled subscription, ...)
    history.known.append(clock.between())


def _on_subscription(data: st.DataObject, ledger: Ledger, command: str, sid: UUID, at: datetime) -> None:
    if command == "change":
        plan = data.draw(st.sampled_from([None, *[p[0] for p in PLANS]]), label="new plan")
        quantity = data.draw(st.sampled_from([None, 1, 2, 7]), label="new quantity")
        when = data.draw(st.sampled_from(["now", "period_end"]), label="when")
        ledger.subscriptions.change(sid, plan_id=plan, quantity=quantity, when=when, effective_at=at)
    elif command == "pause":
        ledger.subscriptions.pause(sid, effective_at=at)
    elif command == "resume":
        ledger.subscriptions.resume(sid, effective_at=at)
    elif command == "cancel":
        when = data.draw(st.sampled_from(["now", "period_end"]), label="cancel when")
        ledger.subscriptions.cancel(sid, when=when, effective_at=at)
    elif command == "revoke":
        ledger.subscriptions.revoke_cancellation(sid, effective_at=at)
    elif command == "coupon":
        coupon = data.draw(st.sampled_from([c["coupon_id"] for c in COUPONS]), label="coupon applied")
        ledger.subscriptions.apply_coupon(sid, coupon=coupon, effective_at=at)
    elif command == "refund":
        subscription = ledger.subscriptions.get(sid)
        # In the order they were taken: their ids derive from random subscription ids, so
        # sorting by id would make the same draws pick another charge when replayed.
        left = {charge_id: subscription.refundable(charge_id) for charge_id in subscription.charges}
        left = {charge_id: amount for charge_id, amount in left.items() if amount > 0}
        if left:
            charge_id = data.draw(st.sampled_from(list(left)), label="charge refunded")
            amount = data.draw(st.integers(1, left[charge_id]), label="refund")
            ledger.payments.refund_charge(charge_id, amount=amount, effective_at=at)


def log_prefix(ledger: Ledger, known_at: datetime | None) -> list[dict[str, Any]]:
    """The envelopes the ledger knew by ``known_at`` (every one if None): the longest prefix
    of the log whose events had all been recorded by then (docs/reports.md: "as known at")."""
    known = []
    for event in ledger.event_log.read(0, 1_000_000).items:
        if known_at is not None and datetime.fromisoformat(event["recorded_at"]) > known_at:
            break
        known.append(event)
    return known
