"""``subledger export subscribers``: the current state of every subscriber, one row each,
for a CRM or an e-mail tool (docs/messages.md, "For CRM and e-mail tools").

Each row is read from the ledger's records as they stand now (the subscriber and each of
their subscriptions), in the order subscribers registered. It holds personal data (name,
e-mail address, external reference): a file to keep as carefully as the CRM it feeds.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TextIO

from subledger.domain.lifecycle import CANCELED, STATUSES
from subledger.domain.money import round_minor
from subledger.domain.mrr import aggregate_mrr
from subledger.domain.time import isoformat

if TYPE_CHECKING:
    from subledger.commands.ledger import Ledger

COLUMNS = ("subscriber_id", "email", "name", "external_ref", "status", "subscription_statuses",
           "plans", "mrr", "currency", "created_at", "canceled_at", "marketing_consent", "forgotten_at")
PAGE = 500


def add_parser(commands: Any) -> None:
    export = commands.add_parser(
        "export", help="export the subscribers' current state (CSV for a CRM)",
        description="Print one row per subscriber, in the order they registered: id, e-mail, "
        "name, external reference, status (the liveliest of their subscriptions), every "
        "subscription's status, the plans they are on, MRR (minor units, 2 decimals) and its "
        "currency (one figure per currency, ';'-separated as the currencies are), when they "
        "registered, when their last subscription ended (empty while one is live), and their "
        "consent to marketing messages.")
    export.add_argument("what", choices=["subscribers"])
    export.add_argument("--format", choices=["csv", "jsonl"], default="csv")


def run(args: argparse.Namespace, ledger: Ledger, out: TextIO | None = None) -> int:
    out = sys.stdout if out is None else out
    now = ledger.clock()
    if args.format == "jsonl":
        for row in rows(ledger, now):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return 0
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for row in rows(ledger, now):
        writer.writerow({k: "" if v is None else str(v).lower() if isinstance(v, bool) else v
                         for k, v in row.items()})
    return 0


def rows(ledger: Ledger, now: datetime) -> Iterator[dict[str, Any]]:
    after = 0
    while True:
        subscribers, cursor = ledger.subscribers.registered(after, PAGE)
        for subscriber in subscribers:
            yield _row(ledger, subscriber, now)
        if cursor is None:
            return
        after = cursor


# The status a subscriber is shown in: the liveliest of their subscriptions.
_LIVELINESS = {status: ("active", "past_due", "trialing", "paused", CANCELED).index(status)
               for status in STATUSES}


def _row(ledger: Ledger, subscriber: Any, now: datetime) -> dict[str, Any]:
    subscriptions = [ledger.subscriptions.get(i)
                     for i in ledger.subscribers.subscription_ids(subscriber.id)]
    live = [s for s in subscriptions if s.status != CANCELED]
    # MRR is per currency: amounts in two currencies are never added up.
    mrr: dict[str, Fraction] = {}
    for subscription in live:
        mrr[subscription.currency] = mrr.get(subscription.currency, Fraction(0)) + aggregate_mrr(subscription, now)
    currencies = sorted(mrr)
    ended = [s.canceled_at for s in subscriptions if s.canceled_at is not None]
    return {
        "subscriber_id": str(subscriber.id), "email": subscriber.email, "name": subscriber.name,
        "external_ref": subscriber.external_ref,
        "status": min((s.status for s in subscriptions), key=_LIVELINESS.__getitem__, default=None),
        "subscription_statuses": ";".join(s.status for s in subscriptions),
        "plans": ";".join(sorted({s.plan_id for s in live})),
        "mrr": ";".join(str(round_minor(mrr[code])) for code in currencies) or str(round_minor(Fraction(0))),
        "currency": ";".join(currencies) or None,
        "created_at": isoformat(subscriber.registered_at),
        "canceled_at": isoformat(max(ended)) if ended and not live else None,
        "marketing_consent": subscriber.marketing_consent,
        "forgotten_at": None if subscriber.forgotten_at is None else isoformat(subscriber.forgotten_at),
    }
