"""The e-mail tests' world: a ledger on a clock the test moves, its read models, and mail
workers sending to the test's own SMTP server (``support.smtp``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.mail_config import MailSettings, parse_smtp_url
from subledger.messages.smtp import SmtpSender
from subledger.messages.worker import MailWorker
from subledger.projections.store import ViewStore
from support.factories import utc
from support.ledger import FakeClock
from support.smtp import SmtpServer

START = utc(2026, 1, 1)
SELLER = ("Shop Ltd", "1 High Street")


@dataclass
class Post:
    """A ledger whose clock the test moves, its projector, and mail workers for it."""

    ledger: Ledger
    clock: FakeClock
    projector: Any
    smtp: SmtpServer
    workers: list[MailWorker]
    settings: Settings

    def worker(self, **options: Any) -> MailWorker:
        mail = MailSettings(smtp=parse_smtp_url(self.smtp.url), sender="Shop <billing@shop.test>",
                            renewal_days=options.pop("renewal_days", 7),
                            winback_coupon=options.pop("winback_coupon", "COMEBACK"),
                            winback_days=options.pop("winback_days", 30))
        made = MailWorker(self.ledger, ViewStore(self.settings),
                          SmtpSender(mail.smtp, timeout=5), mail, SELLER, **options)  # type: ignore[arg-type]
        self.workers.append(made)
        return made

    def at(self, instant: Any) -> None:
        """Move the server clock to ``instant`` and run the billing clock up to it."""
        from subledger.commands.billing import run_billing

        self.clock.set(instant)
        run_billing(self.ledger, instant)

    def deliver(self, worker: MailWorker) -> None:
        """Bring the read models up to date, then one round of the worker until idle."""
        self.projector.run_once()
        while worker.run_once():
            pass
