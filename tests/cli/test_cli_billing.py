"""`subledger billing run` and `subledger demo` from the command line (on a SQLite file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.factories import utc
from support.ledger import add_plan, log_types, paying_subscriber

from subledger.bootstrap import build_ledger
from subledger.cli import main
from subledger.config import Settings


def sqlite_url(path: Path) -> str:
    return "sqlite:///" + str(path)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """SUBLEDGER_DATABASE_URL names a fresh SQLite file holding one subscription, 10.00 a
    month from Jan 31 2026 (its first charge made); the URL."""
    url = sqlite_url(tmp_path / "cli.db")
    for name in ("SUBLEDGER_API_KEYS", "SUBLEDGER_KAFKA_BOOTSTRAP", "SUBLEDGER_CIPHER_KEY",
                 "SUBLEDGER_AUDIT_KEY", "SUBLEDGER_STRIPE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", url)
    ledger = build_ledger(Settings.from_env({"SUBLEDGER_DATABASE_URL": url}))
    try:
        add_plan(ledger, "basic", amount=1000)
        ada = paying_subscriber(ledger, "ada@example.com")
        ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=utc(2026, 1, 31))
    finally:
        ledger.close()
    return url


def types_in(url: str) -> list[str]:
    ledger = build_ledger(Settings.from_env({"SUBLEDGER_DATABASE_URL": url}))
    try:
        return log_types(ledger)
    finally:
        ledger.close()


def test_billing_run_prints_the_summary_as_json_and_exits_0(
    store: str, capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["billing", "run", "--until", "2026-04-30T00:00:00Z"])

    out = capsys.readouterr().out
    assert code == 0
    summary = json.loads(out)
    assert summary["until"] == "2026-04-30T00:00:00Z"
    assert (summary["renewals"], summary["invoices"], summary["charges_succeeded"]) == (3, 3, 3)
    assert summary["billed"] == {"USD": 3000} and summary["collected"] == {"USD": 3000}
    assert types_in(store).count("SubscriptionRenewed") == 3

    assert main(["billing", "run", "--until", "2026-04-30T00:00:00+00:00"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["subscriptions"], again["invoices"], again["billed"]) == (0, 0, {})
    assert types_in(store).count("SubscriptionRenewed") == 3


@pytest.mark.parametrize(
    "until",
    [
        "yesterday",
        "2026-04-30T00:00:00",  # no UTC offset
        "2026-02-30T00:00:00Z",
        "",
        "2999-01-01T00:00:00Z",  # in the future
    ],
)
def test_billing_run_with_a_bad_until_exits_2_with_one_line_on_stderr(
    store: str, until: str, capsys: pytest.CaptureFixture[str],
) -> None:
    before = types_in(store)

    code = main(["billing", "run", "--until", until])

    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1, captured.err
    assert types_in(store) == before


def test_billing_run_without_until_exits_2(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["billing", "run"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_demo_generates_history_and_the_same_seed_gives_the_same_event_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    runs = []
    for name in ("first.db", "second.db"):
        url = sqlite_url(tmp_path / name)
        monkeypatch.setenv("SUBLEDGER_DATABASE_URL", url)

        code = main(["demo", "--subscribers", "20", "--months", "3", "--seed", "5"])

        assert code == 0
        printed = json.loads(capsys.readouterr().out)
        assert printed["subscribers"] == 20
        types = types_in(url)
        assert printed["events"] == len(types)
        runs.append(types)

    first, second = runs
    assert first == second
    assert {"SubscriptionStarted", "InvoiceIssued", "ChargeSucceeded", "SubscriptionRenewed"} <= set(first)
    assert first.count("SubscriberRegistered") == 20


def test_demo_with_another_seed_gives_another_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    runs = []
    for seed in ("5", "6"):
        url = sqlite_url(tmp_path / f"seed{seed}.db")
        monkeypatch.setenv("SUBLEDGER_DATABASE_URL", url)
        assert main(["demo", "--subscribers", "20", "--months", "3", "--seed", seed]) == 0
        capsys.readouterr()
        runs.append(types_in(url))

    assert runs[0] != runs[1]


@pytest.mark.parametrize("args", [["--subscribers", "0", "--months", "3"],
                                  ["--subscribers", "20", "--months", "x"],
                                  ["--months", "3"]])
def test_demo_with_bad_arguments_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    args: list[str],
) -> None:
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", sqlite_url(tmp_path / "bad.db"))

    assert main(["demo", *args]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_billing_run_with_an_idempotency_key_prints_the_first_answer_again_and_appends_nothing(
    store: str, capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["billing", "run", "--until", "2026-03-31T00:00:00Z", "--idempotency-key", "close-q1"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    log = types_in(store)

    assert main(args) == 0
    assert json.loads(capsys.readouterr().out) == first
    assert types_in(store) == log
    other = ["billing", "run", "--until", "2026-04-30T00:00:00Z", "--idempotency-key", "close-q1"]
    assert main(other) == 2
    assert "close-q1" in capsys.readouterr().err
    assert types_in(store) == log
