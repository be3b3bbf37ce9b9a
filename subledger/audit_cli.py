"""``subledger audit verify|follow|witness``: the proofs on the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .progress import ProgressBar

if TYPE_CHECKING:
    from subledger.commands.ledger import Ledger

    from .config import Settings


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser], parser_class: type) -> None:
    audit = commands.add_parser("audit", help="the log's Merkle tree: verify it, keep it, witness it")
    actions = audit.add_subparsers(dest="audit_command", required=True, parser_class=parser_class)
    actions.add_parser(
        "verify", help="recompute the Merkle tree from the stored events and compare",
        description="Recompute the log's Merkle tree from the stored events (a progress bar on "
        "a terminal) and compare it with every stored leaf, subtree and signed head; print a "
        "JSON summary. Exit 1 naming the first bad position, 0 when everything matches.")
    follow = actions.add_parser(
        "follow", help="keep the Merkle tree and its signed heads current (follow the log)",
        description="Add every new event to the Merkle tree and make a tree head every "
        "SUBLEDGER_AUDIT_HEAD_EVENTS events or SUBLEDGER_AUDIT_HEAD_SECONDS seconds, signed "
        "with SUBLEDGER_AUDIT_KEY, until SIGINT or SIGTERM. --once catches up and exits.")
    follow.add_argument("--once", action="store_true", help="catch up and exit")
    witness = actions.add_parser(
        "witness", help="check the newest signed head against the last one accepted",
        description="Fetch the ledger's newest tree head, check its signature with the public key "
        "pinned in FILE (fetched on the first run) and a consistency proof from the head "
        "accepted last; then accept it into FILE. Exit 1 if the ledger rewrote its past (even "
        "re-signed with its real key), 2 if the witness could not run.")
    witness.add_argument("--state", required=True, type=Path, metavar="FILE",
                         help="the witness's state: the pinned public key and the accepted head")
    witness.add_argument("--url", help="the ledger's API (default: the URL in FILE, else "
                         "http://127.0.0.1:8000)")
    witness.add_argument("--api-key", help="an API key with the reader role, if the API has keys")


def run_witness(args: argparse.Namespace) -> int:
    """``audit witness``: needs no store, only the API."""
    from .witness import PastRewritten, WitnessError, witness

    try:
        accepted = witness(args.state, args.url, args.api_key)
    except WitnessError as error:
        print(f"subledger: {error}", file=sys.stderr)
        return 2
    except PastRewritten as error:
        print(f"subledger: {error}", file=sys.stderr)
        return 1
    print(json.dumps({"accepted": accepted.head.fields(), "previous_tree_size": accepted.previous_size}))
    return 0


def run(settings: Settings, ledger: Ledger, args: argparse.Namespace) -> int:
    if args.audit_command == "follow":
        return _follow(settings, ledger, once=args.once)
    return _verify(settings, ledger)


def _verify(settings: Settings, ledger: Ledger) -> int:
    from subledger.audit.heads import HeadSigner
    from subledger.projections.audit_tree import create_tables
    from subledger.projections.audit_verify import verify
    from subledger.projections.store import ViewStore

    store = ViewStore(settings)
    bar = ProgressBar("audit verify")
    try:
        create_tables(store)
        public_key = None if settings.audit_key is None else HeadSigner(settings.audit_key).public_key
        outcome = verify(ledger.event_log, store, public_key, progress=bar)
    finally:
        bar.close()
        store.close()
    print(json.dumps(outcome.as_dict()))
    if not outcome.ok:
        print(f"subledger: the log's Merkle tree is broken at position {outcome.position}:"
              f" {outcome.problem}", file=sys.stderr)
        return 1
    return 0


def _follow(settings: Settings, ledger: Ledger, *, once: bool) -> int:
    from . import running
    from .bootstrap import build_merkle_follower

    running.log_to_stderr()
    follower = build_merkle_follower(settings, ledger)
    try:
        if not once:
            return running.follow_until_stopped(follower.follower())
        added = total = follower.run_once()
        while added:
            added = follower.run_once()
            total += added
        print(json.dumps({"events_added": total}))
        return 0
    finally:
        follower.close()
