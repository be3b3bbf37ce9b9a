"""Read model ``invoices``: every invoice and credit note as a document, with its number.

- ``view_invoices``: one row per invoice (``InvoiceIssued``), kept current by what happened
  to it since: its charge's attempts and success, a void, a write-off, credit notes and the
  refunds of its charge. Amounts are integer minor units: ``total``, ``credit_applied``
  (from the credit balance), ``amount_due`` (what is left to pay), ``amount_paid``
  (succeeded charges), ``credited`` (credit notes), ``refunded`` (refunds of its charge, a
  credit note's refund included, less the refunds reversed since). Its ``lines`` (JSON) say
  what is credited of each.
- ``view_credit_notes``: one row per credit note (``CreditNoteIssued``), append-only.

Numbers (``domain.document_numbers``) are given here, as the log is folded: the next of the
document's series, which is named by the UTC year of the event's ``recorded_at``. The runner
applies the log strictly in position order, page after page, each page in one transaction
with the checkpoint, and the log's order never changes once a position is visible (the
recorder's table lock), so a number never changes once given, a rebuild gives the same
numbers, and the store's unique keys on ``(series, sequence)`` refuse a duplicate.
"""

from __future__ import annotations

import json
from typing import Any

from subledger.domain.document_numbers import (
    CREDIT_NOTE_PREFIX,
    INVOICE_PREFIX,
    document_number,
    series,
)
from subledger.domain.invoice_status import invoice_status
from subledger.domain.invoicing import OPEN, UNCOLLECTIBLE, VOID
from subledger.domain.receivables import amount_due_after
from subledger.domain.time import parse_instant

from . import receivable_spans
from .mrr import sortable
from .receivable_spans import Spans
from .store import ViewCursor

INVOICE_COLUMNS = (
    "invoice_id", "number", "series", "sequence", "subscription_id", "subscriber_id",
    "currency", "reason", "status", "issued_at", "recorded_at", "period_start", "period_end",
    "total", "credit_applied", "credit_added", "amount_due", "amount_paid", "credited",
    "refunded", "failed_attempts", "next_attempt_at", "charge_id", "lines", "credit_notes", "position",
)
CREDIT_NOTE_COLUMNS = (
    "credit_note_id", "number", "series", "sequence", "invoice_id", "invoice_number",
    "subscription_id", "subscriber_id", "currency", "total", "settlement", "refund_id",
    "lines", "effective_at", "recorded_at", "position",
)
_INTEGERS = frozenset({"sequence", "total", "credit_applied", "credit_added", "amount_due",
                       "amount_paid", "credited", "refunded", "failed_attempts", "position"})
EVENTS = frozenset({"InvoiceIssued", "ChargeSucceeded", "ChargeFailed", "InvoiceVoided",
                    "InvoiceMarkedUncollectible", "CreditNoteIssued", "RefundIssued",
                    "DisputeClosed", "RefundReversed", "ChargeReversed"})
GIVEN_BACK = ("RefundIssued", "DisputeClosed", "RefundReversed", "ChargeReversed")
"""The events about what a charge gave back, which name the charge rather than its invoice."""


def _table(name: str, columns: tuple[str, ...], key: str) -> str:
    typed = ", ".join(f"{c} {'BIGINT' if c in _INTEGERS else 'TEXT'}"
                      f"{' PRIMARY KEY' if c == key else ''}"
                      f"{' NOT NULL' if c in ('number', 'series', 'sequence', 'position') else ''}"
                      for c in columns)
    return (f"CREATE TABLE IF NOT EXISTS {name} ({typed}, UNIQUE (series, sequence),"
            " UNIQUE (number))")


class InvoicesModel:
    name = "invoices"
    version = 3
    """2: a credit note's reason is not kept here: it is personal, read from its event (which
    forgetting erases), as a document is shown. 3: the spans over which each invoice owed an
    amount (``receivable_spans``)."""
    tables = ("view_invoices", "view_credit_notes", "view_receivables")
    types = tuple(sorted(EVENTS))

    def create(self, tx: ViewCursor) -> None:
        tx.execute(_table("view_invoices", INVOICE_COLUMNS, "invoice_id"))
        tx.execute(_table("view_credit_notes", CREDIT_NOTE_COLUMNS, "credit_note_id"))
        for index, columns in (("subscriber", "subscriber_id, position"),
                               ("position", "position"), ("issued", "issued_at"),
                               ("charge", "charge_id")):
            tx.execute(f"CREATE INDEX IF NOT EXISTS view_invoices_{index} ON view_invoices ({columns})")
        tx.execute("CREATE INDEX IF NOT EXISTS view_credit_notes_invoice"
                   " ON view_credit_notes (invoice_id)")
        receivable_spans.create(tx)

    def apply(self, tx: ViewCursor, envelopes: list[dict[str, Any]]) -> None:
        """Fold a page in log order; write each touched invoice once, and the new credit
        notes."""
        page = _Page(tx)
        mine = sorted((e for e in envelopes if e["type"] in EVENTS), key=lambda e: e["position"])
        page.read_back(mine)
        for envelope in mine:
            page.fold(envelope)
        page.write()


