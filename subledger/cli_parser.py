"""The ``subledger`` command line's grammar: every command, its options and how each value
is read. A value that does not parse is a :class:`UsageError` (exit 2, one line)."""

from __future__ import annotations

import argparse
from datetime import datetime

from . import audit_cli, export_cli, gateways_cli, mail_cli, replay_cli
from .domain.errors import InvalidInput
from .domain.time import written_instant
from .projections.runner import REBUILD_PAGE_SIZE


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="subledger", description="An event-sourced subscription ledger.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    _add_workers(commands)
    _add_rebuild(commands)
    _add_billing(commands)
    gateways_cli.add_parser(commands, Parser)
    audit_cli.add_parser(commands, Parser)
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
    mail_cli.add_parser(commands)


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
                                              parser_class=Parser)
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
    keys.add_subparsers(dest="keys_command", required=True, parser_class=Parser).add_parser(
        "rotate", help="re-wrap every data key under a new SUBLEDGER_CIPHER_KEY",
        description="Re-wrap every subscriber's data key under SUBLEDGER_CIPHER_KEY, reading "
        "the old ones with SUBLEDGER_CIPHER_KEY_PREVIOUS; the log is not touched. Prints a JSON "
        "summary; safe to run again. Exit 2 without SUBLEDGER_CIPHER_KEY, or when a data key is "
        "wrapped by neither key.")


def _instant(text: str) -> datetime:
    try:
        return written_instant(text)
    except InvalidInput as error:
        raise argparse.ArgumentTypeError(error.detail) from None


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)
