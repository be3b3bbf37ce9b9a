"""What each ``subledger replay`` command answers: the JSON body, and the rows its CSV and
table show (the same figures, flattened)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from typing import Any

from .domain.errors import InvalidInput


def answer(command: str, args: argparse.Namespace, replay: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(body, rows) of ``command`` over ``replay``."""
    if command == "run":
        return _run(args, replay)
    if command == "export":
        from subledger.replay.export import export

        return export(replay, args.out, args.file_format, personal_data=args.personal_data)._asdict(), []
    if command == "receivables":
        return _receivables(args, replay)
    if command == "mrr" and args.at is not None:
        if args.start is not None or args.end is not None:
            raise InvalidInput("give either --at, or --from and --to")
        from subledger.replay.figures import mrr_at

        body = mrr_at(_book(replay), args.at, args.currency, args.as_known_at)
        return body, body["currencies"]
    return _report(command, args, replay)


def _run(args: argparse.Namespace, replay: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from subledger.replay.folds import load_fold, run_fold
    from subledger.replay.rows import cell

    importable_here()
    result = run_fold(replay, load_fold(args.fold))
    body = {"fold": args.fold, "events": result.events, "position": result.position,
            "value": cell(result.value)}
    return body, result.rows()


def _receivables(args: argparse.Namespace, replay: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The aging figures as of ``--at`` (rows: per currency and bucket), or with
    ``--invoices`` the invoices behind them (rows: one each, without their positions)."""
    from subledger.domain.time import report_as_of
    from subledger.projections.receivables import aging_rows
    from subledger.replay.folds import run_fold
    from subledger.replay.receivables import Receivables, receivable_invoices, receivables_report

    as_of = report_as_of(args.at, args.as_known_at, datetime.now(UTC))
    book = run_fold(replay, Receivables()).value
    if args.invoices:
        body = receivable_invoices(book, as_of, args.as_known_at, args.currency)
        return body, [{k: v for k, v in item.items() if k != "positions"} for item in body["items"]]
    body = receivables_report(book, as_of, args.as_known_at, args.currency)
    return body, aging_rows(body)


def _book(replay: Any) -> Any:
    from subledger.replay.book import Book
    from subledger.replay.folds import run_fold

    return run_fold(replay, Book()).value


def _report(command: str, args: argparse.Namespace, replay: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from subledger.projections.report_window import Window

    if args.start is None or args.end is None:
        raise InvalidInput(f"replay {command} needs --from and --to" + (" (or --at)" if command == "mrr" else ""))
    window = Window(args.start, args.end, getattr(args, "interval", "month"))
    list(window.buckets())  # a window the reports refuse is refused before the log is read
    if command == "cohorts":
        from subledger.replay.cohorts import check_months

        check_months(window)
    if command == "what-if":
        from subledger.replay.prices import read_prices
        from subledger.replay.whatif import side_by_side_rows, what_if

        body = what_if(replay, read_prices(args.prices), window, args.currency, _standpoint(args))
        return body, side_by_side_rows(body)
    book = _book(replay)
    if command == "cohorts":
        from subledger.replay.cohorts import cohort_report, cohort_rows

        body = cohort_report(book, window, args.currency, args.as_known_at)
        return body, cohort_rows(body)
    from subledger.replay.figures import churn_report, mrr_report
    from subledger.replay.revenue import revenue_report

    report = {"mrr": mrr_report, "churn": churn_report, "revenue": revenue_report}[command]
    body = report(book, window, args.currency, _standpoint(args))
    return body, body["periods" if command == "churn" else "buckets"]


def _standpoint(args: argparse.Namespace) -> Any:
    """Where a replayed report stands, as the reports decide it: as of ``--as-of``, by
    default now (or K), as known at K."""
    from subledger.domain.time import report_as_of
    from subledger.projections.report_window import Standpoint

    as_of = report_as_of(args.as_of, args.as_known_at, datetime.now(UTC))
    return Standpoint(as_of, args.as_known_at)


def importable_here() -> None:
    """``replay run module:Name`` finds modules of the current directory, as ``python -m``
    does (the console script's own directory is first on the path instead)."""
    here = os.getcwd()
    if here not in sys.path:
        sys.path.insert(0, here)
