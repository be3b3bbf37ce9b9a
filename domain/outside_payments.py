"""Payments taken outside the billing clock, recorded on a subscription: a manual charge (a
payment with an invoice of its own) and an open invoice paid by other means (which ends its
dunning). A payment is recorded once: a gateway's reference already among the
subscription's charges is refused (the application checks the other subscriptions')."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID, uuid5

from .charges import ChargeIntent, ChargeOutcome, ChargeSucceeded, attempt_charge_id
from .errors import CurrencyMismatch, InvalidInput, InvoiceNotOpen, PaymentAlreadyRecorded
from .invoicing import MANUAL, Line
from .money import check_amount, check_settleable
from .text import check_reference

if TYPE_CHECKING:
    from .subscription import Subscription


class OutsidePayments:
    def record_manual_charge(
        self: Subscription, *, amount: int, currency: str, gateway: str, gateway_ref: str,
        effective_at: datetime, recorded_at: datetime,
    ) -> str:
        """A payment taken outside the billing clock: a ``manual`` invoice line, paid by a
        succeeded charge. Returns the charge id."""
        check_amount(amount)
        if amount == 0:
            raise InvalidInput("a manual charge needs an amount above 0")
        if currency != self.currency:
            raise CurrencyMismatch(f"the subscription is billed in {self.currency}, not {currency}")
        check_settleable(amount, currency)
        check_reference(gateway_ref, "gateway_ref")
        self._begin(effective_at, recorded_at)  # a canceled subscription takes no new payment
        self._check_not_recorded(gateway, gateway_ref)
        line = Line(MANUAL, amount, effective_at, effective_at, f"payment via {gateway} {gateway_ref}")
        invoice_id = self._issue_invoice(MANUAL, [line], effective_at, recorded_at)
        charge_id = str(uuid5(UUID(invoice_id), "manual"))
        self._record(
            ChargeSucceeded, effective_at, recorded_at,
            charge_id=charge_id, invoice_id=invoice_id, amount=amount, currency=currency,
            gateway=gateway, gateway_ref=gateway_ref, attempt=1,
        )
        return charge_id

    def pay_outside(
        self: Subscription, invoice_id: str, *, gateway: str, gateway_ref: str,
        effective_at: datetime, recorded_at: datetime,
    ) -> str:
        """An open invoice paid in full outside the billing clock: its next attempt,
        succeeded with the gateway's reference of the payment. Its dunning ends (no retry
        charges it again) and a subscription past due on it alone is active again. A
        canceled subscription's invoice is paid too: what its subscriber owed is settled,
        and the subscription stays canceled. Returns the charge id."""
        check_reference(gateway_ref, "gateway_ref")
        # Not _begin: a debt outlives its subscription, and collecting it is no new business.
        self.check_effective_at(effective_at)
        self.advance_to(effective_at, recorded_at=recorded_at)
        self._check_not_recorded(gateway, gateway_ref)
        invoice = self.open_invoices.get(invoice_id)
        if invoice is None:
            status = self.invoices[invoice_id]["status"] if invoice_id in self.invoices else "unknown"
            raise InvoiceNotOpen(f"invoice {invoice_id} is {status}: nothing is due on it")
        attempt = invoice["attempts"] + 1
        intent = ChargeIntent(invoice_id, attempt_charge_id(invoice_id, attempt), invoice["amount_due"],
                              invoice["currency"], attempt, effective_at, manual=True)
        self.record_charge(intent, ChargeOutcome(True, gateway, gateway_ref, None),
                           recorded_at=recorded_at)
        return intent.charge_id

    def _check_not_recorded(self: Subscription, gateway: str, gateway_ref: str) -> None:
        for charge_id, charge in self.charges.items():
            if (charge["gateway"], charge["gateway_ref"]) == (gateway, gateway_ref):
                raise PaymentAlreadyRecorded(
                    f"{gateway} payment {gateway_ref} is already charge {charge_id} of this subscription")
