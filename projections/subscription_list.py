"""Subscriptions selected by their state, from the ``subscriptions`` read model: by status,
plan, subscriber and currency, a keyset page at a time in the order they started.

The read model answers as of the last position it applied; whoever renders the page from
the log (as ``GET /subscriptions/{id}`` does) checks each subscription against the filter
again with :meth:`SubscriptionFilter.matches`, so that a subscription that changed since
is not shown under a filter it no longer meets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .store import ViewStore


@dataclass(frozen=True)
class SubscriptionFilter:
    """What a list asks for; None = any. ``subscriber_ids`` may be empty: then nothing
    matches (an e-mail address that names no subscriber)."""

    status: str | None = None
    plan_id: str | None = None
    currency: str | None = None
    subscriber_ids: Sequence[str] | None = None

    def matches(self, body: dict[str, Any]) -> bool:
        """Whether a subscription's body (as ``GET /subscriptions/{id}`` answers it) meets
        the filter."""
        return all(wanted is None or body[field] == wanted for field, wanted in (
            ("status", self.status), ("plan_id", self.plan_id), ("currency", self.currency),
        )) and (self.subscriber_ids is None or body["subscriber_id"] in self.subscriber_ids)

    def where(self) -> tuple[list[str], list[Any]]:
        """SQL conditions and their parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (("status", self.status), ("plan_id", self.plan_id),
                              ("currency", self.currency)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if self.subscriber_ids is not None:
            marks = ", ".join("?" for _ in self.subscriber_ids) or "NULL"
            clauses.append(f"subscriber_id IN ({marks})")
            params.extend(self.subscriber_ids)
        return clauses, params


def subscription_page(store: ViewStore, wanted: SubscriptionFilter, after: int,
                      limit: int) -> tuple[list[str], int | None]:
    """Ids of the subscriptions that meet ``wanted``, in the order they started, after the
    one that started at position ``after``; the cursor of the next page (None after the
    last)."""
    clauses, params = wanted.where()
    conditions = " AND ".join(["started_position > ?", *clauses])
    with store.transaction() as tx:
        rows = tx.execute(
            f"SELECT subscription_id, started_position FROM view_subscriptions WHERE {conditions}"
            " ORDER BY started_position LIMIT ?", (after, *params, limit + 1)).fetchall()
    more = len(rows) > limit
    return [row[0] for row in rows[:limit]], int(rows[limit - 1][1]) if more else None


def busiest_currency(store: ViewStore, held: Sequence[str]) -> str | None:
    """Of the currencies ``held``, the one most subscriptions are billed in now (``active``
    or ``past_due``), the first alphabetically among equals; None if none is held. Counting
    subscriptions, not adding MRR, because amounts in two currencies do not compare."""
    if not held:
        return None
    with store.transaction() as tx:
        rows = tx.execute(
            "SELECT currency, COUNT(*) FROM view_subscriptions"
            " WHERE status IN ('active', 'past_due') GROUP BY currency").fetchall()
    counts = {str(row[0]): int(row[1]) for row in rows}
    return min(held, key=lambda code: (-counts.get(code, 0), code))
