"""The ``subledger`` command line. Exit codes: 0 ok, 1 a check failed, 2 bad usage or
bad input (one line on stderr)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .config import ConfigError, Settings
from .domain.errors import DomainError
from .progress import ProgressBar

if TYPE_CHECKING:
    import threading

    from subledger.commands.ledger import Ledger
    from subledger.projections.follow import Follower


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="subledger", description="An event-sourced subscription ledger.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = commands.add_parser("serve", help="serve the HTTP API (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-workers", action="store_true",
                       help="do not run the projector or relay in this process")
    project = commands.add_parser("project", help="run the projections (follow the log)")
    project.add_argument("--once", action="store_true", help="catch up and exit")
    relay = commands.add_parser(
        "relay", help="stream the log and the projections' outputs to Kafka",
        description="Publish every event, each subscription's state and every MRR movement to "
        "the Kafka topics of SUBLEDGER_KAFKA_BOOTSTRAP, advancing only once the broker "
        "acknowledged. --once catches up and exits (exit 1 if the broker is unavailable).")
    relay.add_argument("--once", action="store_true", help="catch up and exit")
    webhooks = commands.add_parser("webhooks", help="deliver the webhooks (and nothing else)")
    webhooks.add_argument("--once", action="store_true", help="deliver what is due and exit")
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
    billing = commands.add_parser("billing", help="the billing clock")
    billing_commands = billing.add_subparsers(dest="billing_command", required=True,
                                              parser_class=_Parser)
    run = billing_commands.add_parser("run", help="perform everything due up to --until")
    run.add_argument("--until", required=True, type=_instant,
                     help="ISO-8601 instant with offset, e.g. 2026-03-01T00:00:00Z (not in the future)")
    run.add_argument("--idempotency-key", metavar="KEY",
                     help="a retry with the same key prints the first run's answer and appends nothing")
    demo = commands.add_parser("demo", help="generate realistic history through the commands")
    demo.add_argument("--subscribers", type=_positive, required=True)
    demo.add_argument("--months", type=_positive, required=True)
    demo.add_argument("--seed", type=int, default=1)
    return parser


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
        return _serve(settings, args.host, args.port, workers=not args.no_workers)
    try:
        ledger = _open_ledger(settings)
    except _StoreUnavailable as error:
        print(f"subledger: cannot open the event store: {error}", file=sys.stderr)
        return 2
    try:
        if args.command == "billing":
            return _billing_run(ledger, args.until, args.idempotency_key)
        if args.command == "demo":
            return _demo(ledger, args.subscribers, args.months, args.seed)
        if args.command == "project":
            return _project(settings, ledger, once=args.once)
        if args.command == "relay":
            return _relay(settings, ledger, once=args.once)
        if args.command == "webhooks":
            return _webhooks(settings, ledger, once=args.once)
        if args.command == "rebuild":
            return _rebuild(settings, ledger, args.view, verify=args.verify, table=args.table)
    except DomainError as error:
        print(f"subledger: {error.detail}", file=sys.stderr)
        return 2
    finally:
        ledger.close()
    return 2  # pragma: no cover - argparse requires a known command


class _StoreUnavailable(Exception):
    pass


def _open_ledger(settings: Settings) -> Ledger:
    from .bootstrap import build_ledger

    try:
        return build_ledger(settings)
    except Exception as error:  # noqa: BLE001 - any failure to open the store is the operator's to fix
        raise _StoreUnavailable(str(error).splitlines()[0] if str(error) else type(error).__name__) from None


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


def _demo(ledger: Ledger, subscribers: int, months: int, seed: int) -> int:
    from subledger.commands.demo import generate

    bar = ProgressBar("demo")
    try:
        summary = generate(ledger, subscribers=subscribers, months=months, seed=seed, progress=bar)
    finally:
        bar.close()
    print(json.dumps({"subscribers": summary.subscribers, "commands": summary.commands,
                      "refused": summary.refused, "billing_runs": summary.billing_runs,
                      "events": ledger.event_log.max_position()}, indent=2))
    return 0


def _serve(settings: Settings, host: str, port: int, *, workers: bool) -> int:
    import threading

    import uvicorn

    from .bootstrap import build_api, build_projector, build_relay

    if not 0 < port < 65536:
        print("subledger: --port must be from 1 to 65535", file=sys.stderr)
        return 2
    _log_to_stderr()
    try:
        ledger = _open_ledger(settings)
        projector = build_projector(settings, ledger) if workers else None
    except _StoreUnavailable as error:
        print(f"subledger: cannot open the event store: {error}", file=sys.stderr)
        return 2
    stop = threading.Event()
    finish: list[Callable[[], None]] = []
    if projector is not None:  # else --no-workers: the API alone
        finish_webhooks = _start_webhooks(settings, ledger, stop)
        finish.append(_in_background(projector.follower(), stop, name="projector", join=10))
        if settings.kafka_bootstrap:
            relay = build_relay(settings, ledger)
            finish.append(_in_background(relay.follower(), stop, name="relay", join=10,
                                         close=lambda: _close(relay)))
        finish.append(finish_webhooks)
    try:
        uvicorn.run(build_api(settings, ledger=ledger, projector=projector), host=host, port=port,
                    log_level="info")
    finally:
        stop.set()
        for step in finish:
            step()
        ledger.close()
    return 0


def _project(settings: Settings, ledger: Ledger, *, once: bool) -> int:

    from .bootstrap import build_projector

    _log_to_stderr()
    projector = build_projector(settings, ledger)
    try:
        if once:
            read = projector.run_once()
            print(json.dumps({"events_read": read, "lag": projector.lag()}))
            return 0
        stop = _stop_on_signals()
        finish_webhooks = _start_webhooks(settings, ledger, stop)
        try:
            return _follow(projector.follower(), stop)
        finally:
            finish_webhooks()
    finally:
        projector.close()


def _log_to_stderr() -> None:
    """INFO from subledger's workers; the Kafka client's own chatter only from WARNING up."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)


