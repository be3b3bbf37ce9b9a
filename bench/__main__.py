"""``python -m bench`` (or ``make bench``): run every benchmark.

``python -m bench replay`` (decoded replay and Parquet export rates, peak memory, on a book of
at least ``--replay-events`` events, 1,000,000 by default) takes about 10 minutes here; it runs
with the others.

``python -m bench audit`` (the Merkle follower's and ``audit verify``'s rates, proof latency,
on a book of ``--audit-events`` events, 1,000,000 by default) runs only when named.

``python -m bench projections`` (rebuild rate on a demo book of 500k events, report latency
at 10k and 100k subscribers) takes about 16 minutes here, so it runs only when named;
``--part rebuild`` or ``--part latency`` runs one half."""

from __future__ import annotations

import argparse
import sys

from . import billing, commands, relay, replay, writers


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N[,N...], got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive subscriber counts, got {text!r}")
    return sizes


def main() -> int:
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
    parser.add_argument("--audit-events", type=int, default=1_000_000,
                        help="least events in the book of the audit benchmark")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="wall time of each measurement of the writers benchmark")
    parser.add_argument("only", nargs="?", choices=["commands", "billing", "relay", "replay", "writers", "projections",
                                                    "audit"],
                        help="run one benchmark (projections runs only when named)")
    args = parser.parse_args()
    if args.only in (None, "commands"):
        commands.run(n=args.n)
    if args.only in (None, "billing"):
        billing.run(n=args.subscriptions)
    if args.only in (None, "relay"):
        relay.run()
    if args.only in (None, "replay"):
        replay.run(events=args.replay_events)
    if args.only in (None, "writers"):
        writers.run(seconds=args.seconds)
    if args.only == "audit":
        from . import audit

        audit.run(events=args.audit_events)
    if args.only == "projections":
        from . import projections

        projections.run(events=args.events, sizes=args.latency_at, part=args.part)
    return 0


if __name__ == "__main__":
    sys.exit(main())
