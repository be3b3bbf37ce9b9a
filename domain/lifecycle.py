"""A subscription's lifecycle: its statuses, and the one table of which event leaves it in
which status.

Every fold of a subscription's events reads its status from :func:`status_after`: the
aggregate, the ``subscriptions`` read model and the MRR metrics, so the three never
disagree about what a subscription was at any point of its history.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import QuantityOutOfBounds
from .text import check_free_text

TRIALING = "trialing"
ACTIVE = "active"
PAST_DUE = "past_due"
PAUSED = "paused"
CANCELED = "canceled"
STATUSES = (TRIALING, ACTIVE, PAST_DUE, PAUSED, CANCELED)
BILLED_STATUSES = (ACTIVE, PAST_DUE)
"""Statuses in which a subscription is billed and counts in MRR."""

VOLUNTARY = "voluntary"
INVOLUNTARY = "involuntary"
"""Reasons of ``SubscriptionCanceled``: asked for, or the end of dunning."""

STATUS_SET_BY: Mapping[str, str] = {
    "TrialEnded": ACTIVE,
    "SubscriptionPaused": PAUSED,
    "SubscriptionPastDue": PAST_DUE,
    "SubscriptionRecovered": ACTIVE,
    "SubscriptionCanceled": CANCELED,
}
"""Events that always leave a subscription in the same status."""

STATUS_CARRIED_BY = frozenset({"SubscriptionStarted", "SubscriptionResumed"})
"""Events that name the status they leave in their ``status`` field (a start is trialing
or active; a resume is past_due while an invoice is still in dunning)."""

MAX_QUANTITY = 1_000_000


def status_after(event_type: str, data: Mapping[str, Any], current: str) -> str:
    """The status of a subscription after an event of ``event_type`` with fields ``data``
    (``current``: its status before; other events leave it as it was)."""
    if event_type in STATUS_CARRIED_BY:
        return str(data["status"])
    return STATUS_SET_BY.get(event_type, current)


def check_quantity(quantity: int) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise QuantityOutOfBounds(f"quantity must be an integer from 1 to {MAX_QUANTITY}")
    return quantity


def check_comment(comment: str | None) -> str | None:
    """A reason given in words (optional free text)."""
    return None if comment is None else check_free_text(comment, "reason")