class _Page:
    """The invoices a page touched, the credit notes it issued, and the last number it
    gave in each series."""

    def __init__(self, tx: ViewCursor) -> None:
        self.tx = tx
        self.invoices: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, str] = {}
        """charge id -> invoice id, for the refunds of charges succeeded in this page."""
        self.credit_notes: list[dict[str, Any]] = []
        self.spans = Spans()
        self.last: dict[tuple[str, str], int] = {}
        self.earlier: dict[str, dict[str, Any]] = {}
        """The rows of invoices issued before this page that its events name, as stored."""
        self.charged_earlier: dict[str, str] = {}
        """charge id -> invoice id, for the refunds of charges succeeded before this page."""

    def read_back(self, envelopes: list[dict[str, Any]]) -> None:
        """Read the earlier invoices the page's events name, by invoice or by charge, in a
        few statements (``select_in``) rather than one per event."""
        issued = {e["data"]["invoice_id"] for e in envelopes if e["type"] == "InvoiceIssued"}
        succeeded = {e["data"]["charge_id"] for e in envelopes if e["type"] == "ChargeSucceeded"}
        by_charge = {e["data"]["charge_id"] for e in envelopes if e["type"] in GIVEN_BACK} - succeeded
        by_invoice = {e["data"].get("invoice_id") for e in envelopes
                      if e["type"] != "InvoiceIssued" and e["type"] not in GIVEN_BACK}
        select = f"SELECT {', '.join(INVOICE_COLUMNS)} FROM view_invoices WHERE"
        rows = self.tx.select_in(select + " charge_id IN ({marks})", sorted(by_charge))
        rows += self.tx.select_in(select + " invoice_id IN ({marks})",
                                  sorted(by_invoice - issued - {None}))
        for row in rows:
            invoice = dict(zip(INVOICE_COLUMNS, row, strict=True))
            self.earlier[invoice["invoice_id"]] = invoice
            if invoice["charge_id"] is not None:
                self.charged_earlier[invoice["charge_id"]] = invoice["invoice_id"]

    def fold(self, envelope: dict[str, Any]) -> None:
        kind, data = envelope["type"], envelope["data"]
        if kind == "InvoiceIssued":
            number = self._next("view_invoices", INVOICE_PREFIX, envelope)
            self._record(None, issued(envelope, *number), envelope)
            return
        if kind == "DisputeClosed" and data["outcome"] != "lost":
            return  # a won dispute gives nothing back
        if kind in GIVEN_BACK:
            invoice_id = self._charged(data["charge_id"])
        else:
            invoice_id = data.get("invoice_id")
        row = self._invoice(invoice_id)
        if row is None:
            return  # a charge of no invoice, or an invoice this model never saw issued
        if kind == "ChargeSucceeded":
            self.charges[data["charge_id"]] = row["invoice_id"]
        note = None
        if kind == "CreditNoteIssued":
            note = credit_note(envelope, row, *self._next("view_credit_notes", CREDIT_NOTE_PREFIX, envelope))
            self.credit_notes.append(note)
        self._record(row, after(row, envelope, note), envelope)

    def _record(self, before: dict[str, Any] | None, row: dict[str, Any],
                envelope: dict[str, Any]) -> None:
        self.invoices[row["invoice_id"]] = row
        self.spans.record(before, row, envelope)

    def _next(self, table: str, prefix: str, envelope: dict[str, Any]) -> tuple[str, int]:
        """The series of a new document and its place in it: one more than the last."""
        name = series(prefix, parse_instant(envelope["recorded_at"]))
        if (table, name) not in self.last:
            found = self.tx.execute(f"SELECT max(sequence) FROM {table} WHERE series = ?",
                                    (name,)).fetchone()
            self.last[(table, name)] = int(found[0]) if found and found[0] is not None else 0
        self.last[(table, name)] += 1
        return name, self.last[(table, name)]

    def _charged(self, charge_id: str) -> str | None:
        return self.charges.get(charge_id) or self.charged_earlier.get(charge_id)

    def _invoice(self, invoice_id: str | None) -> dict[str, Any] | None:
        if invoice_id is None:
            return None
        return self.invoices.get(invoice_id) or self.earlier.get(invoice_id)

    def write(self) -> None:
        self.tx.upsert("view_invoices", INVOICE_COLUMNS,
                       [tuple(row[c] for c in INVOICE_COLUMNS) for row in self.invoices.values()])
        self.tx.insert("view_credit_notes", CREDIT_NOTE_COLUMNS,
                       [tuple(row[c] for c in CREDIT_NOTE_COLUMNS) for row in self.credit_notes])
        self.spans.write(self.tx)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def issued(envelope: dict[str, Any], series_name: str, sequence: int) -> dict[str, Any]:
    """A new invoice's row (pure)."""
    data = envelope["data"]
    lines = [{**line, "credited": 0} for line in data["lines"]]
    starts = [sortable(line["period_start"]) for line in lines]
    ends = [sortable(line["period_end"]) for line in lines]
    row = {
        "invoice_id": data["invoice_id"], "number": document_number(series_name, sequence),
        "series": series_name, "sequence": sequence,
        "subscription_id": envelope["aggregate_id"], "subscriber_id": envelope["subscriber_id"],
        "currency": data["currency"], "reason": data["reason"], "status": OPEN,
        "issued_at": sortable(envelope["effective_at"]),
        "recorded_at": sortable(envelope["recorded_at"]),
        "period_start": min(starts, default=None), "period_end": max(ends, default=None),
        "total": data["total"], "credit_applied": data["credit_applied"],
        "credit_added": data["credit_added"], "amount_due": data["amount_due"],
        "amount_paid": 0, "credited": 0, "refunded": 0, "failed_attempts": 0,
        "next_attempt_at": None, "charge_id": None, "lines": _json(lines),
        "credit_notes": _json([]), "position": envelope["position"],
    }
    row["status"] = status(row)
    return row


