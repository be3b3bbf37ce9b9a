"""A fold an analyst writes, run over the small book (``support.books``) from Python and from
``subledger replay run module:Name``, equals the answer worked out by hand; its result and a
replay's events become Arrow tables and pandas frames."""

from __future__ import annotations

import csv
import io
import json
import textwrap
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from support.books import COLLECTED

from subledger.cli import main
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.domain.errors import InvalidInput
from subledger.replay.folds import load_fold, run_fold
from subledger.replay.reader import LoggedEvent, Replay
from subledger.replay.selection import Selection

FOLD = '''
from fractions import Fraction


class CollectedByPlan:
    """Cash collected per plan, and the average charge (an exact fraction of a cent)."""

    def initial(self):
        return {"plans": {}, "charges": {}}

    def apply(self, state, event):
        if event.type in ("SubscriptionStarted", "SubscriptionChanged"):
            state["plans"][event.aggregate_id] = event.event.plan_id
        elif event.type == "ChargeSucceeded":
            plan = state["plans"][event.aggregate_id]
            state["charges"].setdefault(plan, []).append(event.event.amount)
        return state

    def finish(self, state):
        return {plan: {"collected": sum(amounts), "charges": len(amounts),
                       "average": Fraction(sum(amounts), len(amounts))}
                for plan, amounts in sorted(state["charges"].items())}
'''

BY_HAND = {  # Ada 4 x 1000 and Dee 1 x 1000 on basic, Bob 3 x 3000 on pro, Cy 1 x 120000 on corp
    "basic": {"collected": 5000, "charges": 5, "average": Fraction(1000)},
    "corp": {"collected": 120_000, "charges": 1, "average": Fraction(120_000)},
    "pro": {"collected": 9000, "charges": 3, "average": Fraction(3000)},
}


@pytest.fixture
def fold_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The fold above as a module of the working directory, as an analyst keeps one."""
    (tmp_path / "my_reports.py").write_text(textwrap.dedent(FOLD), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return "my_reports:CollectedByPlan"


def test_a_fold_written_by_an_analyst_equals_the_answer_worked_out_by_hand(
        book_ledger: Ledger, fold_module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(Path.cwd()))
    result = run_fold(Replay(book_ledger.event_log), load_fold(fold_module))

    assert result.value == BY_HAND
    assert sum(plan["collected"] for plan in result.value.values()) == COLLECTED
    assert result.events == book_ledger.event_log.max_position() == result.position


def test_a_fold_sees_only_the_selected_events(book_ledger: Ledger) -> None:
    class Count:
        def initial(self) -> dict[str, int]:
            return {}

        def apply(self, state: dict[str, int], event: LoggedEvent) -> dict[str, int]:
            state[event.type] = state.get(event.type, 0) + 1
            return state

    counted = Replay(book_ledger.event_log, Selection(types=("InvoiceIssued", "SubscriptionCanceled"))).fold(Count())

    assert counted.value == {"InvoiceIssued": 9, "SubscriptionCanceled": 2}


def test_subledger_replay_run_prints_the_fold_as_json_csv_or_a_table(
        settings: Settings, book_ledger: Ledger, fold_module: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", settings.database_url)

    assert main(["replay", "run", fold_module]) == 0
    body = json.loads(capsys.readouterr().out)
    assert main(["replay", "run", fold_module, "--format", "csv", "--to", "2026-01-31"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert main(["replay", "run", fold_module, "--format", "table"]) == 0
    table = capsys.readouterr().out

    assert body["value"]["corp"] == {"collected": 120000, "charges": 1, "average": "120000.0000000000"}
    assert body["events"] == body["position"] == book_ledger.event_log.max_position()
    assert rows == [{"key": "basic", "collected": "1000", "charges": "1", "average": "1000.0000000000"},
                    {"key": "pro", "collected": "3000", "charges": "1", "average": "3000.0000000000"}]
    assert "corp" in table and "120000" in table


def test_subledger_replay_run_refuses_what_is_not_a_fold_in_one_line(
        settings: Settings, book_ledger: Ledger, fold_module: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", settings.database_url)
    for reference in ("my_reports", "no_such_module:Fold", "my_reports:Missing", "json:dumps"):
        assert main(["replay", "run", reference]) == 2
        error = capsys.readouterr().err
        assert error.startswith("subledger: ") and error.count("\n") == 1, error
    assert main(["replay", "run", fold_module, "--type", "NoSuchEvent"]) == 2
    assert "unknown event type" in capsys.readouterr().err
    with pytest.raises(InvalidInput):
        load_fold("json:dumps")


def test_a_fold_result_and_a_replay_are_arrow_tables_and_pandas_frames(book_ledger: Ledger) -> None:
    replay = Replay(book_ledger.event_log, Selection(types=("ChargeSucceeded",)))

    frame = replay.to_pandas()
    table = run_fold(replay, _ByCurrency()).to_arrow()

    assert list(frame["amount"]) == [1000, 3000, 120_000, 1000, 3000, 3000, 1000, 1000, 1000]
    assert str(frame["amount"].dtype) == "Int64"
    assert table.to_pylist() == [{"key": "USD", "value": Decimal("134000.0000000000")}]
    value_type = table.schema.field("value").type
    assert pa.types.is_decimal(value_type) and value_type.scale == 10  # exact, never a float


def test_minor_units_stay_integers_in_pandas_where_some_events_have_no_amount(book_ledger: Ledger) -> None:
    subscriber = next(iter(Replay(book_ledger.event_log, Selection(types=("SubscriberRegistered",))))).aggregate_id
    replay = Replay(book_ledger.event_log, Selection(subscriber_id=subscriber))

    history = replay.to_pandas()
    folded = run_fold(replay, _Amounts()).to_pandas()

    for frame in (history, folded):
        assert str(frame["amount"].dtype) == "Int64"  # not float64
        assert list(frame["amount"].isna()[:2]) == [True, True]  # SubscriberRegistered, PaymentMethodSet
        assert set(frame["amount"].dropna()) == {1000}  # Ada's basic plan: price, invoices, charges


class _Amounts:
    def initial(self) -> list[dict[str, Any]]:
        return []

    def apply(self, state: list[dict[str, Any]], event: LoggedEvent) -> list[dict[str, Any]]:
        state.append({"type": event.type, "amount": getattr(event.event, "amount", None)})
        return state


class _ByCurrency:
    def initial(self) -> dict[str, Any]:
        return {}

    def apply(self, state: dict[str, Any], event: LoggedEvent) -> dict[str, Any]:
        state[event.event.currency] = state.get(event.event.currency, Fraction(0)) + event.event.amount
        return state
