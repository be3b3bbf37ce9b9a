"""Which event store a command opens: a command that reads a book never makes a new one."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.ledger import paying_subscriber

from subledger.bootstrap import build_ledger
from subledger.cli import main
from subledger.config import Settings


@pytest.fixture(autouse=True)
def _plain_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SUBLEDGER_API_KEYS", "SUBLEDGER_KAFKA_BOOTSTRAP", "SUBLEDGER_CIPHER_KEY",
                 "SUBLEDGER_AUDIT_KEY", "SUBLEDGER_STRIPE_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_a_relative_sqlite_path_is_named_in_full_where_it_was_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", "sqlite:///./subledger.db")
    assert main(["replay", "mrr"]) == 2
    assert f"there is no SQLite file at {tmp_path / 'subledger.db'};" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [
    ["replay", "mrr"], ["export", "subscribers"], ["audit", "verify"], ["rebuild", "subscriptions"],
])
def test_a_reading_command_on_a_missing_sqlite_file_exits_2_and_makes_no_book(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    missing = tmp_path / "elsewhere.db"
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", f"sqlite:///{missing}")
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"subledger: cannot open the event store: there is no SQLite file at {missing};"
                   " run from the directory that holds it, or set SUBLEDGER_DATABASE_URL"]
    assert not missing.exists()


def test_a_reading_command_reads_the_sqlite_file_that_is_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"sqlite:///{tmp_path / 'book.db'}"
    ledger = build_ledger(Settings.from_env({"SUBLEDGER_DATABASE_URL": url}))
    try:
        paying_subscriber(ledger, "ada@example.com")
    finally:
        ledger.close()
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", url)
    assert main(["export", "subscribers"]) == 0
    assert "ada@example.com" in capsys.readouterr().out


def test_a_writing_command_makes_the_sqlite_file_it_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    new = tmp_path / "new.db"
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", f"sqlite:///{new}")
    assert main(["billing", "run", "--until", "2026-04-30T00:00:00Z"]) == 0
    assert new.exists()
