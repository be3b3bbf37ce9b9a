"""What the command line shows a person: the progress bar on a terminal's stderr (and
nothing on a redirected one), and ``rebuild --table``; stdout stays the JSON scripts read."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest
from rich.console import Console

from subledger.bootstrap import build_ledger
from subledger.cli import main
from subledger.commands.demo import generate
from subledger.config import Settings
from subledger.progress import ProgressBar
from subledger.projections.store import ViewStore

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _console(file: io.StringIO, *, terminal: bool) -> Console:
    return Console(file=file, force_terminal=terminal, width=100)


def _drawn(stream: io.StringIO) -> str:
    """What a person sees of the stream: escape codes dropped, each redraw on a line."""
    return ANSI.sub("", stream.getvalue()).replace("\r", "\n")


def test_the_progress_bar_draws_the_label_a_bar_done_of_total_and_a_rate_on_a_terminal() -> None:
    screen = io.StringIO()
    bar = ProgressBar("rebuild mrr", console=_console(screen, terminal=True))
    for done in (0, 20, 40, 50):
        bar(done, 50)
    bar.close()

    last = _drawn(screen).strip().splitlines()[-1]
    assert last.startswith("rebuild mrr ━") and " 50/50 " in last
    assert re.search(r" [\d,]+/s \d+:\d\d:\d\d eta \d+:\d\d:\d\d$", last), last
    assert screen.getvalue().removesuffix("\x1b[?25h").endswith("\n")  # the cursor back, below


def test_the_progress_bar_writes_nothing_to_a_stream_that_is_not_a_terminal() -> None:
    screen = io.StringIO()
    bar = ProgressBar("demo", console=_console(screen, terminal=False))
    bar(1, 2)
    bar(2, 2)
    bar.close()

    assert screen.getvalue() == ""


def test_the_progress_bar_stays_silent_on_a_redirected_stderr_even_when_colour_is_forced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich alone would take this for a terminal
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    bar = ProgressBar("billing")
    bar(3, 3)
    bar.close()

    assert sys.stderr.getvalue() == ""


def test_what_is_printed_while_the_bar_is_drawn_still_goes_to_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    screen = io.StringIO()
    bar = ProgressBar("demo", console=_console(screen, terminal=True))
    bar(1, 2)
    print("for a script")
    bar.close()

    assert capsys.readouterr().out == "for a script\n" and "for a script" not in screen.getvalue()


def test_a_progress_bar_that_was_never_reported_to_draws_nothing_when_closed() -> None:
    screen = io.StringIO()
    bar = ProgressBar("billing", console=_console(screen, terminal=True))
    bar.close()
    bar.close()

    assert screen.getvalue() == ""


def test_demo_prints_the_same_json_whether_or_not_stderr_is_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    printed = []
    for name, stderr in (("piped.db", io.StringIO()), ("terminal.db", _Terminal())):
        monkeypatch.setenv("SUBLEDGER_DATABASE_URL", "sqlite:///" + str(tmp_path / name))
        monkeypatch.setattr(sys, "stderr", stderr)
        assert main(["demo", "--subscribers", "12", "--months", "2", "--seed", "3"]) == 0
        printed.append((capsys.readouterr().out, stderr))

    (piped, piped_err), (terminal, terminal_err) = printed
    timing = ("seconds", "events_per_second")  # the time it took: its own each run
    made = [{k: v for k, v in json.loads(out).items() if k not in timing} for out in (piped, terminal)]
    assert made[0] == made[1] and made[0]["subscribers"] == 12
    assert all(key in json.loads(out) for out in (piped, terminal) for key in timing)
    assert piped_err.getvalue() == ""
    assert "demo ━" in _drawn(terminal_err)


@pytest.fixture
def book(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A small demo book on a SQLite file that SUBLEDGER_DATABASE_URL names."""
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", sqlite_url)
    settings = Settings.from_env({"SUBLEDGER_DATABASE_URL": sqlite_url})
    ledger = build_ledger(settings)
    try:
        generate(ledger, subscribers=6, months=2, seed=7)
    finally:
        ledger.close()
    return settings


def test_rebuild_with_table_prints_each_table_with_its_rows_instead_of_json(
    book: Settings, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["rebuild", "subscriptions"]) == 0
    summary = json.loads(capsys.readouterr().out)

    assert main(["rebuild", "subscriptions", "--table"]) == 0
    out, err = capsys.readouterr()

    assert err == "" and not out.lstrip().startswith("{")
    rows = summary["rows"]["view_subscriptions"]
    assert re.search(rf"│ view_subscriptions\s+│\s+{rows:,} │", out), out
    assert f"position {summary['position']:,}, {summary['events_read']:,} events read" in out


def test_verify_with_table_shows_the_first_difference_field_by_field_and_exits_1(
    book: Settings, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["rebuild", "subscriptions", "--verify", "--table"]) == 0
    assert "verify subscriptions at position" in capsys.readouterr().out
    views = ViewStore(book)
    with views.transaction() as tx:
        sid = tx.execute("SELECT subscription_id FROM view_subscriptions").fetchone()[0]
        tx.execute("UPDATE view_subscriptions SET status = 'paused' WHERE subscription_id = ?", (sid,))
    views.close()

    code = main(["rebuild", "subscriptions", "--verify", "--table"])
    out, err = capsys.readouterr()

    assert code == 1 and ": differs" in out
    for field, value in (("scope", "rows"), ("key", f"subscription_id={sid}"),
                         ("column", "status"), ("live", "'paused'")):
        assert re.search(rf"│ {field}\s+│ {re.escape(value)}\s+│", out), out
    assert err.count("\n") == 1 and "status: live 'paused'" in err  # the same line as without --table


def test_rebuild_help_documents_the_table_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["rebuild", "--help"])

    help_text = " ".join(capsys.readouterr().out.split())
    assert exit.value.code == 0
    assert "--table print tables for a person instead of the JSON summary" in help_text
