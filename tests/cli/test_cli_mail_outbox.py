"""``subledger mail --list|--retry|--give-up``: an operator's hands on the outbox, on a
SQLite file, with a real SMTP server. A message a dead process left ``sending`` is never sent
again by the worker; the operator, who can tell from the mail server whether it went, sends
it again or gives it up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.ledger import add_plan, paying_subscriber
from support.smtp import SmtpServer

from subledger.bootstrap import build_ledger, build_mail
from subledger.cli import main
from subledger.config import Settings
from subledger.messages import outbox


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpServer) -> str:
    url = "sqlite:///" + str(tmp_path / "cli.db")
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", url)
    monkeypatch.setenv("SUBLEDGER_SMTP_URL", smtp_server.url)
    return url


def _two_receipts_one_left_sending(url: str, capsys: pytest.CaptureFixture[str]) -> str:
    """Ada's and Bob's first invoices are paid; the process handing Ada's receipt to the
    server died before it knew whether the server took it. Ada's receipt's id."""
    assert main(["mail", "--once"]) == 0  # the worker starts at the head of the log
    settings = Settings.from_env({"SUBLEDGER_DATABASE_URL": url, "SUBLEDGER_SMTP_URL": "smtp://x:25"})
    ledger = build_ledger(settings)  # the CLI's clock: nothing else comes due meanwhile
    try:
        add_plan(ledger, "basic", amount=1900)
        for email in ("ada@example.com", "bob@example.com"):
            who = paying_subscriber(ledger, email)
            ledger.subscriptions.start(who.id, plan_id="basic")
        assert main(["project", "--once"]) == 0
        worker = build_mail(settings, ledger)
        try:
            worker.follow_log()
            ada = outbox.outbox(worker.store)[0]
            assert outbox.claim(worker.store, ada.message_id, "ada@example.com", "Receipt")
        finally:
            worker.close()
    finally:
        ledger.close()
    capsys.readouterr()
    return ada.message_id


def _listed(status: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    assert main(["mail", "--list", status]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_a_message_left_sending_is_listed_and_sent_again_on_retry(
        url: str, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]) -> None:
    stuck = _two_receipts_one_left_sending(url, capsys)
    assert main(["mail", "--once"]) == 0
    assert [d.recipients for d in smtp_server.delivered] == [["bob@example.com"]]
    capsys.readouterr()
    [listed] = _listed("sending", capsys)
    assert (listed["message_id"], listed["kind"], listed["attempts"]) == (stuck, "receipt", 1)
    assert listed["recipient"] == "ada@example.com"
    assert main(["mail", "--retry", stuck]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "message_id": stuck, "status": "pending", "was": "sending"}
    assert main(["mail", "--once"]) == 0
    assert [d.recipients for d in smtp_server.delivered] == [
        ["bob@example.com"], ["ada@example.com"]]
    capsys.readouterr()
    sent = _listed("sent", capsys)
    assert [(m["message_id"] == stuck, m["attempts"]) for m in sent] == [(True, 1), (False, 1)]


def test_a_message_given_up_is_failed_and_never_sent(
        url: str, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]) -> None:
    stuck = _two_receipts_one_left_sending(url, capsys)
    [bob] = _listed("pending", capsys)
    assert main(["mail", "--give-up", str(bob["message_id"])]) == 0
    assert json.loads(capsys.readouterr().out)["was"] == "pending"
    assert main(["mail", "--give-up", stuck]) == 0
    capsys.readouterr()
    assert main(["mail", "--once"]) == 0
    assert smtp_server.delivered == []
    capsys.readouterr()
    failed = _listed("failed", capsys)
    assert {m["message_id"] for m in failed} == {stuck, bob["message_id"]}
    assert {m["last_error"] for m in failed} == {"given up by hand"}


def test_a_sent_message_cannot_be_sent_again_nor_an_unknown_one(
        url: str, capsys: pytest.CaptureFixture[str]) -> None:
    stuck = _two_receipts_one_left_sending(url, capsys)
    assert main(["mail", "--once"]) == 0
    capsys.readouterr()
    [sent] = _listed("sent", capsys)
    assert main(["mail", "--retry", str(sent["message_id"])]) == 2
    err = capsys.readouterr().err
    assert err == (f"subledger: message {sent['message_id']} is sent: only a sending or failed"
                   " message can be sent again\n")
    assert main(["mail", "--give-up", str(sent["message_id"])]) == 2
    assert "only a pending or sending message can be given up" in capsys.readouterr().err
    assert main(["mail", "--retry", "no-such-message"]) == 2
    assert capsys.readouterr().err == "subledger: no message no-such-message in the outbox\n"
    assert [m["message_id"] for m in _listed("sending", capsys)] == [stuck]  # unchanged
    assert [m["message_id"] for m in _listed("sent", capsys)] == [sent["message_id"]]


def test_listing_and_giving_up_need_no_smtp_server(
        url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    stuck = _two_receipts_one_left_sending(url, capsys)
    monkeypatch.delenv("SUBLEDGER_SMTP_URL")
    assert [m["message_id"] for m in _listed("sending", capsys)] == [stuck]
    assert main(["mail", "--give-up", stuck]) == 0
    assert main(["mail", "--once"]) == 2  # the worker itself does


def test_mail_actions_are_one_at_a_time(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mail", "--once", "--list", "sent"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err
    assert main(["mail", "--list", "lost"]) == 2
    assert "invalid choice: 'lost'" in capsys.readouterr().err
