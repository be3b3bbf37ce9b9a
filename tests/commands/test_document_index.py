"""The index of documents: every invoice, credit note and failed attempt names its
subscription from the save that introduced it, and a store whose log predates the index is
indexed once when the ledger starts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from subledger.commands.document_index import MIGRATION
from subledger.commands.ledger import Ledger

START = datetime(2026, 3, 1, tzinfo=UTC)


def _book(ledger: Ledger) -> dict[str, Any]:
    ledger.catalog.create_plan(plan_id="m", name="M", tier="basic", currency="USD", amount=3000,
                               interval="month", effective_at=START)
    subs = {}
    for token in ("tok_visa", "tok_chargeDeclined"):
        who = ledger.subscribers.register(email=f"{token}@example.com", name="S", effective_at=START)
        ledger.subscribers.set_payment_method(who.id, gateway="sandbox", token=token, effective_at=START)
        subs[token] = ledger.subscriptions.start(who.id, plan_id="m", effective_at=START)
    return subs


def _documents(ledger: Ledger) -> dict[str, Any]:
    """Every document id the log introduces, with the subscription it is on."""
    fields = {"InvoiceIssued": "invoice_id", "CreditNoteIssued": "credit_note_id",
              "ChargeFailed": "charge_id"}
    return {e["data"][fields[e["type"]]]: e["aggregate_id"]
            for e in ledger.event_log.read(0, 1000, tuple(fields)).items}


def test_every_document_names_its_subscription_from_the_save_that_introduced_it(ledger: Ledger) -> None:
    subs = _book(ledger)
    invoice = next(iter(subs["tok_visa"].invoices))
    ledger.corrections.issue_credit_note(invoice, settlement="credit_balance",
                                         effective_at=datetime(2026, 3, 2, tzinfo=UTC))
    documents = _documents(ledger)
    assert len(documents) == 4  # two invoices, a failed attempt, a credit note
    for document_id, subscription_id in documents.items():
        assert str(ledger.store.locate(document_id)) == subscription_id
    assert ledger.store.locate("00000000-0000-4000-8000-000000000000") is None


def test_a_log_older_than_the_index_is_indexed_once_when_the_ledger_starts(
        ledger_on: Callable[..., Ledger]) -> None:
    first = ledger_on()
    _book(first)
    recorder = first.store.recorder
    # As a store written before the index existed: no rows, no record of the migration.
    schema = getattr(recorder.datastore, "schema", None)
    with recorder.datastore.transaction(commit=True) as cursor:
        for table in (recorder.documents_table, recorder.migrations_table):
            cursor.execute(f"DELETE FROM {table}" if schema is None else f'DELETE FROM "{schema}".{table}')
    assert all(first.store.locate(d) is None for d in _documents(first))
    assert not recorder.migration_applied(MIGRATION)

    second = ledger_on()

    assert second.store.recorder.migration_applied(MIGRATION)
    documents = _documents(second)
    assert {d: str(second.store.locate(d)) for d in documents} == documents
    declined = second.subscriptions.get(UUID(next(
        s for d, s in documents.items() if second.subscriptions.get(UUID(s)).status == "past_due")))
    (unpaid,) = declined.invoices
    subscription, _ = second.corrections.void_invoice(unpaid, effective_at=datetime(2026, 3, 2, tzinfo=UTC))
    assert subscription.invoices[unpaid]["status"] == "void"
