"""The billing clock as a background worker: every interval, everything due up to now.

``subledger billing follow`` runs it alone, ``subledger serve`` in a thread; either way the
one follow loop runs it. A round is the same write as ``billing run --until <now>``, so any
number of these workers (and runs by hand) can share a store: two runs deciding the same
step decide the same ids, and only one of them can record it (:mod:`subledger.commands.billing`).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from subledger.commands.writes import RunBilling
from subledger.projections.follow import Follower

if TYPE_CHECKING:
    from subledger.commands.ledger import Ledger

logger = logging.getLogger(__name__)


def billing_follower(ledger: Ledger, interval: float) -> Follower:
    """The billing clock as :func:`~subledger.projections.follow.follow` runs it: a run up to
    now, logged as one line with its summary, then ``interval`` seconds of rest."""

    def run_once() -> int:
        summary = ledger.execute(RunBilling(ledger.clock())).body
        logger.info("billing run: %s", json.dumps(summary, separators=(",", ":")))
        # The clock keeps a rhythm rather than following news: a run that did work is not
        # followed by another at once (a gateway that is down would be asked in a tight
        # loop), so every round reports "nothing to do" and the loop rests ``interval``.
        return 0

    return Follower("billing clock", run_once, idle=interval, log=logger)
