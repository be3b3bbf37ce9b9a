"""A small book whose figures are worked out by hand (the replay tests check against them).

All in USD, cards that always pay, no trials, the server clock moved by hand:

- plans: ``basic`` 10.00 a month, ``pro`` 30.00 a month, ``corp`` 1,200.00 a year;
- Ada: ``basic`` from 2026-01-01; Bob: ``pro`` from 2026-01-10, canceled now on 2026-03-15;
  Cy: ``corp`` from 2026-02-01; Dee: ``basic`` from 2026-03-05, canceled now on 2026-03-20;
- the billing clock run to 2026-04-30.

So: MRR 10.00 + 30.00 in January (Ada, Bob: the January cohort, 40.00), + 100.00 from
February (Cy's yearly 1,200.00 / 12), 150.00 from March 5 to 15 (Dee), 120.00 from March 15
to 20, 110.00 after. Invoices and charges (every invoice paid at once): Ada 4 x 1000 (Jan 1,
Feb 1, Mar 1, Apr 1), Bob 3 x 3000 (Jan 10, Feb 10, Mar 10), Cy 1 x 120000, Dee 1 x 1000:
9 invoices, 9 charges, 134000 collected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from subledger.commands.billing import run_billing

from .factories import utc
from .ledger import CARD, FakeClock, add_plan, add_subscriber

BOOK_CLOCK = utc(2026, 6, 1)
"""The server clock when the book is written (one second more at each command)."""
COLLECTED = 134_000


@dataclass(frozen=True)
class SmallBook:
    ada: UUID
    bob: UUID
    cy: UUID
    dee: UUID
    subscriptions: dict[str, UUID]
    """name -> their subscription."""


def _tick(clock: FakeClock | None) -> None:
    if clock is not None:
        clock.advance(seconds=1)


def small_book(ledger: Any, clock: FakeClock | None = None) -> SmallBook:
    """Write the book through ``ledger`` (whose clock is ``clock``, moved a second per
    command when given)."""
    at = utc(2025, 12, 1)
    add_plan(ledger, "basic", at=at, amount=1000)
    add_plan(ledger, "pro", at=at, amount=3000)
    add_plan(ledger, "corp", at=at, amount=120_000, interval="year")
    people: dict[str, UUID] = {}
    subscriptions: dict[str, UUID] = {}
    for name, plan, start in (("ada", "basic", utc(2026, 1, 1)), ("bob", "pro", utc(2026, 1, 10)),
                              ("cy", "corp", utc(2026, 2, 1)), ("dee", "basic", utc(2026, 3, 5))):
        _tick(clock)
        people[name] = add_subscriber(ledger, f"{name}@example.com", at=start, token=CARD).id
        _tick(clock)
        subscriptions[name] = ledger.subscriptions.start(people[name], plan_id=plan, effective_at=start).id
    for name, end in (("bob", utc(2026, 3, 15)), ("dee", utc(2026, 3, 20))):
        _tick(clock)
        ledger.subscriptions.cancel(subscriptions[name], when="now", effective_at=end)
    _tick(clock)
    run_billing(ledger, utc(2026, 4, 30))
    return SmallBook(people["ada"], people["bob"], people["cy"], people["dee"], subscriptions)
