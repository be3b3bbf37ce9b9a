"""The export's ``receivables`` table adds up, in DuckDB, to what the aging report owes at
any instant, and the analysts' page ages it as the report does: the invoice book
(``support.invoices``) exported as Parquet."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from support.invoices import BOOK_CLOCK, invoice_book
from support.ledger import FakeClock

from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.replay.export import export
from subledger.replay.folds import run_fold
from subledger.replay.reader import Replay
from subledger.replay.receivables import Receivables, receivables_report

PAGE = Path(__file__).resolve().parents[2] / "docs" / "analysts.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)

OWED_AT = """
    SELECT invoice_id, sum(amount) AS owed
    FROM read_parquet('{out}/receivables/*/*.parquet', hive_partitioning = true)
    WHERE "at" <= ?::TIMESTAMPTZ GROUP BY invoice_id HAVING sum(amount) > 0 ORDER BY invoice_id
"""


def test_the_exported_changes_add_up_to_what_was_owed_at_each_instant(
        ledger_on: Callable[..., Ledger], settings: Settings, tmp_path: Path) -> None:
    ledger = ledger_on(clock=FakeClock(BOOK_CLOCK))
    book = invoice_book(ledger, settings)
    out = tmp_path / "export"
    summary = export(Replay(ledger.event_log), out, "parquet")
    folded = run_fold(Replay(ledger.event_log), Receivables()).value

    for at, expected in ((datetime(2026, 3, 4, 12, tzinfo=UTC),
                          {book.open: 1000, book.past_due: 600, book.void: 1000, book.uncollectible: 1000}),
                         (BOOK_CLOCK, {book.open: 1000, book.past_due: 600})):
        owed = dict(duckdb.execute(OWED_AT.replace("{out}", str(out)), [at]).fetchall())
        assert owed == expected
        assert owed == {i["invoice_id"]: i["outstanding"] for i in folded.owed(at)}
    # Eight invoices, each a row at its issue; the four paid ones a row at their payment,
    # Cy's a row at its credit note, Di's at its void, Ed's at its write-off.
    assert summary.rows["receivables"] == 8 + 4 + 1 + 1 + 1
    last = duckdb.sql(f"SELECT outstanding FROM read_parquet('{out}/receivables/*/*.parquet',"
                      " hive_partitioning = true) ORDER BY position DESC LIMIT 1").fetchall()
    assert last == [(0,)]  # the last change, the euro invoice's payment, left nothing owed


def test_the_analysts_page_aging_recipe_ages_as_the_report_does(
        ledger_on: Callable[..., Ledger], settings: Settings, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = ledger_on(clock=FakeClock(BOOK_CLOCK))
    invoice_book(ledger, settings)
    monkeypatch.chdir(tmp_path)
    export(Replay(ledger.event_log), tmp_path / "export", "parquet")
    [recipe] = [code for code in BLOCK.findall(PAGE.read_text(encoding="utf-8")) if "owed_at_end" in code]
    namespace: dict[str, object] = {"duckdb": duckdb}  # imported by an earlier block of the page
    exec(compile(recipe, str(PAGE), "exec"), namespace)  # noqa: S102 - the page's own example

    folded = run_fold(Replay(ledger.event_log), Receivables()).value
    last = datetime(2026, 4, 1, tzinfo=UTC) - timedelta(microseconds=1)
    report = receivables_report(folded, last, None, None)["currencies"]
    assert namespace["owed_at_end"] == [
        (book["currency"], bucket["bucket"], bucket["outstanding"], bucket["invoices"])
        for book in report for bucket in book["buckets"] if bucket["invoices"]]
    assert namespace["owed_at_end"] == [("USD", "1-30", 1600, 2)]  # Bo's 1000, Cy's 600
