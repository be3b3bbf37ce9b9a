"""``python -m bench`` (or ``make bench``): run every benchmark.

``python -m bench replay`` (decoded replay and Parquet export rates, peak memory, on a book of
at least ``--replay-events`` events, 1,000,000 by default) takes about 10 minutes here; it runs
with the others.

``python -m bench audit`` (the Merkle follower's and ``audit verify``'s rates, proof latency,
on a book of ``--audit-events`` events, 1,000,000 by default) runs only when named.

``python -m bench projections`` (rebuild rate on a demo book of 500k events, report latency
at 10k and 100k subscribers, each size a book of its own) takes about 21 minutes here; it
runs with the others, so that one run measures every figure of the ledger's own table;
``--part rebuild`` or ``--part latency`` runs one half.

``python -m bench dashboard`` (the dashboard's first paint in headless chromium on a book of
``--dashboard-at`` subscribers, 100,000 by default) takes about 20 minutes here, so it runs
only when named.

``python -m bench cohorts`` (the cohort matrix folded from the log and read from its model, on
a book of ``--cohorts-at`` subscribers, 10,000 by default) runs only when named (and in
``--quick``).

Every run ends with one table of every figure it measured, its baseline and their ratio
(``bench.figures``). ``python -m bench --quick`` (``make bench-quick``) runs every benchmark,
``projections``, ``audit`` and ``cohorts`` included, at small sizes in a few minutes: CI runs it so that the
benchmarks keep working; its figures are too small to mean much, and nothing asserts them."""

from __future__ import annotations

import argparse
import sys

from . import billing, commands, privacy, relay, replay, writers
from .figures import figures, table


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N[,N...], got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive subscriber counts, got {text!r}")
    return sizes


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--n", type=int, default=1000, help="commands per measurement")
    parser.add_argument("--subscriptions", type=int, default=2000, help="book size for billing")
    parser.add_argument("--events", type=int, default=500_000,
                        help="least events in the book of the projections benchmark")
    parser.add_argument("--latency-at", type=_sizes, default=(10_000, 100_000), metavar="N,N",
                        help="subscriber counts at which the projections benchmark times the reports")
    parser.add_argument("--part", choices=["rebuild", "latency"],
                        help="projections: only the rebuild rate, or only the report latency")
    parser.add_argument("--replay-events", type=int, default=1_000_000,
                        help="least events in the book of the replay benchmark")
    parser.add_argument("--dashboard-at", type=int, default=100_000, metavar="N",
                        help="subscribers in the book of the dashboard benchmark")
    parser.add_argument("--cohorts-at", type=int, default=10_000, metavar="N",
                        help="subscribers in the book of the cohorts benchmark")
    parser.add_argument("--audit-events", type=int, default=1_000_000,
                        help="least events in the book of the audit benchmark")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="wall time of each measurement of the writers benchmark")
    parser.add_argument("--quick", action="store_true",
                        help="every benchmark at small sizes (a few minutes): that they run, not what they measure")
    parser.add_argument("only", nargs="?", choices=["commands", "billing", "relay", "replay", "writers",
                                                    "privacy", "projections", "audit", "dashboard",
                                                    "kafka-group", "cohorts"],
                        help="run one benchmark (audit, dashboard and cohorts run only when named)")
    return parser.parse_args()


def main() -> int:
    args = _arguments()
    if args.quick:
        _quick(args)
    if args.only in (None, "commands"):
        commands.run(n=args.n)
    if args.only in (None, "billing"):
        billing.run(n=args.subscriptions)
    if args.only in (None, "relay"):
        relay.run(**(QUICK_RELAY if args.quick else {}))
    if args.only in (None, "kafka-group"):
        from . import kafka_group

        kafka_group.run(**(QUICK_RELAY if args.quick else {}))
    if args.only in (None, "replay"):
        replay.run(events=args.replay_events)
    if args.only in (None, "writers"):
        writers.run(seconds=args.seconds)
    if args.only in (None, "privacy"):
        privacy.run(n=args.n)
    if args.only == "audit" or (args.quick and args.only is None):
        from . import audit

        audit.run(events=args.audit_events)
    if args.only in (None, "projections"):
        if args.part in (None, "rebuild"):
            from .projections import run_rebuild

            run_rebuild(args.events)
        if args.part in (None, "latency"):
            from .latency import run_latency

            run_latency(args.latency_at)
    if args.only == "dashboard":
        from . import dashboard

        dashboard.run(subscribers=args.dashboard_at)
    if args.only == "cohorts" or (args.quick and args.only is None):
        from . import cohorts

        cohorts.run(subscribers=args.cohorts_at)
    print()
    print(table(figures()))
    return 0


QUICK = {"n": 50, "subscriptions": 100, "events": 5_000, "latency_at": (200, 2_000),
         "replay_events": 5_000, "audit_events": 5_000, "seconds": 1.0, "cohorts_at": 200}
"""The sizes of ``--quick``."""
QUICK_RELAY = {"subscribers": 30, "months": 3}


def _quick(args: argparse.Namespace) -> None:
    for name, value in QUICK.items():
        setattr(args, name, value)


if __name__ == "__main__":
    sys.exit(main())
