"""Receivables folded straight from the log, in the shape of ``/reports/receivables`` and
``/reports/receivables/invoices``.

The definitions are the domain's (``domain.receivables``): each event about an invoice
moves what is left to pay on it (``amount_due_after``) and what is outstanding
(``outstanding``), folded in log order as the ``invoices`` model folds them; an invoice's
outstanding amount as of T is the sum of what its events effective by T moved. The replay
reads the log as known at K already, so only ``as_of`` is filtered here; it sums each
invoice's changes rather than reading spans, which makes it a check of the model's spans. Numbers are given
as the model gives them: in log order, per series of the year the invoice was recorded.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from subledger.domain.document_numbers import INVOICE_PREFIX, document_number, series
from subledger.domain.invoicing import UNCOLLECTIBLE, VOID
from subledger.domain.receivables import aging_bucket, amount_due_after, days_overdue, outstanding
from subledger.domain.time import parse_instant
from subledger.projections.mrr import sortable
from subledger.projections.receivables import RECEIVABLES_VERSION, aging

from .reader import LoggedEvent

EVENTS = frozenset({"InvoiceIssued", "ChargeSucceeded", "ChargeReversed", "InvoiceVoided",
                    "InvoiceMarkedUncollectible", "CreditNoteIssued"})
"""The events that move what is outstanding on an invoice."""
ENDS = {"InvoiceVoided": VOID, "InvoiceMarkedUncollectible": UNCOLLECTIBLE}


@dataclass
class Invoice:
    head: dict[str, Any]
    """Its ids, number, currency and ``issued_at``, as the answer shows them."""
    issued_position: int
    status: str = "open"
    amount_due: int = 0
    moves: list[tuple[datetime, int, int]] = field(default_factory=list)
    """(effective instant, change of the outstanding amount, log position) per event."""


@dataclass
class Receivables:
    """A fold (``initial``/``apply``) gathering every invoice's moves."""

    invoices: dict[str, Invoice] = field(default_factory=dict)
    charges: dict[str, str] = field(default_factory=dict)
    """charge id -> invoice id: a reversal names the charge."""
    numbers: Counter[str] = field(default_factory=Counter)
    position: int = 0

    def initial(self) -> Receivables:
        return Receivables()

    def apply(self, state: Receivables, logged: LoggedEvent) -> Receivables:
        state.position = logged.position
        if logged.type in EVENTS:
            state.fold(logged.envelope())
        return state

    def fold(self, envelope: dict[str, Any]) -> None:
        kind, data = envelope["type"], envelope["data"]
        if kind == "InvoiceIssued":
            self._issue(envelope)
            return
        # A reversal names the charge; every other event its invoice.
        invoice_id = self.charges.get(data["charge_id"]) if kind == "ChargeReversed" \
            else data.get("invoice_id")
        invoice = self.invoices.get(invoice_id) if invoice_id is not None else None
        if invoice is None:
            return
        if kind == "ChargeSucceeded":
            self.charges[data["charge_id"]] = invoice.head["invoice_id"]
        was = outstanding(invoice.status, invoice.amount_due)
        invoice.amount_due = amount_due_after(invoice.amount_due, kind, data)
        if invoice.status not in (VOID, UNCOLLECTIBLE):
            invoice.status = ENDS.get(kind, invoice.status)
        self._move(invoice, envelope, outstanding(invoice.status, invoice.amount_due) - was)

    def _issue(self, envelope: dict[str, Any]) -> None:
        data = envelope["data"]
        name = series(INVOICE_PREFIX, parse_instant(envelope["recorded_at"]))
        self.numbers[name] += 1
        invoice = Invoice({
            "invoice_id": data["invoice_id"], "number": document_number(name, self.numbers[name]),
            "subscription_id": envelope["aggregate_id"], "subscriber_id": envelope["subscriber_id"],
            "currency": data["currency"], "issued_at": sortable(envelope["effective_at"])},
            envelope["position"], amount_due=int(data["amount_due"]))
        self.invoices[data["invoice_id"]] = invoice
        self._move(invoice, envelope, outstanding(invoice.status, invoice.amount_due))

    @staticmethod
    def _move(invoice: Invoice, envelope: dict[str, Any], amount: int) -> None:
        if amount != 0:
            invoice.moves.append((parse_instant(envelope["effective_at"]), amount, envelope["position"]))

    def changes(self) -> list[dict[str, Any]]:
        """Every change of what an invoice owes, invoice by invoice in the order they were
        issued (the export's ``receivables`` table), with what it owed after each."""
        rows = []
        for invoice in self.invoices.values():
            owing = 0
            for at, amount, position in invoice.moves:
                owing += amount
                rows.append({**{k: invoice.head[k] for k in ("invoice_id", "subscription_id",
                                                              "subscriber_id", "currency")},
                             "issued_at": parse_instant(invoice.head["issued_at"]), "at": at,
                             "amount": amount, "outstanding": owing, "position": position})
        return rows

    def owed(self, as_of: datetime, currency: str | None = None,
             subscriber_id: str | None = None) -> list[dict[str, Any]]:
        """Each invoice outstanding as of ``as_of``, as the drill-down lists them."""
        found = []
        for invoice in sorted(self.invoices.values(), key=lambda i: (i.head["issued_at"], i.issued_position)):
            if (currency is not None and invoice.head["currency"] != currency.upper()) \
                    or (subscriber_id is not None and invoice.head["subscriber_id"] != subscriber_id):
                continue
            moves = [(amount, position) for at, amount, position in invoice.moves if at <= as_of]
            owing = sum(amount for amount, _ in moves)
            if owing > 0:
                days = days_overdue(parse_instant(invoice.head["issued_at"]), as_of)
                found.append({**invoice.head, "outstanding": owing, "days_overdue": days,
                              "bucket": aging_bucket(days),
                              "positions": sorted(position for _, position in moves)})
        return found


def receivables_report(book: Receivables, as_of: datetime, as_known_at: datetime | None,
                       currency: str | None) -> dict[str, Any]:
    """``/reports/receivables``'s answer, folded from the log (read as known at K)."""
    return {**_head(book, as_of, as_known_at), "currencies": aging(book.owed(as_of, currency), currency)}


def receivable_invoices(book: Receivables, as_of: datetime, as_known_at: datetime | None,
                        currency: str | None) -> dict[str, Any]:
    """``/reports/receivables/invoices``'s items, every one at once."""
    return {**_head(book, as_of, as_known_at), "items": book.owed(as_of, currency)}


def _head(book: Receivables, as_of: datetime, as_known_at: datetime | None) -> dict[str, Any]:
    return {"as_of": sortable(as_of),
            "as_known_at": None if as_known_at is None else sortable(as_known_at),
            "position": book.position, "metrics_version": RECEIVABLES_VERSION}
