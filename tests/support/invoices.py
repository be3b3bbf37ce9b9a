"""A book of invoices in every status, written through the ledger's Python API (the
corrections are the commands ``POST /invoices/{id}/...`` runs).

Nothing here computes an expected amount: the tests write their amounts by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from fakes.gateways import DownGateway

from subledger.bootstrap import ledger_env
from subledger.commands.correction_writes import IssueCreditNote, VoidInvoice, WriteOffInvoice
from subledger.commands.ledger import Ledger
from subledger.config import Settings

from .factories import utc
from .ledger import CARD, FakeClock, add_coupon, add_plan, add_subscriber

BOOK_CLOCK = utc(2026, 6, 1, 12)
"""The server clock while the book is written: every document is recorded in 2026."""

SELLER = ("Acme Subscriptions Ltd", "1 Main Street", "London EC1A 1AA")
"""The seller an API over the book is configured with (``SUBLEDGER_SELLER``)."""

def void(ledger: Ledger, subscription_id: UUID, invoice_id: str, at: datetime) -> None:
    ledger.execute(VoidInvoice(invoice_id, reason="issued by mistake", effective_at=at))


def write_off(ledger: Ledger, subscription_id: UUID, invoice_id: str, at: datetime) -> None:
    ledger.execute(WriteOffInvoice(invoice_id, effective_at=at))


def credit_note(ledger: Ledger, subscription_id: UUID, invoice_id: str, lines: list[tuple[int, int]],
                settlement: str, at: datetime, reason: str | None = None) -> str:
    """A credit note of (line index, amount) lines; its id."""
    answer = ledger.execute(IssueCreditNote(invoice_id, settlement, tuple(lines), reason, at))
    return answer.body["credit_note_id"]  # type: ignore[no-any-return]


def only_invoice(ledger: Ledger, subscription_id: UUID) -> str:
    (invoice_id,) = ledger.subscriptions.get(subscription_id).invoices
    return invoice_id  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Book:
    """Invoice ids of :func:`invoice_book`, by what became of them (USD unless named)."""

    paid: str
    """Ada, basic with 20 % off: 1000 and -200, paid 800."""
    open: str
    """Bo, basic, decided while the gateway was down: 1000 due, never attempted."""
    past_due: str
    """Cy, declined card: 1000 billed, 400 credited off what is due, 600 due."""
    void: str
    """Di, declined, then voided."""
    uncollectible: str
    """Ed, declined, then written off."""
    credited: str
    """Flo, basic x 3 = 3000 paid; 500 credited as a refund, 200 refunded, 300 credited to
    the balance."""
    proration: str
    """Ada's change to 2 seats on March 15: a proration invoice, paid."""
    euro: str
    """Gus, euro: 1500 EUR paid, issued in April."""
    subscribers: dict[str, UUID]
    """Subscriber ids by first name."""
    credit_notes: tuple[str, ...]
    """In the order issued: Cy's, Flo's refund, Flo's balance."""


def invoice_book(ledger: Ledger, settings: Settings) -> Book:
    """The book, on ``ledger`` (whose clock is ``BOOK_CLOCK``): one invoice in each status,
    in the order the fields of :class:`Book` list them."""
    add_plan(ledger)
    add_plan(ledger, "euro", currency="EUR", amount=1500)
    add_coupon(ledger)
    people = {name: add_subscriber(ledger, f"{name.lower()}@example.com", token=token).id
              for name, token in (("Ada", CARD), ("Bo", CARD), ("Cy", "tok_chargeDeclined"),
                                  ("Di", "tok_chargeDeclined"), ("Ed", "tok_chargeDeclined"),
                                  ("Flo", CARD), ("Gus", CARD))}

    def start(name: str, at: datetime, **options: Any) -> UUID:
        return ledger.subscriptions.start(people[name], plan_id=options.pop("plan_id", "basic"),
                                          effective_at=at, **options).id  # type: ignore[no-any-return]

    ada = start("Ada", utc(2026, 3, 1), coupon="twenty")
    down = Ledger(ledger_env(settings), gateways={"sandbox": DownGateway()},
                  clock=FakeClock(BOOK_CLOCK))
    try:
        bo = down.subscriptions.start(people["Bo"], plan_id="basic", effective_at=utc(2026, 3, 2)).id
    finally:
        down.close()
    cy, di, ed = (start(name, utc(2026, 3, 3)) for name in ("Cy", "Di", "Ed"))
    cn_cy = credit_note(ledger, cy, only_invoice(ledger, cy), [(0, 400)], "amount_due", utc(2026, 3, 4))
    void(ledger, di, only_invoice(ledger, di), utc(2026, 3, 5))
    write_off(ledger, ed, only_invoice(ledger, ed), utc(2026, 3, 5))
    flo = start("Flo", utc(2026, 3, 6), quantity=3)
    flo_invoice = only_invoice(ledger, flo)
    cn_refund = credit_note(ledger, flo, flo_invoice, [(0, 500)], "refund", utc(2026, 3, 7),
                            reason="outage on March 6")
    charge_id = ledger.subscriptions.get(flo).invoices[flo_invoice]["charge_id"]
    ledger.payments.refund_charge(charge_id, amount=200, effective_at=utc(2026, 3, 8))
    cn_balance = credit_note(ledger, flo, flo_invoice, [(0, 300)], "credit_balance", utc(2026, 3, 9))
    ledger.subscriptions.change(ada, quantity=2, effective_at=utc(2026, 3, 15))
    gus = start("Gus", utc(2026, 4, 1), plan_id="euro")
    ada_invoices = list(ledger.subscriptions.get(ada).invoices)
    return Book(
        paid=ada_invoices[0], open=only_invoice(ledger, bo), past_due=only_invoice(ledger, cy),
        void=only_invoice(ledger, di), uncollectible=only_invoice(ledger, ed),
        credited=flo_invoice, proration=ada_invoices[1], euro=only_invoice(ledger, gus),
        subscribers=people, credit_notes=(cn_cy, cn_refund, cn_balance),
    )
