"""The mail worker: a follower of the log (run by the one follow loop) whose output is
e-mails.

Each round does three things, each safe to stop at any point:

1. **Follow the log**: read the events after its checkpoint and record what they make due
   (:func:`.plan.plan`) in the outbox or the table of messages waiting for a date, in the
   transaction that moves the checkpoint (:meth:`ViewStore.advance`): a crash loses nothing
   and decides nothing twice.
2. **Wake what is due**: a waiting message whose date has come by the ledger's clock is
   checked against the ledger (is the trial still ending then, the renewal still coming,
   the subscriber still gone?) and moved to the outbox, or dropped with why.
3. **Send**: each pending message is written (:mod:`.facts`), marked ``sending`` and handed
   to the SMTP server, then marked ``sent``. A message the server could not take now is
   tried again after ``retry_base * 2**(attempts-1)`` seconds (capped), up to
   ``max_attempts``; one it refused for good is ``failed``. A message that cannot be written
   (an address an e-mail cannot carry, a template that fails) is ``failed`` before it is
   marked ``sending``, with why, and the round goes on with the next one. A process that dies
   between handing a message over and marking it sent leaves it ``sending``: it is not sent
   again (at most once per cause).

A worker created on a ledger that has a log already starts at its head: switching e-mails on
does not send the receipts of years past. Never run inside a command: commands never wait
on e-mails.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING
from uuid import UUID

import psycopg
from eventsourcing.persistence import PersistenceError

from subledger.domain.errors import NotFound
from subledger.domain.lifecycle import BILLED_STATUSES, CANCELED, TRIALING
from subledger.domain.time import isoformat
from subledger.mail_config import MailSettings
from subledger.projections.follow import Follower
from subledger.projections.store import CHECKPOINTS, ViewCursor, ViewStore

from . import outbox
from .compose import mime
from .facts import NotReady, Skip, compose
from .kinds import RENEWAL_REMINDER, TRIAL_ENDING, WIN_BACK
from .plan import Message, Timing, plan
from .smtp import MailRefused, MailSender, MailUnavailable

if TYPE_CHECKING:
    from subledger.commands.ledger import Ledger

logger = logging.getLogger(__name__)

CHECKPOINT = "mail"
VERSION = 1
UNREADABLE = (PersistenceError, psycopg.Error, sqlite3.Error, OSError)
"""Errors of reading the ledger or the views while writing a message: not the message's
fault, so it stays ``pending`` and the follow loop tries again after its backoff."""


class MailWorker:
    def __init__(self, ledger: Ledger, store: ViewStore, sender: MailSender,
                 settings: MailSettings, seller: Sequence[str], *, retry_base: float = 60.0,
                 retry_cap: float = 6 * 3600.0, max_attempts: int = 10, batch: int = 200,
                 poll_interval: float = 1.0) -> None:
        self.ledger = ledger
        self.log = ledger.event_log
        self.store = store
        self.sender = sender
        self.settings = settings
        self.seller = tuple(seller)
        self.timing = Timing(settings.renewal_days, settings.winback_coupon, settings.winback_days)
        self.retry_base, self.retry_cap, self.max_attempts = retry_base, retry_cap, max_attempts
        self.batch, self.poll_interval = batch, poll_interval
        outbox.create_tables(store)
        if store.checkpoint(CHECKPOINT) is None:
            head = self.log.max_position()
            # Another worker may have started meanwhile: the first one's start stands.
            with store.transaction() as tx:
                tx.execute(f"INSERT INTO {CHECKPOINTS} (name, position, version) VALUES (?, ?, ?)"
                           " ON CONFLICT (name) DO NOTHING", (CHECKPOINT, head, VERSION))

    def now(self) -> datetime:
        """The ledger's clock: messages wait for the dates of the ledger's own time."""
        return self.ledger.clock()

    def delay(self, attempts: int) -> float:
        return float(min(self.retry_cap, self.retry_base * 2 ** (attempts - 1)))

    def run_once(self) -> int:
        """One round (see the module); the events read plus the messages woken and sent."""
        return self.follow_log() + self.wake_due() + self.send_pending()

    def follower(self) -> Follower:
        return Follower("mail worker", self.run_once, idle=self.poll_interval, log=logger)

    def lag(self) -> int:
        return max(0, self.log.max_position() - (self.store.checkpoint(CHECKPOINT) or (0, 0))[0])

    def follow_log(self) -> int:
        seen = (self.store.checkpoint(CHECKPOINT) or (0, 0))[0]
        page = self.log.read(seen, self.batch)
        if page.last_position is None:
            return 0
        now = self.now()

        forgotten = [e["aggregate_id"] for e in page.items if e["type"] == "SubscriberForgotten"]

        def write(tx: ViewCursor) -> None:
            for envelope in page.items:
                outbox.write_plan(tx, plan(envelope, self.timing), now)
            for subscriber_id in forgotten:
                outbox.forget(tx, subscriber_id)

        moved = self.store.advance(CHECKPOINT, seen, page.last_position, VERSION, write)
        if moved and forgotten:
            self.store.truncate_wal()
        return len(page.items) if moved else 0

    def wake_due(self) -> int:
        now = self.now()
        due = outbox.waiting_due(self.store, now, self.batch)
        for message in due:
            outbox.settle_due(self.store, message, now, self._untrue(message))
        return len(due)

    def _untrue(self, message: Message) -> str | None:
        """Why a waiting message is no longer true now that its date has come (None: it is)."""
        try:
            if message.kind == WIN_BACK:
                ids = self.ledger.subscribers.subscription_ids(UUID(message.cause["subscriber_id"]))
                back = [i for i in ids if self.ledger.subscriptions.get(i).status != CANCELED]
                return "the subscriber has a subscription again" if back else None
            sub = self.ledger.subscriptions.get(UUID(message.cause["aggregate_id"]))
        except NotFound:
            return "no longer known"
        if message.kind == TRIAL_ENDING:
            if sub.status != TRIALING or sub.trial_end is None \
                    or isoformat(sub.trial_end) != message.data["trial_end"]:
                return "the trial no longer ends then"
            return "the subscription is canceled at the trial's end" if sub.cancel_at else None
        if message.kind != RENEWAL_REMINDER:
            raise ValueError(f"no date to check for a {message.kind}")
        if sub.status not in BILLED_STATUSES \
                or isoformat(sub.current_period_end) != message.data["period_end"]:
            return "the subscription no longer renews then"
        if sub.cancel_at is not None and isoformat(sub.cancel_at) <= message.data["period_end"]:
            return "the subscription is canceled before it would renew"
        return None

    def send_pending(self) -> int:
        now = self.now()
        sent = 0
        for outgoing in outbox.sendable(self.store, now, self.batch):
            sent += self._deliver(outgoing, now)
        return sent

    def _deliver(self, outgoing: outbox.Outgoing, now: datetime) -> int:
        try:
            message, address, subject = self._write(outgoing, now)
        except NotReady:
            return 0  # the next round looks again
        except Skip as skipped:
            outbox.finish(self.store, outgoing.message_id, outbox.SKIPPED, error=str(skipped),
                          from_status=outbox.PENDING)
            logger.info("mail %s skipped: %s", outgoing.message_id, skipped)
            return 1
        except UNREADABLE:
            raise
        except Exception as broken:  # noqa: BLE001 - the message's own fault: it would fail again
            why = f"could not be written: {type(broken).__name__}: {broken}"[:500]
            outbox.finish(self.store, outgoing.message_id, outbox.FAILED, error=why,
                          from_status=outbox.PENDING)
            logger.error("mail %s failed: %s", outgoing.message_id, why)
            return 1
        if not outbox.claim(self.store, outgoing.message_id, address, subject):
            return 0
        return self._send(outgoing, message, now)

    def _write(self, outgoing: outbox.Outgoing, now: datetime) -> tuple[EmailMessage, str, str]:
        """The whole message, its address and subject, written before it is claimed: a
        message that cannot be written is never left ``sending``."""
        composed, name, address = compose(self.ledger, self.store, self.seller, outgoing)
        message = mime(composed, sender=self.settings.sender, name=name, address=address,
                       message_id=outgoing.message_id, date=now)
        return message, address, str(message["Subject"])

    def _send(self, outgoing: outbox.Outgoing, message: EmailMessage, now: datetime) -> int:
        attempts = outgoing.attempts + 1
        try:
            self.sender.send(message)
        except MailRefused as refused:
            outbox.finish(self.store, outgoing.message_id, outbox.FAILED, error=str(refused)[:500])
            logger.warning("mail %s refused for good: %s", outgoing.message_id, refused)
            return 1
        except MailUnavailable as unavailable:
            final = attempts >= self.max_attempts
            retry_at = None if final else (now + timedelta(seconds=self.delay(attempts))).timestamp()
            outbox.finish(self.store, outgoing.message_id, outbox.FAILED if final else outbox.PENDING,
                          error=str(unavailable)[:500], retry_at=retry_at)
            logger.warning("mail %s not sent (attempt %s): %s", outgoing.message_id, attempts,
                           unavailable)
            return 1
        outbox.finish(self.store, outgoing.message_id, outbox.SENT, sent_at=now)
        return 1

    def close(self) -> None:
        self.store.close()
