"""`subledger relay --once` and `subledger project --from-kafka` from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.broker import read_topic
from support.ledger import add_plan, add_subscriber
from support.live import free_port

from subledger.bootstrap import build_ledger
from subledger.cli import main
from subledger.config import Settings
from subledger.projections.store import ViewStore


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = "sqlite:///" + str(tmp_path / "relay.db")
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", url)
    monkeypatch.delenv("SUBLEDGER_KAFKA_BOOTSTRAP", raising=False)
    ledger = build_ledger(Settings.from_env({"SUBLEDGER_DATABASE_URL": url}))
    try:
        add_plan(ledger, "basic")
        add_plan(ledger, "pro")
    finally:
        ledger.close()
    return url


def test_relay_once_sends_the_log_and_prints_what_it_did(store: str, broker: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SUBLEDGER_KAFKA_BOOTSTRAP", broker.bootstrap)

    assert main(["relay", "--once"]) == 0

    summary = json.loads(capsys.readouterr().out)
    assert summary == {"messages_sent": 2, "lag": {"relay": 0, "relay.mrr-movements": 2}}
    assert [json.loads(r.value)["type"] for r in read_topic(broker.bootstrap, "subledger.events", at_least=2)] \
        == ["PlanCreated", "PlanCreated"]


def test_relay_without_a_broker_configured_is_a_usage_error(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["relay", "--once"]) == 2
    assert capsys.readouterr().err.strip() == (
        "subledger: SUBLEDGER_KAFKA_BOOTSTRAP is not set: there is no broker to relay to")


def test_relay_once_with_the_broker_unreachable_fails_with_one_line(store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SUBLEDGER_KAFKA_BOOTSTRAP", f"127.0.0.1:{free_port()}")
    monkeypatch.setenv("SUBLEDGER_KAFKA_TIMEOUT", "1")

    assert main(["relay", "--once"]) == 1

    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("subledger: Kafka unavailable: ")


def test_project_from_kafka_without_a_group_is_a_usage_error(store: str, broker: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SUBLEDGER_KAFKA_BOOTSTRAP", broker.bootstrap)
    monkeypatch.delenv("SUBLEDGER_PROJECTOR_GROUP", raising=False)

    assert main(["project", "--from-kafka", "--once"]) == 2
    assert capsys.readouterr().err.strip() == ("subledger: SUBLEDGER_KAFKA_BOOTSTRAP and"
                                              " SUBLEDGER_PROJECTOR_GROUP must be set for a projector member")


def test_project_from_kafka_once_builds_the_subscriptions_the_relay_sent(store: str, broker: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings.from_env({"SUBLEDGER_DATABASE_URL": store})
    ledger = build_ledger(settings)
    try:
        ledger.subscriptions.start(add_subscriber(ledger, "ada@example.com").id, plan_id="basic")
    finally:
        ledger.close()
    monkeypatch.setenv("SUBLEDGER_KAFKA_BOOTSTRAP", broker.bootstrap)
    monkeypatch.setenv("SUBLEDGER_PROJECTOR_GROUP", f"cli-{free_port()}")
    assert main(["relay", "--once"]) == 0
    capsys.readouterr()

    assert main(["project", "--from-kafka", "--once"]) == 0

    assert json.loads(capsys.readouterr().out)["messages_applied"] > 0
    views = ViewStore(settings)
    try:
        with views.transaction() as tx:
            assert tx.execute("SELECT plan_id FROM view_subscriptions").fetchall() == [("basic",)]
    finally:
        views.close()