def _stop_on_signals() -> threading.Event:
    """An event that SIGINT or SIGTERM sets: a worker's way to finish what it is doing."""
    import signal
    import threading

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _follow(worker: Follower, stop: threading.Event | None = None) -> int:
    """Run a worker in this thread until ``stop`` is set (by default: until SIGINT or
    SIGTERM)."""
    from subledger.projections.follow import follow

    follow(worker, _stop_on_signals() if stop is None else stop)
    return 0


def _in_background(worker: Follower, stop: threading.Event, *, name: str, join: float,
                   close: Callable[[], None] | None = None) -> Callable[[], None]:
    """Run a worker in a thread of its own until ``stop`` is set; returns the function that
    sets it, waits for the thread (at most ``join`` seconds: a round stuck on the network
    must not hold the process) and then ``close()``s the worker."""
    import threading

    thread = threading.Thread(target=_follow, args=(worker, stop), name=name, daemon=True)
    thread.start()

    def finish() -> None:
        stop.set()
        thread.join(timeout=join)
        if close is not None:
            close()

    return finish


def _close(worker: Any) -> None:
    worker.close()
    worker.store.close()


def _relay(settings: Settings, ledger: Ledger, *, once: bool) -> int:

    from subledger.projections.relay import BrokerUnavailable

    from .bootstrap import build_relay

    if not settings.kafka_bootstrap:
        print("subledger: SUBLEDGER_KAFKA_BOOTSTRAP is not set: there is no broker to relay to",
              file=sys.stderr)
        return 2
    _log_to_stderr()
    relay = build_relay(settings, ledger)
    try:
        if once:
            try:
                sent = relay.run_once()
            except BrokerUnavailable as error:
                print(f"subledger: Kafka unavailable: {error}", file=sys.stderr)
                return 1
            print(json.dumps({"messages_sent": sent, "lag": relay.lag()}))
            return 0
        return _follow(relay.follower())
    finally:
        _close(relay)


def _start_webhooks(settings: Settings, ledger: Ledger, stop: threading.Event) -> Callable[[], None]:
    """Run the webhook dispatcher in a thread until ``stop`` is set; returns the function
    that sets it and waits for the deliveries in flight."""
    from .bootstrap import build_webhooks

    dispatcher = build_webhooks(settings, ledger)
    return _in_background(dispatcher.follower(), stop, name="webhooks", join=30,
                          close=lambda: _close(dispatcher))


def _webhooks(settings: Settings, ledger: Ledger, *, once: bool) -> int:
    from .bootstrap import build_webhooks

    _log_to_stderr()
    dispatcher = build_webhooks(settings, ledger)
    try:
        if once:
            delivered = total = dispatcher.run_once()
            while delivered:
                delivered = dispatcher.run_once()
                total += delivered
            print(json.dumps({"delivered": total}))
            return 0
        return _follow(dispatcher.follower())
    finally:
        _close(dispatcher)


def _rebuild(settings: Settings, ledger: Ledger, view: str, *, verify: bool,
             table: bool) -> int:
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
                summary = projector.rebuild_model(view, progress=bar)
            finally:
                bar.close()
            if table:
                print_rebuild(summary.as_dict())
            else:
                print(json.dumps(summary.as_dict()))
            return 0
        try:
            with scratch_views(settings) as scratch:
                outcome = verify_model(projector, view, scratch, progress=bar)
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
