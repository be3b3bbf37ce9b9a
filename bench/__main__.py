"""``python -m bench`` (or ``make bench``): run every benchmark."""

from __future__ import annotations

import argparse
import sys

from . import commands


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--n", type=int, default=1000, help="commands per measurement")
    args = parser.parse_args()
    commands.run(n=args.n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
