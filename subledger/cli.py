"""The ``subledger`` command line. Exit codes: 0 ok, 1 a check failed, 2 bad usage or
bad input (one line on stderr)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from . import audit_cli, export_cli, gateways_cli, mail_cli, replay_cli, workers
from .bootstrap import StoreUnavailable, open_ledger
from .cli_parser import UsageError, build_parser
from .config import ConfigError, Settings
from .domain.errors import DomainError
from .progress import ProgressBar
from .replay.arrow import AnalyticsUnavailable

if TYPE_CHECKING:
    from subledger.commands.ledger import Ledger


READERS = frozenset({"replay", "export", "audit", "rebuild"})
"""Commands that read a book already there: on SQLite they never make a new file."""


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        settings = Settings.from_env(os.environ)
    except UsageError as error:
        print(str(error), file=sys.stderr)
        return 2
    except ConfigError as error:
        print(f"subledger: {error}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return workers.serve(settings, args.host, args.port, with_workers=not args.no_workers,
                             processes=args.processes)
    if args.command == "audit" and args.audit_command == "witness":
        return audit_cli.run_witness(args)
    try:
        ledger = open_ledger(settings, existing=args.command in READERS)
    except StoreUnavailable as error:
        print(f"subledger: cannot open the event store: {error}", file=sys.stderr)
        return 2
    try:
        if args.command == "billing" and args.billing_command == "follow":
            return workers.billing_follow(settings, ledger)
        if args.command == "billing":
            return _billing_run(ledger, args.until, args.idempotency_key)
        if args.command == "gateways":
            return gateways_cli.run(ledger, args)
        if args.command == "demo":
            return _demo(ledger, args.subscribers, args.months, args.seed)
        if args.command == "project" and args.from_kafka:
            return workers.project_member(settings, ledger, once=args.once)
        if args.command == "project":
            return workers.project(settings, ledger, once=args.once)
        if args.command == "relay":
            return workers.relay(settings, ledger, once=args.once)
        if args.command == "webhooks":
            return workers.webhooks(settings, ledger, once=args.once)
        if args.command == "mail":
            return mail_cli.run(settings, ledger, args)
        if args.command == "audit":
            return audit_cli.run(settings, ledger, args)
        if args.command == "rebuild":
            return _rebuild(settings, ledger, args.view, verify=args.verify, table=args.table,
                            page_size=args.page_size)
        if args.command == "replay":
            return replay_cli.run(args, ledger)
        if args.command == "export":
            return export_cli.run(args, ledger)
        if args.command == "keys":
            return _rotate_keys(ledger)
    except DomainError as error:
        print(f"subledger: {error.detail}", file=sys.stderr)
        return 2
    except AnalyticsUnavailable as error:
        print(f"subledger: {error}", file=sys.stderr)
        return 2
    finally:
        ledger.close()
    return 2  # pragma: no cover - argparse requires a known command


def _billing_run(ledger: Ledger, until: datetime, key: str | None) -> int:
    from subledger.commands.idempotency import OPEN_SCOPE, IdempotencyKey
    from subledger.commands.writes import RunBilling

    bar = ProgressBar("billing")
    try:
        answer = ledger.execute(RunBilling(until, progress=bar),
                                None if key is None else IdempotencyKey(OPEN_SCOPE, key))
    finally:
        bar.close()
    print(json.dumps(answer.body, indent=2))
    return 0


def _rotate_keys(ledger: Ledger) -> int:
    from subledger.store.data_keys import KeyUnavailable
    from subledger.store.rotation import rotate

    if ledger.keys is None:
        print("subledger: SUBLEDGER_CIPHER_KEY is not set: there is no key to rotate to", file=sys.stderr)
        return 2
    try:
        done = rotate(ledger.store.recorder, ledger.keys)
    except KeyUnavailable as error:
        print(f"subledger: {error}", file=sys.stderr)
        return 2
    print(json.dumps({"key": done.key, "rewrapped": done.rewrapped,
                      "already_current": done.already_current}, indent=2))
    return 0


def _demo(ledger: Ledger, subscribers: int, months: int, seed: int) -> int:
    import time

    from subledger.commands.demo import generate

    first = ledger.event_log.max_position()
    started = time.perf_counter()
    bar = ProgressBar("demo")
    try:
        summary = generate(ledger, subscribers=subscribers, months=months, seed=seed, progress=bar)
    finally:
        bar.close()
    seconds = time.perf_counter() - started
    made = ledger.event_log.count_by_type(first)
    events = sum(made.values())
    print(json.dumps({"subscribers": summary.subscribers, "commands": summary.commands,
                      "refused": summary.refused, "billing_runs": summary.billing_runs,
                      "events": ledger.event_log.max_position(), "events_made": events,
                      "invoices": made.get("InvoiceIssued", 0),
                      "charges_succeeded": made.get("ChargeSucceeded", 0),
                      "charges_failed": made.get("ChargeFailed", 0),
                      "refunds": made.get("RefundIssued", 0),
                      "seconds": round(seconds, 1),
                      "events_per_second": round(events / seconds) if seconds else None,
                      "events_by_type": made}, indent=2))
    return 0


def _rebuild(settings: Settings, ledger: Ledger, view: str, *, verify: bool,
             table: bool, page_size: int) -> int:
    from subledger.replay.verify import VerifyError, scratch_views
    from subledger.replay.verify import verify as verify_model

    from .bootstrap import build_projector, read_models
    from .tables import print_rebuild, print_verification

    names = [model.name for model in read_models(ledger)]
    if view not in names:
        print(f"subledger: no read model {view!r}; read models: {', '.join(names)}", file=sys.stderr)
        return 2
    projector = build_projector(settings, ledger)
    bar = ProgressBar(f"rebuild {view}")
    try:
        if not verify:
            try:
                summary = projector.rebuild_model(view, progress=bar, page_size=page_size)
            finally:
                bar.close()
            if table:
                print_rebuild(summary.as_dict())
            else:
                print(json.dumps(summary.as_dict()))
            return 0
        try:
            with scratch_views(settings) as scratch:
                outcome = verify_model(projector, view, scratch, progress=bar, page_size=page_size)
        except VerifyError as error:
            print(f"subledger: {error}", file=sys.stderr)
            return 1
        finally:
            bar.close()
        if table:
            print_verification(outcome.as_dict())
        else:
            print(json.dumps(outcome.as_dict(), default=str))
        if outcome.difference is not None:
            print(f"subledger: {view} differs from a rebuild at position {outcome.position}:"
                  f" {outcome.difference.describe()}", file=sys.stderr)
            return 1
        return 0
    finally:
        projector.close()
        projector.store.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
