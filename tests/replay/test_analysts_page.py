"""docs/analysts.md runs as written: its code blocks, in order, in a directory holding the
small book (``support.books``) with ``SUBLEDGER_DATABASE_URL`` pointing at it (Python blocks
in one namespace, as in a notebook; shell blocks with ``subledger`` on the PATH); the figures
its recipes compute are the book's. And its export schema is the one the code writes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from support.books import BOOK_CLOCK, small_book
from support.ledger import FakeClock

from subledger.bootstrap import build_ledger
from subledger.config import Settings
from subledger.projections.report_window import Standpoint, Window
from subledger.replay.book import Book
from subledger.replay.cohorts import cohort_report
from subledger.replay.export_schema import TABLES
from subledger.replay.figures import mrr_report
from subledger.replay.folds import run_fold
from subledger.replay.reader import Replay

PAGE = Path(__file__).resolve().parents[2] / "docs" / "analysts.md"
BLOCK = re.compile(r"^```(python|sh)\n(.*?)^```", re.S | re.M)
KINDS = {"int64": "int64", "int32": "int32", "bool": "bool", "string": "string", "json": "string (JSON)",
         "timestamp": "timestamp (UTC, µs)", "decimal": "decimal128(38, 10)"}


@pytest.fixture
def book_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    url = "sqlite:///ledger.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", url)
    monkeypatch.syspath_prepend(str(tmp_path))
    clock = FakeClock(BOOK_CLOCK)
    ledger = build_ledger(Settings.from_env({"SUBLEDGER_DATABASE_URL": url}), clock=clock)
    try:
        small_book(ledger, clock)
    finally:
        ledger.close()
    yield tmp_path


def _run_page(directory: Path) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "analysts_page"}
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for kind, code in BLOCK.findall(PAGE.read_text(encoding="utf-8")):
        if kind == "python":
            exec(compile(code, str(PAGE), "exec"), namespace)  # noqa: S102 - the page's own examples
            continue
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=directory, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (code, done.stdout, done.stderr)
    return namespace


def test_the_analysts_page_runs_as_written_and_its_recipes_give_the_books_figures(book_directory: Path) -> None:
    page = _run_page(book_directory)

    assert page["collected_by_tier"] == {"basic": 2000, "pro": 3000}
    assert (book_directory / "export" / "manifest.json").exists()
    ledger = build_ledger(Settings.from_env(os.environ))
    try:
        book = run_fold(Replay(ledger.event_log), Book()).value
    finally:
        ledger.close()
    window = Window(date(2026, 1, 1), date(2026, 3, 31), "month")
    report = mrr_report(book, window, "USD", Standpoint(datetime.now(UTC)))["buckets"]
    assert [(month, str(end)) for _, month, *_, end in page["mrr_by_month"]] == [
        (bucket["date"][:7], bucket["mrr"]) for bucket in report]
    assert [tuple(str(v) for v in row[3:8]) for row in page["mrr_by_month"]] == [
        (b["new"], b["expansion"], b["reactivation"], b["contraction"], b["churn"]) for b in report]
    cohorts = cohort_report(book, window, "USD", None)["cohorts"]
    retention = page["retention"]
    for index, cohort in enumerate(c for c in cohorts if c["subscribers"]):
        row = retention.loc[cohort["cohort"][:7]]
        assert [int(row[m["offset"]]) for m in cohort["months"]] == [m["subscribers"] for m in cohort["months"]], index
    arpu = page["arpu"]["arpu"].to_dict()
    assert arpu == {("basic", "basic"): Decimal("1000.00"), ("corp", "corp"): Decimal("10000.00")}
    assert page["cash_by_month"][1] == ("2026-02", "USD", 124000, 124000, 0)


def _documented_tables() -> dict[str, list[tuple[str, str]]]:
    text = PAGE.read_text(encoding="utf-8")
    schema = text[text.index("### Export schema"):text.index("## DuckDB over the Parquet files")]
    tables: dict[str, list[tuple[str, str]]] = {}
    for name, body in re.findall(r"^#### `(\w+)`\n(.*?)(?=^#### |\Z)", schema, re.S | re.M):
        rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \|", body, re.M)
        tables[name] = [(column, kind.strip()) for column, kind in rows]
    return tables


def test_the_documented_export_schema_is_the_one_the_export_writes() -> None:
    assert _documented_tables() == {
        name: [(c.name, KINDS[c.kind]) for c in spec.columns] for name, spec in TABLES.items()}
