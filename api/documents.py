"""Invoices and credit notes as documents for people: what a document shows, decided once
(:class:`Document`), then laid out as HTML (a Jinja2 template, ``templates/document.html``)
or as PDF (``pdf``).

Money is shown from integer minor units with the currency's exponent (``USD 1,234.50``,
``JPY 1,500``), never through a float; dates are UTC days. The buyer is the subscriber as
the ledger knows them now; the seller is ``SUBLEDGER_SELLER``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from subledger.domain.corrections import AMOUNT_DUE, CREDIT_BALANCE, REFUND
from subledger.domain.invoicing import DISCOUNT, OPEN, PAID, ROUNDING, UNCOLLECTIBLE, VOID
from subledger.domain.lifecycle import PAST_DUE

from .formats import day, money
from .pages import templates

STATUS_LABELS = {OPEN: "Open", PAST_DUE: "Past due", PAID: "Paid", VOID: "Void",
                 UNCOLLECTIBLE: "Uncollectible"}
STAMPS = {VOID: "VOID", UNCOLLECTIBLE: "UNCOLLECTIBLE"}
SETTLEMENT_LABELS = {REFUND: "refunded to the invoice's charge",
                     CREDIT_BALANCE: "kept as credit balance for the next invoices",
                     AMOUNT_DUE: "taken off the invoice's amount due"}


INVOICE_COLUMNS = ("Description", "Service period", "Amount", "Credited")
CREDIT_NOTE_COLUMNS = ("Description", "Service period", "Credited")
TEXT_COLUMNS = 2
"""The first columns of a document's lines are text; the others are amounts."""


@dataclass(frozen=True)
class Document:
    """Everything a document shows, as text, in the order it shows it."""

    title: str
    number: str
    stamp: str | None
    """VOID or UNCOLLECTIBLE, printed across the page."""
    seller: tuple[str, ...]
    buyer: tuple[str, ...]
    facts: tuple[tuple[str, str], ...]
    columns: tuple[str, ...]
    lines: tuple[tuple[str, ...], ...]
    totals: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]

    @property
    def filename(self) -> str:
        return self.number


def span(start: datetime | str | None, end: datetime | str | None) -> str:
    """A service period as days (one day when it has no length: a payment taken by hand)."""
    first, last = day(start), day(end)
    return first if first == last else f"{first} – {last}"


def buyer_lines(name: str | None, email: str | None, subscriber_id: str) -> tuple[str, ...]:
    return tuple(x for x in (name, email) if x) or (f"subscriber {subscriber_id}",)


def _due(invoice: dict[str, Any]) -> str:
    due = money(invoice["amount_due"], invoice["currency"])
    status = invoice["status"]
    if status == PAID:
        return "Paid: nothing is due"
    if status == VOID:
        return "Void: nothing is due"
    if status == UNCOLLECTIBLE:
        return f"Written off as uncollectible: {due} unpaid"
    if status == OPEN:
        return f"{due} due"
    attempts = invoice["failed_attempts"]
    after = (f"next attempt on {day(invoice['next_attempt_at'])}" if invoice["next_attempt_at"]
             else "no further attempt is scheduled")
    return f"{due} due; {attempts} payment attempt{'s' if attempts != 1 else ''} failed, {after}"


def invoice_document(invoice: dict[str, Any], *, seller: Sequence[str],
                     buyer: Sequence[str]) -> Document:
    """An invoice (a record of the ``invoices`` read model) as its document shows it."""
    cur = invoice["currency"]
    lines = invoice["lines"]
    subtotal = sum(line["amount"] for line in lines if line["kind"] not in (DISCOUNT, ROUNDING))
    totals = [("Subtotal", money(subtotal, cur))]
    for kind, label in ((DISCOUNT, "Discounts"), (ROUNDING, "Rounding")):
        if any(line["kind"] == kind for line in lines):
            totals.append((label, money(sum(line["amount"] for line in lines
                                            if line["kind"] == kind), cur)))
    totals += [(label, money(invoice[key], cur)) for label, key in (
        ("Total", "total"), ("Credit applied", "credit_applied"), ("Amount paid", "amount_paid"),
        ("Credited", "credited"), ("Refunded", "refunded"), ("Amount due", "amount_due"))]
    notes = [f"Credited by credit note {note['number']}" for note in invoice["credit_notes"]]
    if invoice["credit_added"]:
        notes.append(f"{money(invoice['credit_added'], cur)} was added to the credit balance.")
    return Document(
        title="Invoice", number=invoice["number"], stamp=STAMPS.get(invoice["status"]),
        seller=tuple(seller), buyer=tuple(buyer),
        facts=(("Invoice number", invoice["number"]), ("Date of issue", day(invoice["issued_at"])),
               ("Service period", span(invoice["period_start"], invoice["period_end"])),
               ("Status", STATUS_LABELS[invoice["status"]]), ("Payment", _due(invoice)),
               ("Subscription", invoice["subscription_id"])),
        columns=INVOICE_COLUMNS,
        lines=tuple((line["description"], span(line["period_start"], line["period_end"]),
                     money(line["amount"], cur),
                     money(line["credited"], cur) if line["credited"] else "")
                    for line in lines),
        totals=tuple(totals), notes=tuple(notes),
    )


def credit_note_document(note: dict[str, Any], invoice: dict[str, Any], *,
                         seller: Sequence[str], buyer: Sequence[str]) -> Document:
    """A credit note (with the invoice it credits) as its document shows it."""
    cur = note["currency"]
    credited = invoice["lines"]
    facts = [("Credit note number", note["number"]), ("Date of issue", day(note["effective_at"])),
             ("Credits invoice", note["invoice_number"]),
             ("Settlement", SETTLEMENT_LABELS[note["settlement"]])]
    if note["reason"]:
        facts.append(("Reason", note["reason"]))
    return Document(
        title="Credit note", number=note["number"], stamp=None, seller=tuple(seller),
        buyer=tuple(buyer), facts=tuple(facts), columns=CREDIT_NOTE_COLUMNS,
        lines=tuple((line["description"], span(credited[line["index"]]["period_start"],
                                               credited[line["index"]]["period_end"]),
                     money(line["amount"], cur))
                    for line in note["lines"]),
        totals=(("Total credited", money(note["total"], cur)),), notes=(),
    )


def render_html(document: Document) -> str:
    return templates().get_template("document.html").render(doc=document, text_columns=TEXT_COLUMNS)
