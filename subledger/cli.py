"""The ``subledger`` command line. Exit codes: 0 ok, 1 a check failed, 2 bad usage or
bad input (one line on stderr)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from . import audit_cli, export_cli, replay_cli, workers
from .bootstrap import StoreUnavailable, open_ledger
from .config import ConfigError, Settings
from .domain.errors import DomainError
from .progress import ProgressBar
from .projections.runner import REBUILD_PAGE_SIZE
from .replay.arrow import AnalyticsUnavailable

if TYPE_CHECKING:
    from subledger.commands.ledger import Ledger


READERS = frozenset({"replay", "export", "audit", "rebuild"})
"""Commands that read a book already there: on SQLite they never make a new file."""


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="subledger", description="An event-sourced subscription ledger.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_workers(commands)
    _add_rebuild(commands)
    _add_billing(commands)
    audit_cli.add_parser(commands, _Parser)
    _add_demo_and_keys(commands)
    replay_cli.add_parser(commands)
    export_cli.add_parser(commands)
    return parser


def _add_workers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The long-running processes: the API and each background worker."""
    serve = commands.add_parser("serve", help="serve the HTTP API (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-workers", action="store_true",
                       help="do not run the projector or relay in this process")
    serve.add_argument("--processes", type=_positive, default=1, metavar="N",
                       help="answer the API from N processes (PostgreSQL only); the workers "
                       "still run once, in the process started")
    project = commands.add_parser("project", help="run the projections (follow the log)")
    project.add_argument("--once", action="store_true", help="catch up and exit")
    project.add_argument("--from-kafka", action="store_true",
                         help="run as a member of SUBLEDGER_PROJECTOR_GROUP: build the read models "
                         "partitioned by subscriber from the events topic (docs/scaling.md)")
    relay = commands.add_parser(
        "relay", help="stream the log and the projections' outputs to Kafka",
        description="Publish every event, each subscription's state and every MRR movement to "
        "the Kafka topics of SUBLEDGER_KAFKA_BOOTSTRAP, advancing only once the broker "
        "acknowledged. --once catches up and exits (exit 1 if the broker is unavailable).")
    relay.add_argument("--once", action="store_true", help="catch up and exit")
    webhooks = commands.add_parser("webhooks", help="deliver the webhooks (and nothing else)")
    webhooks.add_argument("--once", action="store_true", help="deliver what is due and exit")
    mail = commands.add_parser(
        "mail", help="send the e-mails to subscribers (and nothing else)",
        description="Follow the log and send the e-mails it makes due (receipts, payment "
        "failures, cancellations, trial-ending notices, renewal reminders, win-back offers) "
        "through SUBLEDGER_SMTP_URL, until SIGINT or SIGTERM. --once sends what is due now, "
        "prints the outbox's counts and exits. Exit 2 when SUBLEDGER_SMTP_URL is not set.")
    mail.add_argument("--once", action="store_true", help="send what is due now and exit")


def _add_rebuild(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rebuild = commands.add_parser(
        "rebuild", help="drop a read model and build it again from position 0",
        description="Drop a read model and build it again from position 0 (a progress bar on "
        "a terminal), then print a JSON summary. --verify builds it into a scratch copy "
        "instead, leaving the live model alone, and compares the two: exit 1 naming the "
        "first difference, 0 when identical. --table prints the summary as tables for a "
        "person instead of JSON (same exit code).")
    rebuild.add_argument("view", help="the read model's name, e.g. subscriptions or mrr")
    rebuild.add_argument("--verify", action="store_true",
                         help="rebuild into a scratch copy and compare it with the live model")
    rebuild.add_argument("--table", action="store_true",
                         help="print tables for a person instead of the JSON summary "
                         "(for scripts, keep the JSON)")
    rebuild.add_argument("--page-size", type=_positive, default=REBUILD_PAGE_SIZE, metavar="N",
                         help=f"events of the model's types per transaction (default "
                         f"{REBUILD_PAGE_SIZE:,}): larger pages write each row they touch "
                         "fewer times and hold more events in memory (docs/reports.md)")


def _add_billing(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    billing = commands.add_parser("billing", help="the billing clock")
    billing_commands = billing.add_subparsers(dest="billing_command", required=True,
                                              parser_class=_Parser)
    run = billing_commands.add_parser("run", help="perform everything due up to --until")
    run.add_argument("--until", required=True, type=_instant,
                     help="ISO-8601 instant with offset, e.g. 2026-03-01T00:00:00Z (not in the future)")
    run.add_argument("--idempotency-key", metavar="KEY",
                     help="a retry with the same key prints the first run's answer and appends nothing")
    billing_commands.add_parser(
        "follow", help="run the billing clock up to now every SUBLEDGER_BILLING_INTERVAL seconds",
        description="Run the billing clock up to now, then again every "
        "SUBLEDGER_BILLING_INTERVAL seconds, logging each run's summary on one line, until "
        "SIGINT or SIGTERM (the run in progress is finished first). Any number of these, "
        "serve processes and runs by hand may share a store: each step is recorded once. "
        "Exit 2 when SUBLEDGER_BILLING_INTERVAL is 0 (the clock is off).")


def _add_demo_and_keys(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser("demo", help="generate realistic history through the commands")
    demo.add_argument("--subscribers", type=_positive, required=True)
    demo.add_argument("--months", type=_positive, required=True)
    demo.add_argument("--seed", type=int, default=1)
    keys = commands.add_parser("keys", help="the subscribers' data keys")
    keys.add_subparsers(dest="keys_command", required=True, parser_class=_Parser).add_parser(
        "rotate", help="re-wrap every data key under a new SUBLEDGER_CIPHER_KEY",
        description="Re-wrap every subscriber's data key under SUBLEDGER_CIPHER_KEY, reading "
        "the old ones with SUBLEDGER_CIPHER_KEY_PREVIOUS; the log is not touched. Prints a JSON "
        "summary; safe to run again. Exit 2 without SUBLEDGER_CIPHER_KEY, or when a data key is "
        "wrapped by neither key.")


def _instant(text: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r}") from None
    if instant.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give the UTC offset, e.g. {text}Z")
    return instant


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
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
            return workers.mail(settings, ledger, once=args.once)
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
