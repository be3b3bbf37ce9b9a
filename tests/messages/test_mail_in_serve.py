"""The mail worker as ``subledger serve`` runs it: a thread of the one follow loop, started
only when SMTP is configured, stopped with the others."""

from __future__ import annotations

import threading
from dataclasses import replace

from support.ledger import add_plan, paying_subscriber
from support.receiver import eventually
from support.smtp import SmtpServer

from subledger.bootstrap import build_projector
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.mail_config import MailSettings, parse_smtp_url
from subledger.workers import start_mail


def test_without_smtp_no_mail_worker_starts(settings: Settings, ledger: Ledger) -> None:
    assert start_mail(settings, ledger, threading.Event()) == []


def test_with_smtp_the_worker_thread_sends_the_receipt_and_stops_when_asked(
        settings: Settings, ledger: Ledger, smtp_server: SmtpServer) -> None:
    configured = replace(settings, mail=MailSettings(smtp=parse_smtp_url(smtp_server.url)))
    stop = threading.Event()
    [finish] = start_mail(configured, ledger, stop)
    try:
        add_plan(ledger, "basic", amount=1900)
        ada = paying_subscriber(ledger, "ada@example.com")
        ledger.subscriptions.start(ada.id, plan_id="basic")
        projector = build_projector(settings, ledger)
        try:
            projector.run_once()
        finally:
            projector.close()
            projector.store.close()
        [receipt] = eventually(lambda: smtp_server.delivered, what="the receipt")
        assert receipt.subject == "Receipt for your payment of USD 19.00"
    finally:
        finish()
    assert not [t for t in threading.enumerate() if t.name == "mail"]
