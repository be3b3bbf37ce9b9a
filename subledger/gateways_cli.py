"""``subledger gateways reconcile``: ask a gateway what became of the payments it approved
(:mod:`subledger.commands.settlement_reports`) and record it, printing a JSON summary."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .domain.errors import InvalidInput
from .domain.time import written_day, written_instant

if TYPE_CHECKING:
    from subledger.commands.ledger import Ledger


def add_parser(commands: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    gateways = commands.add_parser("gateways", help="the payment gateways")
    actions = gateways.add_subparsers(dest="gateways_command", required=True,
                                      parser_class=parser_class)
    reconcile = actions.add_parser(
        "reconcile", help="record what a gateway reports about payments after approving them",
        description="Ask GATEWAY (authorizenet) which payments settled from --since to --until "
        "ended in a settlement error, a returned eCheck, a void or a chargeback, and reverse "
        "each that this ledger counted collected (ChargeReversed: the invoice is due again and "
        "dunning starts; a chargeback is a lost dispute, DisputeClosed). Prints a JSON summary. Safe to run again: a payment is reversed once. "
        "Exit 2 on bad input, or when the gateway cannot be reached (nothing is recorded then).")
    reconcile.add_argument("--gateway", required=True, help="the gateway's name, e.g. authorizenet")
    reconcile.add_argument("--since", required=True, type=moment,
                           help="a date (UTC midnight) or an ISO-8601 instant with offset")
    reconcile.add_argument("--until", type=moment, default=None,
                           help="as --since; default now (windows over 31 days are asked in parts)")


def run(ledger: Ledger, args: argparse.Namespace) -> int:
    from subledger.commands.settlement_reports import reconcile

    print(json.dumps(reconcile(ledger, args.gateway, args.since, args.until).as_dict(), indent=2))
    return 0


def moment(text: str) -> datetime:
    """``2026-11-01`` (midnight UTC) or an instant with its offset, as the API reads them."""
    try:
        if len(text) == 10:
            return datetime.combine(written_day(text), datetime.min.time(), UTC)
        return written_instant(text)
    except InvalidInput as error:
        raise argparse.ArgumentTypeError(error.detail) from None
