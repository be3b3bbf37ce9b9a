"""``subledger replay ...``: the analysts' commands, parsed here and run over the ledger's
log (``replay/``). Each prints its answer on stdout (``--format json``, the default, for
scripts; ``csv``; ``table`` for a person) and draws a progress bar on stderr on a terminal.
Bad input is one line on stderr and exit 2; the ledger is only read.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from .domain.errors import InvalidInput
from .domain.time import UTC, written_day, written_instant
from .progress import ProgressBar

if TYPE_CHECKING:
    from subledger.commands.ledger import Ledger
    from subledger.replay.selection import Selection

OUTPUTS = ("json", "csv", "table")


def _when(text: str) -> tuple[datetime, bool]:
    """A day (YYYY-MM-DD) or an instant; True when it was a day."""
    try:
        if len(text) == 10:
            day = written_day(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC), True
        return written_instant(text), False
    except InvalidInput as error:
        raise argparse.ArgumentTypeError(error.detail) from None


def _from(text: str) -> datetime:
    return _when(text)[0]


def _to(text: str) -> datetime:
    """An inclusive end: a day runs to its last microsecond."""
    instant, day = _when(text)
    return instant + timedelta(days=1, microseconds=-1) if day else instant


def _day(text: str) -> date:
    try:
        return written_day(text)
    except InvalidInput as error:
        raise argparse.ArgumentTypeError(error.detail) from None


def _instant(text: str) -> datetime:
    try:
        return written_instant(text)
    except InvalidInput as error:
        raise argparse.ArgumentTypeError(error.detail) from None


def _currency(text: str) -> str:
    """An ISO 4217 code, upper-cased: a code the ledger cannot hold is refused rather than
    answered with an empty report."""
    from .domain.money import normalize_currency

    try:
        return normalize_currency(text)
    except InvalidInput as error:
        raise argparse.ArgumentTypeError(error.detail) from None


def _position(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise argparse.ArgumentTypeError(f"a position is a whole number from 0, not {text!r}")
    return int(text)


def _uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a subscriber id: {text!r}") from None


def _selection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="effective_from", type=_from, metavar="DAY|T",
                        help="only events effective at or after (a day: from its start)")
    parser.add_argument("--to", dest="effective_to", type=_to, metavar="DAY|T",
                        help="only events effective at or before (a day: to its end)")
    parser.add_argument("--recorded-from", type=_from, metavar="DAY|T")
    parser.add_argument("--recorded-to", type=_to, metavar="DAY|T")
    parser.add_argument("--after-position", type=_position, default=0, metavar="N")
    parser.add_argument("--until-position", type=_position, metavar="N")
    parser.add_argument("--type", dest="types", action="append", default=[], metavar="TYPE",
                        help="event type(s), repeated or comma-separated")
    parser.add_argument("--subscriber", type=_uuid, metavar="ID",
                        help="the subscriber's events and their subscriptions'")
    _known_at(parser)


def _known_at(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-known-at", type=_instant, metavar="K",
                        help="only what the ledger had recorded by K (the reports' prefix)")


def _report_options(parser: argparse.ArgumentParser, *, interval: bool = True) -> None:
    parser.add_argument("--from", dest="start", type=_day, required=True, metavar="DAY")
    parser.add_argument("--to", dest="end", type=_day, required=True, metavar="DAY")
    if interval:
        parser.add_argument("--interval", choices=["month", "day"], default="month")
    parser.add_argument("--currency", type=_currency, metavar="CODE")
    _known_at(parser)
    if interval:
        _as_of(parser)


def _as_of(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", type=_instant, metavar="T",
                        help="count only what was effective by T, in every bucket (default: now, or K)")


def _output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", dest="output", choices=OUTPUTS, default="json",
                        help="json (default), csv, or table for a person")


def add_parser(commands: Any) -> None:
    """``replay`` and its commands, on the top-level parser's subcommands."""
    replay = commands.add_parser("replay", help="the analysts' replay toolkit: folds, figures, exports",
                                 description="Read the log in global order and fold it into reports, "
                                 "figures, cohorts, what-if prices or exports. Only reads the ledger.")
    inner = replay.add_subparsers(dest="replay_command", required=True, parser_class=type(replay))
    run = inner.add_parser("run", help="run a fold you wrote: module:Name")
    run.add_argument("fold", metavar="module:Name")
    _selection_options(run)
    _output(run)
    mrr = inner.add_parser("mrr", help="MRR at an instant (--at), or the MRR bridge of a window (--from/--to)")
    mrr.add_argument("--at", type=_instant, metavar="T")
    mrr.add_argument("--from", dest="start", type=_day, metavar="DAY")
    mrr.add_argument("--to", dest="end", type=_day, metavar="DAY")
    mrr.add_argument("--interval", choices=["month", "day"], default="month")
    mrr.add_argument("--currency", type=_currency, metavar="CODE")
    _known_at(mrr)
    _as_of(mrr)
    _output(mrr)
    for name, text in (("churn", "churn and retention per period"), ("revenue", "cash and recognized revenue"),
                       ("cohorts", "subscribers and MRR retained by signup month")):
        command = inner.add_parser(name, help=text)
        _report_options(command, interval=name != "cohorts")
        _output(command)
    receivables = inner.add_parser("receivables", help="what subscribers owe as of an instant, aged")
    receivables.add_argument("--at", type=_instant, metavar="T", help="as of T (default: now, or K)")
    receivables.add_argument("--currency", type=_currency, metavar="CODE")
    receivables.add_argument("--invoices", action="store_true",
                             help="list the outstanding invoices rather than the aging figures")
    _known_at(receivables)
    _output(receivables)
    what_if = inner.add_parser("what-if", help="MRR, churn and revenue under another price catalog")
    what_if.add_argument("--prices", required=True, metavar="FILE", help="JSON: plan id -> amount or percent")
    _report_options(what_if)
    _output(what_if)
    export = inner.add_parser("export", help="the events and derived tables as files")
    export.add_argument("--format", dest="file_format", required=True, choices=["parquet", "csv", "jsonl"])
    export.add_argument("--out", required=True, type=Path, metavar="DIR", help="an empty or new directory")
    export.add_argument("--personal-data", action="store_true",
                        help="include names, e-mails, references, tokens and free text")
    _selection_options(export)


