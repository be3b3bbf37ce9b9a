"""The corrections as writes (see :mod:`.writes`): run by :meth:`Ledger.execute` under
their idempotency key, from HTTP, the command line or Python alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from subledger.contract.correction_bodies import (
    ADJUSTMENT,
    RETRY,
    credit_note_body,
    invoice_state_body,
)
from subledger.domain.subscription import Subscription

from .writes import NOT_IDENTITY, Idem, Write, fields_of

if TYPE_CHECKING:
    from .ledger import Ledger


class _InvoiceWrite(Write):
    def answer(self, ledger: Ledger, result: tuple[Subscription, str]) -> Any:
        return invoice_state_body(*result)


@dataclass(frozen=True)
class VoidInvoice(_InvoiceWrite):
    invoice_id: str
    reason: str | None = None
    effective_at: datetime | None = None

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.corrections.void_invoice(**fields_of(self), idempotency=idempotency)


@dataclass(frozen=True)
class WriteOffInvoice(_InvoiceWrite):
    invoice_id: str
    reason: str | None = None
    effective_at: datetime | None = None

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.corrections.write_off(**fields_of(self), idempotency=idempotency)


@dataclass(frozen=True)
class IssueCreditNote(Write):
    creates: ClassVar[bool] = True
    invoice_id: str
    settlement: str
    lines: tuple[tuple[int, int], ...] | None = None
    """(index of the invoice's line, amount credited); None credits all that is left."""
    reason: str | None = None
    effective_at: datetime | None = None

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        lines = None if self.lines is None else [tuple(line) for line in self.lines]
        return ledger.corrections.issue_credit_note(
            self.invoice_id, settlement=self.settlement, lines=lines,  # type: ignore[arg-type]
            reason=self.reason, effective_at=self.effective_at, idempotency=idempotency)

    def answer(self, ledger: Ledger, result: tuple[Subscription, str]) -> Any:
        return credit_note_body(*result)


@dataclass(frozen=True)
class AdjustBalance(Write):
    creates: ClassVar[bool] = True
    subscriber_id: UUID
    amount: int
    reason: str
    subscription_id: UUID | None = None
    effective_at: datetime | None = None

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.corrections.adjust_balance(**fields_of(self), idempotency=idempotency)

    def answer(self, ledger: Ledger, result: tuple[Subscription, str]) -> Any:
        return ADJUSTMENT.of((*result, self.amount))


@dataclass(frozen=True)
class RetryCharge(Write):
    charge_id: str
    effective_at: datetime | None = None
    invoice_id: str | None = field(default=None, metadata=NOT_IDENTITY)
    """The invoice the charge was for, where the caller knows it (the portal): the
    subscription is then found by it, so a charge reversed after it succeeded, which is no
    failed attempt in the index, can be retried too. The charge names the invoice already,
    so it is not fingerprinted (a key stored before the field existed still matches)."""

    def handle(self, ledger: Ledger, idempotency: Idem) -> Any:
        return ledger.corrections.retry_charge(**fields_of(self), idempotency=idempotency)

    def answer(self, ledger: Ledger, result: Any) -> Any:
        return RETRY.of(result)
