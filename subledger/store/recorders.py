"""The library's application recorders, extended with the ledger's side tables.

``Application.save(..., idempotency=IdempotencyRecord, subscriber_links=[...])`` reaches
``_insert_events`` below inside the transaction that appends the events, so an idempotency
answer is stored if and only if its events are, and a second request with the same key
fails that whole transaction on the table's primary key. The subscriber lookup
(:mod:`.subscriber_lookup`) is written the same way.
"""

from __future__ import annotations

from .postgres_recorder import LedgerPostgresRecorder
from .sqlite_recorder import LedgerSQLiteRecorder

__all__ = ["LedgerPostgresRecorder", "LedgerRecorder", "LedgerSQLiteRecorder"]

LedgerRecorder = LedgerPostgresRecorder | LedgerSQLiteRecorder
