"""Cancelling a subscription: now, at its period's end (its trial's end while trialing), or
at a chosen time; and revoking a cancellation scheduled for later. A cancellation ends the
service at its instant, so it is caught up only to just before it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from .billing_schedule import caught_up_before
from .errors import InvalidInput, InvalidSchedule, NoCancellationScheduled, SubscriptionPaused
from .invoicing import CANCELLATION_CHANGED
from .lifecycle import BILLED_STATUSES, PAUSED, TRIALING, VOLUNTARY, check_comment
from .periods import Period
from .time import as_utc

if TYPE_CHECKING:
    from .subscription import Subscription


class Cancellation:
    """The cancellation commands of :class:`~.subscription.Subscription`."""

    def cancel(
        self: Subscription, *, when: str, at: datetime | None, comment: str | None,
        effective_at: datetime, recorded_at: datetime,
    ) -> None:
        """Cancel ``now``, at ``period_end`` (the trial's end while trialing), or ``at`` a time."""
        check_comment(comment)
        at = _cancel_instant(when, at, effective_at)
        self._begin(effective_at, recorded_at, until=caught_up_before(effective_at))
        if when == "period_end":
            if self.status == PAUSED:
                raise SubscriptionPaused(
                    "a paused subscription has no current period; cancel it now or at a time"
                )
            at = self.trial_end if self.status == TRIALING else self.current_period_end
        if when == "now" or at == effective_at:
            self._record(self.SubscriptionCanceled, effective_at, recorded_at,
                         reason=VOLUNTARY, comment=comment)
            return
        self._record(self.CancellationScheduled, effective_at, recorded_at,
                     at=at, reason=VOLUNTARY, comment=comment)
        self._bill_rest_of_period(effective_at, recorded_at)

    def revoke_cancellation(self: Subscription, *, effective_at: datetime,
                            recorded_at: datetime) -> None:
        self._begin(effective_at, recorded_at)
        if self.cancel_at is None:
            raise NoCancellationScheduled("no cancellation is scheduled for this subscription")
        self._record(self.CancellationRevoked, effective_at, recorded_at, revoked_at=self.cancel_at)
        self._bill_rest_of_period(effective_at, recorded_at)

    def _bill_rest_of_period(self: Subscription, at: datetime, recorded_at: datetime) -> None:
        """When the service now goes on past the instant the period's invoice was cut at (the
        cancellation revoked or moved later), the part up to the new end (a cancellation
        inside the period, else its end) is invoiced at once, prorated on the current terms."""
        billed, until = self.billed_until(), self._billable_part().end
        if self.status in BILLED_STATUSES and billed < until:
            rest = Period(billed, until)
            self._issue_invoice(CANCELLATION_CHANGED, self._period_lines(at, served=rest), at,
                                recorded_at)


def _cancel_instant(when: str, at: datetime | None, effective_at: datetime) -> datetime | None:
    """The ``at`` of a cancellation, checked against its ``when``."""
    if when not in ("now", "period_end", "at"):
        raise InvalidInput("when must be 'now', 'period_end' or 'at'")
    if when != "at":
        if at is not None:
            raise InvalidInput("'at' is only for when 'at'")
        return None
    if at is None:
        raise InvalidInput("when 'at' needs the time to cancel at in 'at'")
    at = as_utc(at)
    if at < effective_at:
        raise InvalidSchedule("'at' must not be earlier than effective_at")
    return at

