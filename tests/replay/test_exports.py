"""Exports read back (pyarrow, DuckDB, CSV, JSON Lines) equal the log event for event and
cent for cent; the derived tables hold the small book's figures (``support.books``);
personal data stays out unless asked for; and exporting never changes the ledger."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pytest
from support.books import COLLECTED
from support.ledger import comparable_log, log_envelopes

from subledger.cli import main
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.domain.errors import InvalidInput
from subledger.domain.time import isoformat
from subledger.replay.export import export
from subledger.replay.export_schema import TABLES
from subledger.replay.reader import Replay
from subledger.replay.selection import Selection


def _as_log(row: dict[str, object]) -> tuple[object, ...]:
    """An exported event row as the fields of its envelope (times as the envelope writes them)."""
    return (row["position"], row["event_id"], row["type"], row["schema_version"], row["subscriber_id"],
            row["aggregate_id"], row["aggregate_version"], isoformat(row["recorded_at"]),  # type: ignore[arg-type]
            isoformat(row["effective_at"]), json.loads(str(row["data"])))  # type: ignore[arg-type]


def _log(ledger: Ledger) -> list[tuple[object, ...]]:
    return [(e["position"], e["event_id"], e["type"], e["schema_version"], e["subscriber_id"], e["aggregate_id"],
             e["aggregate_version"], e["recorded_at"], e["effective_at"], e["data"]) for e in log_envelopes(ledger)]


def test_a_parquet_export_read_back_with_pyarrow_and_duckdb_equals_the_log(book_ledger: Ledger, tmp_path: Path) -> None:
    out = tmp_path / "export"
    summary = export(Replay(book_ledger.event_log), out, "parquet", personal_data=True)

    events = ds.dataset(out / "events", partitioning="hive").to_table().sort_by("position").to_pylist()
    sql = duckdb.sql(f"SELECT * FROM read_parquet('{out}/events/**/*.parquet', hive_partitioning = true)"
                     " ORDER BY position")
    from_duckdb = [dict(zip(sql.columns, row, strict=True)) for row in sql.fetchall()]

    assert [_as_log(row) for row in events] == _log(book_ledger) == [_as_log(row) for row in from_duckdb]
    assert summary.rows["events"] == len(events) == book_ledger.event_log.max_position()
    assert {row["month"] for row in events} == {"2025-12", "2026-01", "2026-02", "2026-03", "2026-04"}
    charged = duckdb.sql(f"SELECT sum(amount), any_value(currency), typeof(sum(amount)) FROM read_parquet("
                         f"'{out}/events/**/*.parquet') WHERE type = 'ChargeSucceeded'").fetchall()[0]
    assert charged == (COLLECTED, "USD", "HUGEINT")  # integers all the way: cent for cent


def test_the_derived_tables_hold_the_books_subscriptions_cash_and_movements(book_ledger: Ledger, tmp_path: Path) -> None:
    out = tmp_path / "export"
    export(Replay(book_ledger.event_log), out, "parquet")

    def query(text: str) -> list[tuple[object, ...]]:
        return duckdb.sql(text.replace("{out}", str(out))).fetchall()

    assert query("SELECT plan_id, status, quantity, amount FROM '{out}/subscriptions/**/*.parquet'"
                 " ORDER BY started_at") == [("basic", "active", 1, 1000), ("pro", "canceled", 1, 3000),
                                             ("corp", "active", 1, 120000), ("basic", "canceled", 1, 1000)]
    assert query("SELECT count(*), sum(total) FROM '{out}/invoices/**/*.parquet'") == [(9, COLLECTED)]
    assert query("SELECT outcome, count(*), sum(amount) FROM '{out}/charges/**/*.parquet' GROUP BY 1") == [
        ("succeeded", 9, COLLECTED)]
    assert query("SELECT kind, sum(amount) FROM '{out}/mrr_movements/**/*.parquet' GROUP BY 1 ORDER BY 1") == [
        ("churn", Decimal("4000.0000000000")), ("new", Decimal("15000.0000000000"))]
    assert query("SELECT count(*) FROM '{out}/refunds/**/*.parquet'") == [(0,)]
    # Every invoice paid when it was issued: owed from its issue to its payment, then nothing.
    assert query("SELECT count(*), sum(amount), sum(outstanding) FILTER (WHERE amount < 0)"
                 " FROM '{out}/receivables/**/*.parquet'") == [(18, 0, 0)]
    # Without --personal-data: no names, e-mails or references, here or in the events' data.
    assert query("SELECT count(*), count(email), count(name), count(external_ref)"
                 " FROM '{out}/subscribers/**/*.parquet'") == [(4, 0, 0, 0)]
    registered = query("SELECT data FROM '{out}/events/**/*.parquet' WHERE type = 'SubscriberRegistered'")
    assert all(json.loads(str(data))["email"] is None for (data,) in registered)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_csv_or_json_lines_export_read_back_equals_the_log(book_ledger: Ledger, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "export"
    export(Replay(book_ledger.event_log, Selection(types=("InvoiceIssued", "ChargeSucceeded"))), out, fmt,
           personal_data=True)

    with open(out / f"events.{fmt}", encoding="utf-8") as file:
        rows = list(csv.DictReader(file)) if fmt == "csv" else [json.loads(line) for line in file]

    expected = [e for e in log_envelopes(book_ledger) if e["type"] in ("InvoiceIssued", "ChargeSucceeded")]
    assert [(int(r["position"]), r["type"], r["recorded_at"], r["effective_at"], json.loads(r["data"]),
             int(r["amount"]), r["currency"]) for r in rows] == [
        (e["position"], e["type"], e["recorded_at"], e["effective_at"], e["data"],
         e["data"].get("total", e["data"].get("amount")), e["data"]["currency"]) for e in expected]
    assert sorted(p.name for p in out.iterdir()) == sorted([*(f"{t}.{fmt}" for t in TABLES), "manifest.json"])


def test_an_export_with_personal_data_asked_for_holds_it(book_ledger: Ledger, tmp_path: Path) -> None:
    export(Replay(book_ledger.event_log), tmp_path / "x", "jsonl", personal_data=True)

    with open(tmp_path / "x" / "subscribers.jsonl", encoding="utf-8") as file:
        emails = sorted(json.loads(line)["email"] for line in file)

    assert emails == ["ada@example.com", "bob@example.com", "cy@example.com", "dee@example.com"]


def test_subledger_replay_export_writes_into_a_new_directory_and_leaves_the_ledger_as_it_was(
        settings: Settings, book_ledger: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", settings.database_url)
    before = comparable_log(book_ledger), book_ledger.event_log.max_position()

    assert main(["replay", "export", "--format", "parquet", "--out", str(tmp_path / "p"),
                 "--as-known-at", "2026-06-01T00:00:04Z"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert main(["replay", "export", "--format", "parquet", "--out", str(tmp_path / "p")]) == 2
    assert "not an empty directory" in capsys.readouterr().err
    assert main(["replay", "what-if", "--prices", str(_prices(tmp_path)), "--from", "2026-01-01",
                 "--to", "2026-04-30"]) == 0

    assert (comparable_log(book_ledger), book_ledger.event_log.max_position()) == before
    known = [e for e in log_envelopes(book_ledger) if e["recorded_at"] <= "2026-06-01T00:00:04Z"]
    assert summary["rows"]["subscriptions"] == 2 and summary["position"] == known[-1]["position"]
    manifest = json.loads((tmp_path / "p" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["selection"]["as_known_at"] == "2026-06-01T00:00:04Z"
    with pytest.raises(InvalidInput):
        export(Replay(book_ledger.event_log), tmp_path / "q", "xlsx")


def _prices(directory: Path) -> Path:
    path = directory / "prices.json"
    path.write_text('{"basic": {"percent": "20"}}', encoding="utf-8")
    return path


def test_an_export_where_no_directory_can_be_made_is_one_line_and_exit_2(
        settings: Settings, book_ledger: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", settings.database_url)
    place = tmp_path / "out"
    place.mkdir()
    (place / "a-file").write_text("not a directory", encoding="utf-8")

    assert main(["replay", "export", "--format", "csv", "--out", str(place / "a-file" / "export")]) == 2

    err = capsys.readouterr().err
    assert err.startswith("subledger: cannot write the export into") and err.count("\n") == 1
    assert [p.name for p in place.iterdir()] == ["a-file"]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_an_export_that_fails_half_way_leaves_no_files_behind(
        book_ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    def disk_full(self: object) -> None:
        raise OSError(28, "No space left on device")

    # The events and the streamed tables are written by then; the disk fills at the end.
    monkeypatch.setattr("subledger.replay.derived.Derived.finish", disk_full)
    place = tmp_path / "out"
    (place / "export").mkdir(parents=True)

    with pytest.raises(InvalidInput, match="No space left on device"):
        export(Replay(book_ledger.event_log), place / "export", fmt)

    assert [p.name for p in place.iterdir()] == ["export"]
    assert list((place / "export").iterdir()) == []


def test_an_export_into_a_link_to_an_empty_directory_fills_that_directory(book_ledger: Ledger, tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")

    summary = export(Replay(book_ledger.event_log), tmp_path / "link", "csv")

    assert (tmp_path / "link").is_symlink() and summary.out == str(tmp_path / "link")
    assert sorted(p.name for p in (tmp_path / "real").iterdir())[:2] == ["charges.csv", "events.csv"]