def selection_of(args: argparse.Namespace) -> Selection:
    from subledger.replay.selection import Selection, TimeRange

    types = tuple(t for value in args.types for t in value.split(",") if t)
    return Selection(after=args.after_position, until=args.until_position,
                     recorded=TimeRange(args.recorded_from, args.recorded_to),
                     effective=TimeRange(args.effective_from, args.effective_to), types=types,
                     subscriber_id=args.subscriber, as_known_at=args.as_known_at)


def run(args: argparse.Namespace, ledger: Ledger) -> int:
    """Run ``replay <command>``; :class:`InvalidInput` and other domain errors are the
    caller's to report (exit 2)."""
    from subledger.replay.reader import Replay
    from subledger.replay.selection import Selection

    from .replay_answers import answer

    command = args.replay_command
    selection = selection_of(args) if command in ("run", "export") else Selection(as_known_at=args.as_known_at)
    bar = ProgressBar(f"replay {command}")
    try:
        replay = Replay(ledger.event_log, selection, progress=bar)
        body, rows = answer(command, args, replay)
    finally:
        bar.close()
    if command == "export":
        print(json.dumps(body))
        return 0
    if command == "cohorts" and args.output == "table":
        from subledger.replay.cohorts import cohort_matrix

        rows = cohort_matrix(body)
    return _print(body, rows, args.output, title=f"replay {command}")


def _print(body: dict[str, Any], rows: list[dict[str, Any]], output: str, *, title: str) -> int:
    from subledger.replay.rows import text

    from .tables import print_rows

    if output == "json":
        print(json.dumps(body, default=text))
    elif output == "csv":
        import csv

        from subledger.replay.rows import columns

        names = columns(rows)
        writer = csv.writer(sys.stdout)
        writer.writerow(names)
        writer.writerows([[text(row.get(name)) for name in names] for row in rows])
    else:
        print_rows(rows, title=title)
    return 0
