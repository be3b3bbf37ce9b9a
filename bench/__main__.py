"""``python -m bench`` (or ``make bench``): run every benchmark."""

from __future__ import annotations

import argparse
import sys

from . import billing, commands


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--n", type=int, default=1000, help="commands per measurement")
    parser.add_argument("--subscriptions", type=int, default=2000, help="book size for billing")
    parser.add_argument("only", nargs="?", choices=["commands", "billing"], help="run one benchmark")
    args = parser.parse_args()
    if args.only in (None, "commands"):
        commands.run(n=args.n)
    if args.only in (None, "billing"):
        billing.run(n=args.subscriptions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
