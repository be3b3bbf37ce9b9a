"""The index of a subscription's documents: which subscription an invoice, a credit note or
a failed charge attempt belongs to, so that a correction can name the document alone
(``POST /invoices/{id}/void``, ``POST /charges/{id}/retry``).

Each save writes the ids its events introduce, in the events' transaction. A store whose log
is older than the index is indexed once from the log (migration ``documents-v1``), recorded
as done in the same transaction as its rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from subledger.store.log import EventLog
    from subledger.store.recorders import LedgerRecorder

MIGRATION = "documents-v1"
DOCUMENT_IDS = {"InvoiceIssued": "invoice_id", "CreditNoteIssued": "credit_note_id",
                "ChargeFailed": "charge_id"}
"""event type -> the field holding the id of the document it introduces"""
PAGE = 1000


def document_links(subscription_id: UUID, events: Iterable[Any]) -> list[tuple[str, UUID]]:
    """(document id, subscription id) of every document ``events`` introduce."""
    return [(getattr(event, DOCUMENT_IDS[type(event).__name__]), subscription_id)
            for event in events if type(event).__name__ in DOCUMENT_IDS]


def index_existing_documents(recorder: LedgerRecorder, log: EventLog) -> int:
    """Index the documents of a log written before the index existed (once); returns how
    many were indexed."""
    if recorder.migration_applied(MIGRATION):
        return 0
    links: list[tuple[str, UUID]] = []
    after = 0
    while True:
        page = log.read(after, PAGE, types=tuple(DOCUMENT_IDS))
        for envelope in page.items:
            links.append((envelope["data"][DOCUMENT_IDS[envelope["type"]]],
                          UUID(envelope["aggregate_id"])))
        if page.last_position is None:
            break
        after = page.last_position
    recorder.apply_document_migration(MIGRATION, links)
    return len(links)
