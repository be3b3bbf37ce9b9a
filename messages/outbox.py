"""The mail worker's tables in the views' database (:class:`ViewStore`), on PostgreSQL or
SQLite:

- ``subledger_mail_outbox``: one row per message decided, keyed by the causing event's id
  and the message's kind (``message_id``), so a message is decided once per cause however
  often the log is read. Its ``status``: ``pending`` (to send at ``next_attempt_at``),
  ``sending`` (handed to the SMTP server; if the process dies now, the message is not sent
  again: at most once, unless an operator who read the server's log says so,
  :func:`settle_by_hand`), ``sent``, ``failed`` (refused for good, out of attempts, or
  impossible to write, then never claimed) and ``skipped`` (nobody to send it to: no
  address, or a marketing message to a subscriber who opted out).
- ``subledger_mail_due``: the messages that wait for a date (``waiting``), until they are
  moved to the outbox (``enqueued``) or found no longer true (``dropped``, with why).

Rows are written in the transaction that moves the worker's checkpoint, so a crash loses no
message and decides none twice. The one personal datum a row keeps is where a message went
(``recipient``, and an SMTP server's error may quote it in ``last_error``): both are erased
when the worker reads that the subscriber was forgotten (:func:`forget`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from subledger.domain.time import isoformat, parse_instant
from subledger.projections.mrr import sortable
from subledger.projections.store import ViewCursor, ViewStore

from .plan import Message, Plan

OUTBOX = "subledger_mail_outbox"
DUE = "subledger_mail_due"
PENDING, SENDING, SENT, FAILED, SKIPPED = "pending", "sending", "sent", "failed", "skipped"
STATUSES = (PENDING, SENDING, SENT, FAILED, SKIPPED)
WAITING, ENQUEUED, DROPPED = "waiting", "enqueued", "dropped"
_OUTBOX_COLUMNS = ("message_id, kind, cause_event_id, position, subscriber_id, subscription_id,"
                   " data, status, attempts, next_attempt_at, last_error, recipient, subject,"
                   " sent_at")


@dataclass(frozen=True)
class Outgoing:
    """A row of the outbox."""

    message_id: str
    kind: str
    cause_event_id: str
    position: int
    subscriber_id: str
    subscription_id: str
    data: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: float
    last_error: str | None
    recipient: str | None
    subject: str | None
    sent_at: str | None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Outgoing:
        values = list(row)
        values[6] = json.loads(values[6])
        values[3], values[8], values[9] = int(values[3]), int(values[8]), float(values[9])
        return cls(*values)


def create_tables(store: ViewStore) -> None:
    with store.creating_tables() as tx:
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {OUTBOX} (message_id TEXT PRIMARY KEY, kind TEXT NOT NULL,"
            " cause_event_id TEXT NOT NULL, position BIGINT NOT NULL, subscriber_id TEXT NOT NULL,"
            " subscription_id TEXT NOT NULL, data TEXT NOT NULL, status TEXT NOT NULL,"
            " attempts INTEGER NOT NULL, next_attempt_at DOUBLE PRECISION NOT NULL,"
            " last_error TEXT, recipient TEXT, subject TEXT, sent_at TEXT)")
        tx.execute(f"CREATE INDEX IF NOT EXISTS {OUTBOX}_due ON {OUTBOX} (status, next_attempt_at)")
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {DUE} (due_id TEXT PRIMARY KEY, kind TEXT NOT NULL,"
            " cause_event_id TEXT NOT NULL, position BIGINT NOT NULL, subscriber_id TEXT NOT NULL,"
            " subscription_id TEXT NOT NULL, due_at TEXT NOT NULL, data TEXT NOT NULL,"
            " state TEXT NOT NULL, detail TEXT)")
        tx.execute(f"CREATE INDEX IF NOT EXISTS {DUE}_at ON {DUE} (state, due_at)")


def write_plan(tx: ViewCursor, decided: Plan, now: datetime) -> None:
    """Record what one event made due (in the checkpoint's transaction)."""
    for kind, record in decided.ended:
        tx.execute(f"UPDATE {DUE} SET state = ?, detail = ? WHERE state = ? AND kind = ?"
                   " AND (subscription_id = ? OR subscriber_id = ?)",
                   (DROPPED, "no longer due: a later event ended it", WAITING, kind, record, record))
    for message in decided.messages:
        if message.due_at is None:
            enqueue(tx, message, now)
        else:
            tx.execute(
                f"INSERT INTO {DUE} (due_id, kind, cause_event_id, position, subscriber_id,"
                " subscription_id, due_at, data, state, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)"
                " ON CONFLICT (due_id) DO NOTHING",
                (message.message_id, message.kind, message.cause["event_id"],
                 message.cause["position"], message.cause["subscriber_id"],
                 message.cause["aggregate_id"], sortable(isoformat(message.due_at)),
                 json.dumps(message.data), WAITING))


def enqueue(tx: ViewCursor, message: Message, now: datetime) -> None:
    """A message to send from ``now`` on (nothing if its cause already made it)."""
    tx.execute(
        f"INSERT INTO {OUTBOX} ({_OUTBOX_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?,"
        " NULL, NULL, NULL, NULL) ON CONFLICT (message_id) DO NOTHING",
        (message.message_id, message.kind, message.cause["event_id"], message.cause["position"],
         message.cause["subscriber_id"], message.cause["aggregate_id"], json.dumps(message.data),
         PENDING, now.timestamp()))


def waiting_due(store: ViewStore, now: datetime, limit: int) -> list[Message]:
    """The waiting messages whose date has come, oldest first."""
    with store.transaction() as tx:
        rows = tx.execute(
            f"SELECT kind, cause_event_id, position, subscriber_id, subscription_id, due_at, data"
            f" FROM {DUE} WHERE state = ? AND due_at <= ? ORDER BY due_at, due_id LIMIT ?",
            (WAITING, sortable(isoformat(now)), limit)).fetchall()
    return [Message(kind, {"event_id": event_id, "position": int(position),
                           "subscriber_id": subscriber, "aggregate_id": subscription},
                    json.loads(data), parse_instant(due_at))
            for kind, event_id, position, subscriber, subscription, due_at, data in rows]


def settle_due(store: ViewStore, message: Message, now: datetime, dropped: str | None) -> None:
    """Move a waiting message to the outbox, or drop it (``dropped``: why), in one transaction."""
    with store.transaction() as tx:
        tx.execute(f"UPDATE {DUE} SET state = ?, detail = ? WHERE due_id = ? AND state = ?",
                   (DROPPED if dropped else ENQUEUED, dropped, message.message_id, WAITING))
        if tx.rowcount == 1 and dropped is None:
            enqueue(tx, message, now)


def sendable(store: ViewStore, now: datetime, limit: int) -> list[Outgoing]:
    with store.transaction() as tx:
        rows = tx.execute(f"SELECT {_OUTBOX_COLUMNS} FROM {OUTBOX} WHERE status = ?"
                          " AND next_attempt_at <= ? ORDER BY position, message_id LIMIT ?",
                          (PENDING, now.timestamp(), limit)).fetchall()
    return [Outgoing.from_row(row) for row in rows]


ERASED_ERROR = "(erased: the subscriber was forgotten)"


def claim(store: ViewStore, message_id: str, recipient: str, subject: str) -> bool:
    """Mark a pending message as handed to the SMTP server (False: another worker has it)."""
    with store.transaction() as tx:
        tx.execute(f"UPDATE {OUTBOX} SET status = ?, attempts = attempts + 1, recipient = ?,"
                   " subject = ? WHERE message_id = ? AND status = ?",
                   (SENDING, recipient, subject, message_id, PENDING))
        return tx.rowcount == 1


def forget(tx: ViewCursor, subscriber_id: str) -> None:
    """Erase where the subscriber's messages went (their address, and SMTP errors that may
    quote it): the rest of each row (kind, cause, status, subject, dates) says what was sent
    and is kept."""
    tx.overwrite_deleted()
    tx.execute(f"UPDATE {OUTBOX} SET recipient = NULL,"
               " last_error = CASE WHEN last_error IS NULL THEN NULL ELSE ? END"
               " WHERE subscriber_id = ?", (ERASED_ERROR, subscriber_id))


def finish(store: ViewStore, message_id: str, status: str, *, error: str | None = None,
           retry_at: float | None = None, sent_at: datetime | None = None,
           from_status: str = SENDING) -> None:
    """The outcome of an attempt: ``sent``, ``pending`` again (``retry_at``), ``failed`` or
    ``skipped``."""
    with store.transaction() as tx:
        tx.execute(f"UPDATE {OUTBOX} SET status = ?, last_error = ?,"
                   " next_attempt_at = COALESCE(?, next_attempt_at), sent_at = ?"
                   " WHERE message_id = ? AND status = ?",
                   (status, error, retry_at, None if sent_at is None else isoformat(sent_at),
                    message_id, from_status))


BY_HAND = {PENDING: (SENDING, FAILED), FAILED: (PENDING, SENDING)}
"""What an operator may move a message to, from which statuses: a message left ``sending``
by a process that died (or ``failed``) sent again, or one not to send given up."""
GIVEN_UP = "given up by hand"


def settle_by_hand(store: ViewStore, message_id: str, status: str, now: datetime) -> str | None:
    """Move one message to ``status`` (a key of :data:`BY_HAND`) if its status allows it;
    its status before (None: no such message). Sent again, it has a fresh round of attempts
    from ``now``; given up, it is ``failed`` with why."""
    with store.transaction() as tx:
        row = tx.execute(f"SELECT status FROM {OUTBOX} WHERE message_id = ?", (message_id,)).fetchone()
        if row is None or row[0] not in BY_HAND[status]:
            return None if row is None else str(row[0])
        if status == PENDING:
            tx.execute(f"UPDATE {OUTBOX} SET status = ?, attempts = 0, next_attempt_at = ?"
                       " WHERE message_id = ? AND status = ?",
                       (PENDING, now.timestamp(), message_id, row[0]))
        else:
            tx.execute(f"UPDATE {OUTBOX} SET status = ?, last_error = ? WHERE message_id = ?"
                       " AND status = ?", (FAILED, GIVEN_UP, message_id, row[0]))
        return str(row[0])


def outbox(store: ViewStore, *, status: str | None = None) -> list[Outgoing]:
    """Every message of the outbox (of one status), in log order."""
    where, values = ("WHERE status = ?", (status,)) if status else ("", ())
    with store.transaction() as tx:
        rows = tx.execute(f"SELECT {_OUTBOX_COLUMNS} FROM {OUTBOX} {where}"
                          " ORDER BY position, message_id", values).fetchall()
    return [Outgoing.from_row(row) for row in rows]


def counts(store: ViewStore) -> dict[str, int]:
    """Messages by status, every status named (0 when none), and the messages still waiting
    for their date: the same keys every time, for a script or a monitor to read."""
    with store.transaction() as tx:
        found = {status: int(n) for status, n in tx.execute(
            f"SELECT status, count(*) FROM {OUTBOX} GROUP BY status").fetchall()}
        waiting = tx.execute(f"SELECT count(*) FROM {DUE} WHERE state = ?", (WAITING,)).fetchone()
    return {**dict.fromkeys(STATUSES, 0), **found, "waiting": int(waiting[0]) if waiting else 0}
