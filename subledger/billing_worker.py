"""The billing clock as a background worker: every interval, everything due up to now.

``subledger billing follow`` runs it alone, ``subledger serve`` in a thread; either way the
one follow loop runs it. A round is the same write as ``billing run --until <now>``, so any
number of these workers (and runs by hand) can share a store: two runs deciding the same
step decide the same ids, and only one of them can record it (:mod:`subledger.commands.billing`).

A round also asks every gateway that can be asked what became of its payments after
approving them (:mod:`subledger.commands.settlement_reports`) over the last
``SUBLEDGER_SETTLEMENT_DAYS`` of settlements, at most once every :data:`SETTLEMENT_EVERY`
seconds: Authorize.net settles nightly and a return takes days, so every minute would only
repeat the same reads. An unreachable gateway is logged and asked again the next round.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from subledger.commands.settlement_reports import reconcile, reportable
from subledger.commands.writes import RunBilling
from subledger.domain.errors import DomainError
from subledger.projections.follow import Follower

if TYPE_CHECKING:
    from subledger.commands.ledger import Ledger

logger = logging.getLogger(__name__)

SETTLEMENT_EVERY = 3600.0


class SettlementRounds:
    """The billing clock's asking of the gateways about their settlements, hourly."""

    def __init__(self, ledger: Ledger, days: int, every: float = SETTLEMENT_EVERY,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ledger, self.days, self.every, self.monotonic = ledger, days, every, monotonic
        self.last: float | None = None

    def run(self) -> None:
        if self.days == 0 or (self.last is not None and self.monotonic() - self.last < self.every):
            return
        now = self.ledger.clock()
        for name in reportable(self.ledger):
            try:
                done = reconcile(self.ledger, name, now - timedelta(days=self.days), now)
            except DomainError as error:
                logger.warning("settlement reconcile of %s: %s", name, error.detail)
                return
            summary = {k: v for k, v in done.as_dict().items() if k != "notices"}
            logger.info("settlement reconcile: %s", json.dumps(summary, separators=(",", ":")))
        self.last = self.monotonic()


def billing_follower(ledger: Ledger, interval: float, settlement_days: int = 0) -> Follower:
    """The billing clock as :func:`~subledger.projections.follow.follow` runs it: a run up to
    now, logged as one line with its summary, then ``interval`` seconds of rest; with
    ``settlement_days``, the gateways' settlements too (:class:`SettlementRounds`)."""
    settlements = SettlementRounds(ledger, settlement_days)

    def run_once() -> int:
        summary = ledger.execute(RunBilling(ledger.clock())).body
        logger.info("billing run: %s", json.dumps(summary, separators=(",", ":")))
        settlements.run()
        # The clock keeps a rhythm rather than following news: a run that did work is not
        # followed by another at once (a gateway that is down would be asked in a tight
        # loop), so every round reports "nothing to do" and the loop rests ``interval``.
        return 0

    return Follower("billing clock", run_once, idle=interval, log=logger)