def after(row: dict[str, Any], envelope: dict[str, Any],
          note: dict[str, Any] | None = None) -> dict[str, Any]:
    """An invoice's row after one event about it (pure; ``note``: the row of the credit
    note a ``CreditNoteIssued`` issued)."""
    kind, data = envelope["type"], envelope["data"]
    row = dict(row)
    row["amount_due"] = amount_due_after(row["amount_due"], kind, data)
    if kind == "ChargeSucceeded":
        row.update(amount_paid=row["amount_paid"] + data["amount"],
                   charge_id=data["charge_id"], next_attempt_at=None)
    elif kind == "ChargeFailed":
        next_attempt = data["next_attempt_at"]
        row.update(failed_attempts=max(row["failed_attempts"], data["attempt"]),
                   next_attempt_at=None if next_attempt is None else sortable(next_attempt))
    elif kind == "InvoiceVoided":
        row.update(status=VOID, next_attempt_at=None)
    elif kind == "InvoiceMarkedUncollectible":
        row.update(status=UNCOLLECTIBLE, next_attempt_at=None)
    elif kind in ("RefundIssued", "DisputeClosed"):  # a lost dispute is given back as a refund
        row["refunded"] += data["amount"]
    elif kind == "RefundReversed":  # the refund failed at the provider: the money stayed
        row["refunded"] -= data["amount"]
    elif kind == "ChargeReversed":  # the provider denied the charge: due again, in dunning
        next_attempt = data["next_attempt_at"]
        row.update(amount_paid=row["amount_paid"] - data["amount"],
                   failed_attempts=row["failed_attempts"] + 1,
                   next_attempt_at=None if next_attempt is None else sortable(next_attempt))
    elif kind == "CreditNoteIssued":
        lines = json.loads(row["lines"])
        for credit in data["lines"]:
            lines[credit["index"]]["credited"] += credit["amount"]
        assert note is not None
        row.update(lines=_json(lines), credited=row["credited"] + data["total"],
                   credit_notes=_json([*json.loads(row["credit_notes"]),
                                       {"credit_note_id": note["credit_note_id"],
                                        "number": note["number"]}]))
    row["status"] = status(row)
    return row


def status(row: dict[str, Any]) -> str:
    return invoice_status(row["status"], amount_due=row["amount_due"],
                          failed_attempts=row["failed_attempts"])


def credit_note(envelope: dict[str, Any], invoice: dict[str, Any], series_name: str,
                sequence: int) -> dict[str, Any]:
    """A credit note's row (pure)."""
    data = envelope["data"]
    return {
        "credit_note_id": data["credit_note_id"],
        "number": document_number(series_name, sequence), "series": series_name,
        "sequence": sequence, "invoice_id": data["invoice_id"],
        "invoice_number": invoice["number"], "subscription_id": envelope["aggregate_id"],
        "subscriber_id": envelope["subscriber_id"], "currency": data["currency"],
        "total": data["total"], "settlement": data["settlement"],
        "refund_id": data["refund_id"], "lines": _json(data["lines"]),
        "effective_at": sortable(envelope["effective_at"]),
        "recorded_at": sortable(envelope["recorded_at"]), "position": envelope["position"],
    }
