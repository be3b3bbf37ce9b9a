"""The index of a subscription's documents: which subscription an invoice, a credit note or
a failed charge attempt belongs to, so that a correction can name the document alone
(``POST /invoices/{id}/void``, ``POST /charges/{id}/retry``); and which subscription a
payment provider's charge reference, and which subscriber a payment token, belong to, so that
a provider's notice (``POST /gateways/{name}/events``) finds what it is about.

Each save writes the ids its events introduce, in the events' transaction. A store whose log
is older than the index is indexed once from the log (migrations ``documents-v1`` and
``gateway-refs-v1``), recorded as done in the same transaction as its rows. Tokens are
personal: the index keeps a hash of each, never the token.
"""

from __future__ import annotations

import hashlib
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
GATEWAY_MIGRATION = "gateway-refs-v1"


def gateway_ref_key(gateway: str, gateway_ref: str) -> str:
    """The index's key of a provider's reference of a charge (a PaymentIntent id)."""
    return f"ref:{gateway}:{gateway_ref}"


def token_key(gateway: str, token: str) -> str:
    """The index's key of a payment token: a hash, as the token itself is personal."""
    return "token:" + hashlib.sha256(f"{gateway}:{token}".encode()).hexdigest()


def gateway_links(aggregate_id: UUID, events: Iterable[Any]) -> list[tuple[str, UUID]]:
    """(key, aggregate id) of every charge reference and payment token ``events`` introduce."""
    links = []
    for event in events:
        name = type(event).__name__
        if name == "ChargeSucceeded" and event.gateway_ref:
            links.append((gateway_ref_key(event.gateway, event.gateway_ref), aggregate_id))
        elif name == "PaymentMethodSet":
            links.append((token_key(event.gateway, event.token), aggregate_id))
    return links


def document_links(subscription_id: UUID, events: Iterable[Any]) -> list[tuple[str, UUID]]:
    """(document id, subscription id) of every document ``events`` introduce."""
    events = list(events)
    return [(getattr(event, DOCUMENT_IDS[type(event).__name__]), subscription_id)
            for event in events if type(event).__name__ in DOCUMENT_IDS] \
        + gateway_links(subscription_id, events)


def index_existing_documents(recorder: LedgerRecorder, log: EventLog) -> int:
    """Index the documents of a log written before the index existed (once); returns how
    many were indexed."""
    indexed = 0
    if not recorder.migration_applied(MIGRATION):
        links = [(e["data"][DOCUMENT_IDS[e["type"]]], UUID(e["aggregate_id"]))
                 for e in _all(log, tuple(DOCUMENT_IDS))]
        recorder.apply_document_migration(MIGRATION, links)
        indexed += len(links)
    if not recorder.migration_applied(GATEWAY_MIGRATION):
        links = []
        for e in _all(log, ("ChargeSucceeded", "PaymentMethodSet")):
            data, aggregate_id = e["data"], UUID(e["aggregate_id"])
            if e["type"] == "PaymentMethodSet":
                links.append((token_key(data["gateway"], data["token"]), aggregate_id))
            elif data.get("gateway_ref"):
                links.append((gateway_ref_key(data["gateway"], data["gateway_ref"]), aggregate_id))
        recorder.apply_document_migration(GATEWAY_MIGRATION, links)
        indexed += len(links)
    return indexed


def _all(log: EventLog, types: tuple[str, ...]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = 0
    while True:
        page = log.read(after, PAGE, types=types)
        found += page.items
        if page.last_position is None:
            return found
        after = page.last_position
