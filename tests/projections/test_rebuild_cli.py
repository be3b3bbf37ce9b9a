"""``subledger rebuild VIEW [--verify]``, through the command line's ``main``, on both stores."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from subledger.bootstrap import build_projector, read_models
from subledger.cli import main
from subledger.commands.demo import generate
from subledger.commands.ledger import Ledger
from subledger.config import PostgresConfig, Settings
from subledger.projections.mrr import FOREVER
from subledger.projections.store import ViewStore

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", database_url)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def views(settings: Settings) -> Iterator[ViewStore]:
    """A connection of the test's own to the views, to look at and corrupt live rows."""
    store = ViewStore(settings)
    yield store
    store.close()


def _sql(views: ViewStore, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with views.transaction() as tx:
        cursor = tx.execute(statement, params)
        return cursor.fetchall() if statement.lstrip().upper().startswith("SELECT") else []


def _book(ledger: Ledger) -> str:
    """A small demo book, and one subscriber whose second subscription is backdated (so
    the mrr model holds superseded rows). Returns that subscriber's id."""
    generate(ledger, subscribers=8, months=3, seed=7)
    now = datetime.now(UTC)
    ada = ledger.subscribers.register(email="ada@example.com", name="Ada", effective_at=now - timedelta(days=60))
    ledger.subscribers.set_payment_method(ada.id, gateway="sandbox", token="tok_visa", effective_at=now - timedelta(days=60))
    ledger.subscriptions.start(ada.id, plan_id="pro-y", effective_at=now - timedelta(days=20))
    ledger.subscriptions.start(ada.id, plan_id="basic-y", effective_at=now - timedelta(days=40))
    return str(ada.id)


def _one_json_line(out: str) -> dict[str, Any]:
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    return json.loads(lines[0])  # type: ignore[no-any-return]


def test_an_unknown_view_is_refused_with_one_line_naming_the_read_models(cli: Cli, ledger: Ledger) -> None:
    code, out, err = cli("rebuild", "nope")
    names = [model.name for model in read_models(ledger)]
    assert {"subscriptions", "mrr"} <= set(names)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "'nope'" in err and ", ".join(names) in err


def test_verify_names_a_corrupted_current_row_and_a_rebuild_repairs_it(
    cli: Cli, ledger: Ledger, views: ViewStore,
) -> None:
    ada = _book(ledger)
    head = ledger.event_log.max_position()

    # The live models have not run yet: --verify catches them up first.
    for view in ("subscriptions", "mrr"):
        code, out, err = cli("rebuild", view, "--verify")
        assert (code, err) == (0, ""), err
        summary = _one_json_line(out)
        assert summary["identical"] is True and summary["difference"] is None
        assert summary["position"] == head

    # Corrupt Ada's current "new" movement.
    (at, amount), = _sql(views, "SELECT at, amount FROM view_mrr_movements WHERE subscriber_id = ?"
                                " AND kind = 'new' AND recorded_to = ?", (ada, FOREVER))
    _sql(views, "UPDATE view_mrr_movements SET amount = '1/1' WHERE subscriber_id = ? AND kind = 'new'"
                " AND recorded_to = ?", (ada, FOREVER))
    code, out, err = cli("rebuild", "mrr", "--verify")
    assert code == 1
    difference = _one_json_line(out)["difference"]
    assert difference == {"table": "view_mrr_movements", "scope": "current",
                          "key": {"subscriber_id": ada, "currency": "USD", "at": at, "kind": "new"},
                          "column": "amount", "live": "1/1", "rebuilt": amount}
    assert err.count("\n") == 1
    assert all(s in err for s in ("view_mrr_movements", ada, "amount", "'1/1'", repr(amount)))
    # --verify read the live model and left it as it was.
    assert _sql(views, "SELECT amount FROM view_mrr_movements WHERE subscriber_id = ? AND kind = 'new'"
                       " AND recorded_to = ?", (ada, FOREVER)) == [("1/1",)]

    code, out, err = cli("rebuild", "mrr")
    assert (code, err) == (0, "")
    summary = _one_json_line(out)
    assert summary["view"] == "mrr" and summary["position"] == head
    assert summary["events_read"] > 0 and summary["rows"]["view_mrr_movements"] > 0
    assert _sql(views, "SELECT amount FROM view_mrr_movements WHERE subscriber_id = ? AND kind = 'new'"
                       " AND recorded_to = ?", (ada, FOREVER)) == [(amount,)]
    assert cli("rebuild", "mrr", "--verify")[0] == 0

    # The same for the subscriptions model.
    (sid, status), = _sql(views, "SELECT subscription_id, status FROM view_subscriptions"
                                 " WHERE subscriber_id = ? AND plan_id = 'pro-y'", (ada,))
    _sql(views, "UPDATE view_subscriptions SET status = 'paused' WHERE subscription_id = ?", (sid,))
    code, out, err = cli("rebuild", "subscriptions", "--verify")
    assert code == 1
    assert _one_json_line(out)["difference"] == {
        "table": "view_subscriptions", "scope": "rows", "key": {"subscription_id": sid},
        "column": "status", "live": "paused", "rebuilt": status}
    assert cli("rebuild", "subscriptions")[0] == 0
    assert cli("rebuild", "subscriptions", "--verify")[0] == 0
    assert _sql(views, "SELECT status FROM view_subscriptions WHERE subscription_id = ?", (sid,)) == [(status,)]


def test_verify_compares_superseded_rows_and_missing_rows_too(
    cli: Cli, ledger: Ledger, views: ViewStore, settings: Settings,
) -> None:
    ada = _book(ledger)
    assert cli("rebuild", "mrr", "--verify")[0] == 0
    # Ada's first belief (a "new" movement 20 days ago) was superseded by the backdated one.
    (at, recorded_from), = _sql(
        views, "SELECT at, recorded_from FROM view_mrr_movements WHERE subscriber_id = ?"
               " AND recorded_to <> ?", (ada, FOREVER))
    _sql(views, "UPDATE view_mrr_movements SET mrr_after = '7/1' WHERE subscriber_id = ?"
                " AND recorded_to <> ?", (ada, FOREVER))
    code, out, _ = cli("rebuild", "mrr", "--verify")
    difference = _one_json_line(out)["difference"]
    assert code == 1
    assert (difference["scope"], difference["column"], difference["live"]) == ("history", "mrr_after", "7/1")
    assert difference["key"] == {"subscriber_id": ada, "currency": "USD", "at": at, "kind": "new",
                                 "recorded_from": recorded_from}

    assert cli("rebuild", "mrr")[0] == 0
    _sql(views, "DELETE FROM view_mrr_movements WHERE subscriber_id = ? AND kind = 'expansion'", (ada,))
    code, out, _ = cli("rebuild", "mrr", "--verify")
    difference = _one_json_line(out)["difference"]
    assert code == 1
    assert (difference["scope"], difference["column"], difference["live"], difference["rebuilt"]) == (
        "current", "(rows)", 0, 1)
    assert difference["key"]["subscriber_id"] == ada and difference["key"]["kind"] == "expansion"

    # The scratch copy is gone.
    db = settings.database
    if isinstance(db, PostgresConfig):
        assert _sql(views, "SELECT nspname FROM pg_namespace WHERE nspname LIKE ?",
                    ("subledger_scratch%",)) == []
    else:
        assert not list(Path(db.path).resolve().parent.glob("subledger-scratch-*"))


def test_verify_compares_at_the_position_the_live_model_was_caught_up_to(
    cli: Cli, ledger: Ledger, settings: Settings,
) -> None:
    _book(ledger)
    projector = build_projector(settings, ledger)
    projector.run_once()
    ledger.catalog.create_plan(plan_id="late", name="Late", tier="basic", currency="USD", amount=500,
                       interval="month")
    late = ledger.subscribers.register(email="late@example.com", name="Late")
    ledger.subscribers.set_payment_method(late.id, gateway="sandbox", token="tok_visa")
    ledger.subscriptions.start(late.id, plan_id="late", quantity=3)
    head = ledger.event_log.max_position()
    assert projector.lag()["mrr"] > 0

    code, out, _ = cli("rebuild", "mrr", "--verify")
    assert code == 0 and _one_json_line(out)["position"] == head
    assert projector.lag()["mrr"] == 0
    projector.close()
    projector.store.close()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_rebuild_draws_a_progress_bar_on_a_terminal_only(
    cli: Cli, ledger: Ledger, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _book(ledger)
    head = ledger.event_log.max_position()
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code, out, _ = cli("rebuild", "mrr")
    assert code == 0 and _one_json_line(out)["position"] == head
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal.getvalue())  # colours, cursor
    assert "rebuild mrr" in drawn and f" {head}/{head} " in drawn and "\n" in drawn

    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal: nothing drawn
    code, _, err = cli("rebuild", "mrr")
    assert code == 0 and err == "" and sys.stderr.getvalue() == ""


def test_a_runner_that_read_a_stale_checkpoint_does_not_apply_a_page_twice(
    cli: Cli, ledger: Ledger, settings: Settings, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two runners on the same views (``rebuild`` next to ``serve``): one moves a model on
    after the other read its checkpoint; the late one re-reads instead of applying again."""
    _book(ledger)
    late = build_projector(settings, ledger)
    late.page_size = 10
    real = late.store.checkpoint
    stale = {"subscriptions", "mrr"}

    def checkpoint(name: str) -> tuple[int, int] | None:
        found = real(name)
        if name in stale:  # read before the other runner moved the model on
            stale.discard(name)
            return (0, found[1]) if found else found
        return found

    assert cli("rebuild", "subscriptions")[0] == 0 and cli("rebuild", "mrr")[0] == 0
    monkeypatch.setattr(late.store, "checkpoint", checkpoint)
    late.run_once()
    assert not stale
    for view in ("subscriptions", "mrr"):
        assert cli("rebuild", view, "--verify")[0] == 0
    late.close()
    late.store.close()


@pytest.mark.parametrize("view", ["mrr", "revenue"])
def test_a_live_model_built_in_other_pages_verifies_identical(
    cli: Cli, ledger: Ledger, settings: Settings, view: str,
) -> None:
    _book(ledger)
    projector = build_projector(settings, ledger)
    projector.page_size = 7  # pages that split the events of one command
    projector.run_once()
    projector.close()
    projector.store.close()

    code, out, err = cli("rebuild", view, "--verify")

    assert (code, err) == (0, ""), err
    assert _one_json_line(out)["identical"] is True


def test_a_rebuild_in_pages_of_a_given_size_builds_the_same_rows_and_says_how_it_paged(
    cli: Cli, ledger: Ledger, views: ViewStore,
) -> None:
    _book(ledger)
    head = ledger.event_log.max_position()
    code, out, _ = cli("rebuild", "subscriptions")
    whole = _one_json_line(out)
    rows = _sql(views, "SELECT * FROM view_subscriptions ORDER BY subscription_id")
    assert code == 0 and whole["page_size"] == 5000 and whole["pages"] == 1 and len(rows) > 8

    code, out, _ = cli("rebuild", "subscriptions", "--page-size", "7")
    paged = _one_json_line(out)

    assert code == 0 and paged["position"] == head and paged["events_read"] == whole["events_read"]
    assert paged["page_size"] == 7 and paged["pages"] == -(-paged["events_read"] // 7)
    assert _sql(views, "SELECT * FROM view_subscriptions ORDER BY subscription_id") == rows
    # The MRR model's beliefs depend on the paging; --verify compares what does not.
    code, out, err = cli("rebuild", "mrr", "--verify", "--page-size", "3")
    assert (code, err) == (0, "") and _one_json_line(out)["identical"] is True


@pytest.mark.parametrize("size", ["0", "-5", "many", "2.5"])
def test_a_page_size_that_is_not_a_positive_integer_is_refused_and_the_model_is_left_alone(
    cli: Cli, ledger: Ledger, views: ViewStore, size: str,
) -> None:
    _book(ledger)
    assert cli("rebuild", "subscriptions")[0] == 0
    before = _sql(views, "SELECT * FROM view_subscriptions ORDER BY subscription_id")
    checkpoint = _sql(views, "SELECT position FROM subledger_projections WHERE name = 'subscriptions'")

    code, out, err = cli("rebuild", "subscriptions", "--page-size", size)

    assert code == 2 and out == "" and err.count("\n") == 1 and "--page-size" in err
    assert _sql(views, "SELECT * FROM view_subscriptions ORDER BY subscription_id") == before
    assert _sql(views, "SELECT position FROM subledger_projections WHERE name = 'subscriptions'") == checkpoint
