"""Read model ``subscriptions``: the current state of every subscription, as the log says.

One row per subscription, folded from its events: status, plan and price version, amount,
quantity, current period, trial end, scheduled cancellation, coupon, the position of its
start (the order of ``GET /subscriptions``), and the position and effective time of the last
event applied. ``GET /subscriptions`` selects from it (:mod:`.subscription_list`), with an
index per filter.
"""

from __future__ import annotations

import json
from typing import Any

from subledger.domain.lifecycle import status_after
from subledger.domain.mrr import SUBSCRIPTION_EVENT_TYPES

from .store import ViewCursor

COLUMNS = (
    "subscription_id", "subscriber_id", "status", "plan_id", "plan_version", "tier", "amount",
    "currency", "interval", "quantity", "current_period_start", "current_period_end",
    "trial_end", "cancel_at", "canceled_at", "cancel_reason", "coupon_id", "started_at",
    "started_position", "position", "effective_at",
)
TERMS = ("plan_id", "plan_version", "tier", "amount", "currency", "interval", "quantity")
PERIOD = ("current_period_start", "current_period_end")


class SubscriptionsModel:
    name = "subscriptions"
    version = 2
    tables = ("view_subscriptions",)
    types = tuple(sorted(SUBSCRIPTION_EVENT_TYPES))
    """Only a subscription's own events change its row."""

    def create(self, tx: ViewCursor) -> None:
        numbers = ("plan_version", "amount", "quantity", "started_position", "position")
        columns = ", ".join(f"{c} TEXT" for c in COLUMNS[1:] if c not in numbers)
        tx.execute(
            "CREATE TABLE IF NOT EXISTS view_subscriptions (subscription_id TEXT PRIMARY KEY,"
            f" {columns}, plan_version INTEGER, amount BIGINT, quantity INTEGER,"
            " started_position BIGINT NOT NULL, position BIGINT NOT NULL)"
        )
        # Lists page in start order, each filter by its own index.
        tx.execute("CREATE UNIQUE INDEX IF NOT EXISTS view_subscriptions_started"
                   " ON view_subscriptions (started_position)")
        for column in ("subscriber_id", "status", "plan_id", "currency"):
            tx.execute(f"CREATE INDEX IF NOT EXISTS view_subscriptions_{column}"
                       f" ON view_subscriptions ({column}, started_position)")

    def apply(self, tx: ViewCursor, envelopes: list[dict[str, Any]]) -> None:
        """Fold a page in memory and write each touched subscription once: the rows of the
        subscriptions it continues are read back in a few statements (``select_in``)."""
        mine = [e for e in envelopes if e["subscriber_id"] is not None
                and not e["type"].startswith("Subscriber") and e["type"] != "PaymentMethodSet"]
        started = {e["aggregate_id"] for e in mine if e["type"] == "SubscriptionStarted"}
        touched = self._load(tx, sorted({e["aggregate_id"] for e in mine} - started))
        for envelope in mine:
            sid = envelope["aggregate_id"]
            row = fold(touched.get(sid), envelope)
            if row is not None:
                touched[sid] = row
        tx.upsert("view_subscriptions", COLUMNS,
                  [tuple(row[c] for c in COLUMNS) for row in touched.values()])

    @staticmethod
    def _load(tx: ViewCursor, subscription_ids: list[str]) -> dict[str, dict[str, Any]]:
        rows = tx.select_in(f"SELECT {', '.join(COLUMNS)} FROM view_subscriptions"
                            " WHERE subscription_id IN ({marks})", subscription_ids)
        return {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in rows}


def fold(row: dict[str, Any] | None, envelope: dict[str, Any]) -> dict[str, Any] | None:
    """The row after one event of its subscription (pure)."""
    kind, data = envelope["type"], envelope["data"]
    if kind == "SubscriptionStarted":
        row = {c: None for c in COLUMNS}
        row.update({c: data[c] for c in TERMS})
        row.update(
            subscription_id=envelope["aggregate_id"], subscriber_id=envelope["subscriber_id"],
            status=data["status"], trial_end=data["trial_end"],
            current_period_start=data["current_period_start"],
            current_period_end=data["current_period_end"],
            started_at=envelope["effective_at"], started_position=envelope["position"],
        )
    elif row is None:
        return None  # an event of a subscription this model never saw start: not ours
    else:
        row = dict(row)
        row["status"] = status_after(kind, data, row["status"])
        if kind in ("TrialEnded", "SubscriptionRenewed", "SubscriptionResumed", "SubscriptionChanged"):
            row.update({c: data[c] for c in PERIOD})
        if kind == "SubscriptionChanged":
            row.update({c: data[c] for c in TERMS})
        if kind == "CancellationScheduled":
            row["cancel_at"] = data["at"]
        if kind == "CancellationRevoked":
            row["cancel_at"] = None
        if kind == "SubscriptionCanceled":
            row.update(canceled_at=envelope["effective_at"], cancel_reason=data["reason"],
                       cancel_at=None)
        if kind == "CouponApplied":
            row["coupon_id"] = data["coupon_id"]
    row["position"] = envelope["position"]
    row["effective_at"] = envelope["effective_at"]
    return row


def row_json(row: dict[str, Any]) -> str:
    return json.dumps(row, sort_keys=True)
