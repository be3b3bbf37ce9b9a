"""``subledger mail``: the mail worker, and an operator's hands on its outbox (list the
messages of a status, send one again, give one up). Only the worker needs an SMTP server."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from . import workers

if TYPE_CHECKING:
    from subledger.commands.ledger import Ledger
    from subledger.messages.outbox import Outgoing

    from .config import Settings


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from subledger.messages.outbox import STATUSES

    mail = commands.add_parser(
        "mail", help="send the e-mails to subscribers (and nothing else)",
        description="Follow the log and send the e-mails it makes due (receipts, payment "
        "failures, cancellations, trial-ending notices, renewal reminders, win-back offers) "
        "through SUBLEDGER_SMTP_URL, until SIGINT or SIGTERM. --once sends what is due now, "
        "prints the outbox's counts and exits. Exit 2 when SUBLEDGER_SMTP_URL is not set. "
        "--list, --retry and --give-up read or change the outbox only (no SMTP server).")
    action = mail.add_mutually_exclusive_group()
    action.add_argument("--once", action="store_true", help="send what is due now and exit")
    action.add_argument("--list", choices=STATUSES, metavar="STATUS",
                        help=f"print the outbox's messages of STATUS ({', '.join(STATUSES)}), "
                        "one JSON object a line, in log order")
    action.add_argument("--retry", metavar="MESSAGE_ID",
                        help="send a message left sending (its process died) or failed again, "
                        "with a fresh round of attempts")
    action.add_argument("--give-up", metavar="MESSAGE_ID",
                        help="never send a pending or sending message: mark it failed")


def run(settings: Settings, ledger: Ledger, args: argparse.Namespace) -> int:
    if args.list is None and args.retry is None and args.give_up is None:
        return workers.mail(settings, ledger, once=args.once)
    from subledger.messages import outbox
    from subledger.projections.store import ViewStore

    store = ViewStore(settings)
    try:
        outbox.create_tables(store)
        if args.list is not None:
            for message in outbox.outbox(store, status=args.list):
                print(json.dumps(_listed(message)))
            return 0
        status, message_id = (outbox.PENDING, args.retry) if args.retry else (outbox.FAILED, args.give_up)
        was = outbox.settle_by_hand(store, message_id, status, ledger.clock())
    finally:
        store.close()
    if was is None:
        print(f"subledger: no message {message_id} in the outbox", file=sys.stderr)
        return 2
    if was not in outbox.BY_HAND[status]:
        allowed = " or ".join(outbox.BY_HAND[status])
        print(f"subledger: message {message_id} is {was}: only a {allowed} message can be "
              f"{'sent again' if status == outbox.PENDING else 'given up'}", file=sys.stderr)
        return 2
    print(json.dumps({"message_id": message_id, "status": status, "was": was}))
    return 0


def _listed(message: Outgoing) -> dict[str, object]:
    from subledger.domain.time import isoformat

    due = datetime.fromtimestamp(message.next_attempt_at, UTC)
    return {"message_id": message.message_id, "kind": message.kind, "status": message.status,
            "attempts": message.attempts, "next_attempt_at": isoformat(due),
            "last_error": message.last_error, "recipient": message.recipient,
            "subject": message.subject, "sent_at": message.sent_at,
            "subscriber_id": message.subscriber_id, "subscription_id": message.subscription_id,
            "position": message.position}
