"""``subledger mail`` and ``subledger export subscribers`` as the command line runs them (in
process, with the environment as configuration), on a SQLite file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from support.factories import utc
from support.ledger import FakeClock, add_plan, paying_subscriber
from support.smtp import SmtpServer

from subledger.bootstrap import build_ledger
from subledger.cli import main
from subledger.config import Settings


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = "sqlite:///" + str(tmp_path / "cli.db")
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", url)
    return url


def _book(url: str) -> None:
    """Ada pays 19.00 a month (from Jan 1); Bob's subscription ended on Feb 10 and he opted
    out of marketing."""
    ledger = build_ledger(Settings.from_env({"SUBLEDGER_DATABASE_URL": url}),
                          clock=FakeClock(utc(2026, 3, 1)))
    try:
        add_plan(ledger, "basic", amount=1900)
        ada = paying_subscriber(ledger, "ada@example.com")
        ledger.subscribers.change_details(ada.id, {"external_ref": "crm-1"})
        ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=utc(2026, 1, 1))
        bob = paying_subscriber(ledger, "bob@example.com")
        sub = ledger.subscriptions.start(bob.id, plan_id="basic", effective_at=utc(2026, 1, 10))
        ledger.subscriptions.cancel(sub.id, when="now", effective_at=utc(2026, 2, 10))
        ledger.subscribers.set_marketing_consent(bob.id, consent=False)
    finally:
        ledger.close()


def test_export_subscribers_writes_one_csv_row_per_subscriber(
        url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _book(url)
    assert main(["export", "subscribers", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    ada, bob = rows
    assert (ada["email"], ada["name"], ada["external_ref"]) == ("ada@example.com", "Ada", "crm-1")
    assert (ada["status"], ada["plans"], ada["mrr"], ada["currency"]) == (
        "active", "basic", "1900.00", "USD")
    assert (ada["canceled_at"], ada["marketing_consent"]) == ("", "true")
    assert (bob["status"], bob["subscription_statuses"], bob["plans"], bob["mrr"]) == (
        "canceled", "canceled", "", "0.00")
    assert (bob["canceled_at"], bob["marketing_consent"]) == ("2026-02-10T00:00:00Z", "false")
    assert ada["created_at"] == "2026-01-01T00:00:00Z"


def test_export_subscribers_shows_a_forgotten_subscriber_without_personal_data(
        url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _book(url)
    ledger = build_ledger(Settings.from_env({"SUBLEDGER_DATABASE_URL": url}),
                          clock=FakeClock(utc(2026, 3, 2)))
    try:
        [bob], _ = ledger.subscribers.find(email="bob@example.com")
        ledger.subscribers.forget(bob.id)
    finally:
        ledger.close()
    assert main(["export", "subscribers", "--format", "csv"]) == 0
    ada, bob_row = csv.DictReader(io.StringIO(capsys.readouterr().out))
    assert (ada["email"], ada["forgotten_at"]) == ("ada@example.com", "")
    assert (bob_row["email"], bob_row["name"], bob_row["external_ref"]) == ("", "", "")
    assert (bob_row["forgotten_at"], bob_row["mrr"]) == ("2026-03-02T00:00:00Z", "0.00")


def test_export_subscribers_as_json_lines(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _book(url)
    assert main(["export", "subscribers", "--format", "jsonl"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["email"], r["marketing_consent"], r["canceled_at"]) for r in rows] == [
        ("ada@example.com", True, None), ("bob@example.com", False, "2026-02-10T00:00:00Z")]


def test_export_subscribers_gives_mrr_per_currency_never_a_sum_of_two(
        url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _book(url)
    ledger = build_ledger(Settings.from_env({"SUBLEDGER_DATABASE_URL": url}),
                          clock=FakeClock(utc(2026, 3, 2)))
    try:
        add_plan(ledger, "euro", currency="EUR", amount=1500)
        [ada], _ = ledger.subscribers.find(email="ada@example.com")
        ledger.subscriptions.start(ada.id, plan_id="euro", effective_at=utc(2026, 2, 1))
    finally:
        ledger.close()

    assert main(["export", "subscribers", "--format", "csv"]) == 0

    ada_row, _ = csv.DictReader(io.StringIO(capsys.readouterr().out))
    assert (ada_row["mrr"], ada_row["currency"]) == ("1500.00;1900.00", "EUR;USD")


def test_mail_once_sends_what_is_due_and_prints_the_outbox(
        url: str, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SUBLEDGER_SMTP_URL", smtp_server.url)
    assert main(["mail", "--once"]) == 0  # the worker starts at the head of the log
    # Every status is named, 0 when none (docs/cli.md): a script reads the same keys always.
    assert json.loads(capsys.readouterr().out) == {"lag": 0, "messages": {
        "pending": 0, "sending": 0, "sent": 0, "failed": 0, "skipped": 0, "waiting": 0}}
    _book(url)
    assert main(["project", "--once"]) == 0  # the receipts attach invoices from the views
    capsys.readouterr()
    assert main(["mail", "--once"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["lag"] == 0
    subjects = sorted(m.subject for m in smtp_server.delivered)
    assert answer["messages"]["sent"] == len(subjects)
    assert list(answer["messages"]) == ["pending", "sending", "sent", "failed", "skipped", "waiting"]
    assert answer["messages"]["failed"] == 0
    # Ada's first invoice and Bob's (his cancellation at the instant his period ended, Feb 10,
    # renews nothing); the process's clock being today's, renewal reminders may be due as well.
    assert subjects.count("Receipt for your payment of USD 19.00") == 2
    assert "Your subscription to Basic has ended" in subjects


def test_mail_without_an_smtp_server_is_refused(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mail", "--once"]) == 2
    assert "SUBLEDGER_SMTP_URL is not set" in capsys.readouterr().err


def test_a_bad_smtp_url_is_refused_naming_the_variable(
        url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SUBLEDGER_SMTP_URL", "mail.example.com:25")
    assert main(["mail", "--once"]) == 2
    assert capsys.readouterr().err.startswith("subledger: SUBLEDGER_SMTP_URL: expected smtp://")
