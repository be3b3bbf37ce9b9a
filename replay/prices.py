"""Another price catalog, for what-if replays: a file of plan prices, and the log's
envelopes as that catalog would have priced them.

The file is JSON, one entry per plan id that changes (plans not named keep their prices)::

    {"basic": {"amount": 1200}, "pro": {"percent": "-12.5"}}

``amount``: the new price per billing period per seat, in minor units, for every price
version of the plan; ``percent``: each version's price changed by that much (a whole number
or a decimal written as text; more than -100), rounded half-even to minor units, or to tens
of them in a three-decimal currency, as the ledger rounds what it computes (its settlement
increment); an ``amount`` in such a currency must be a multiple of 10, as the ledger
requires of a price.

How envelopes are repriced (:class:`Repricer`), the model's assumptions:

- MRR: ``SubscriptionStarted`` and ``SubscriptionChanged`` carry the new price; everything
  else (quantities, coupons, statuses, every change of plan, pause and cancellation, and
  when each happened) is as recorded: the same subscribers make the same choices.
- Cash and revenue: each invoice, its lines (proration and discounts included) and what it
  leaves due are scaled by the ratio of the new price to the recorded one of the plan the
  subscription is on when the invoice is issued, each amount rounded half-even to minor
  units (to the currency's settlement increment; an amount not scaled, ratio 1, is as
  recorded); a void or a credit note by the ratio of its invoice; a charge by the ratio of its
  invoice, a refund or a lost dispute by that of its charge. A balance adjustment is as
  recorded (it is no price). An amount-off coupon therefore scales with the price (it does
  not in the ledger).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

from subledger.domain.errors import InvalidInput
from subledger.domain.money import MAX_AMOUNT, round_to_increment, settlement_increment

Envelope = dict[str, Any]


@dataclass(frozen=True)
class Price:
    """One plan's what-if price: a fixed ``amount`` or a ``percent`` change."""

    amount: int | None = None
    percent: Fraction | None = None

    def of(self, recorded: int, increment: int = 1) -> int:
        """The what-if price of a version recorded at ``recorded``; a percent is rounded
        half-even to a multiple of ``increment`` (the currency's settlement increment)."""
        if self.amount is not None:
            return self.amount
        assert self.percent is not None
        return round_to_increment(Fraction(recorded) * (100 + self.percent) / 100, increment)


def _price(plan_id: str, entry: Any) -> Price:
    if not isinstance(entry, Mapping) or len(entry) != 1 or not set(entry) <= {"amount", "percent"}:
        raise InvalidInput(f"price of {plan_id!r}: give one of {{\"amount\": N}} or {{\"percent\": P}}")
    if "amount" in entry:
        amount = entry["amount"]
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= MAX_AMOUNT:
            raise InvalidInput(f"price of {plan_id!r}: amount is whole minor units from 0 to {MAX_AMOUNT}")
        return Price(amount=amount)
    percent = entry["percent"]
    try:
        if isinstance(percent, bool) or not isinstance(percent, int | str):
            raise InvalidOperation
        written = Decimal(str(percent))
    except InvalidOperation:
        written = Decimal("NaN")
    if not written.is_finite():  # "NaN" and "Infinity" are decimals too, but no percent
        raise InvalidInput(f"price of {plan_id!r}: percent is a whole number or a decimal written as text")
    # Bounded before it becomes a Fraction: "1e999999999" would make an integer of a
    # billion digits.
    if not -100 < written <= 10_000:
        raise InvalidInput(f"price of {plan_id!r}: percent must be more than -100 and at most 10000")
    return Price(percent=Fraction(written))


def parse_prices(document: Any) -> dict[str, Price]:
    """The catalog a parsed JSON document describes, or :class:`InvalidInput`."""
    if not isinstance(document, Mapping) or not document:
        raise InvalidInput("a price file is a JSON object of plan ids, e.g. {\"basic\": {\"amount\": 1200}}")
    return {str(plan_id): _price(str(plan_id), entry) for plan_id, entry in document.items()}


def read_prices(path: str | Path) -> dict[str, Price]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInput(f"cannot read the price file {path}: {error.strerror}") from None
    try:
        return parse_prices(json.loads(text))
    except json.JSONDecodeError as error:
        raise InvalidInput(f"the price file {path} is not JSON: {error.msg} (line {error.lineno})") from None


TERMS = frozenset({"SubscriptionStarted", "SubscriptionChanged"})


@dataclass
class Repricer:
    """Envelopes as ``prices`` would have recorded them; fed in log order (it follows each
    subscription's plan to scale its cash)."""

    prices: Mapping[str, Price]
    ratios: dict[str, Fraction] = field(default_factory=dict)
    """subscription id, invoice id or charge id -> the ratio its amounts are scaled by."""

    def __call__(self, envelope: Envelope) -> Envelope:
        kind, data = envelope["type"], envelope["data"]
        if kind in TERMS:
            new, recorded = self._price(data), int(data["amount"])
            self.ratios[envelope["aggregate_id"]] = Fraction(new, recorded) if recorded else Fraction(1)
            return {**envelope, "data": {**data, "amount": new}}
        if kind == "InvoiceIssued":
            ratio = self.ratios.get(envelope["aggregate_id"], Fraction(1))
            self.ratios[data["invoice_id"]] = ratio
            step = settlement_increment(data["currency"])
            lines = _scaled_lines(data["lines"], ratio, step)
            scaled = {name: _scaled(data[name], ratio, step)
                      for name in ("amount_due", "credit_applied", "credit_added")}
            return {**envelope, "data": {**data, **scaled, "lines": lines,
                                         "total": sum(line["amount"] for line in lines)}}
        if kind in CORRECTIONS:
            return {**envelope, "data": self._corrected(kind, data)}
        if kind == "ChargeSucceeded":
            ratio = self.ratios.get(data.get("invoice_id") or "", Fraction(1))
            self.ratios[data["charge_id"]] = ratio
            return {**envelope, "data": {**data, "amount": _scaled(
                data["amount"], ratio, settlement_increment(data["currency"]))}}
        if kind in GIVEN_BACK:
            ratio = self.ratios.get(data["charge_id"], Fraction(1))
            return {**envelope, "data": {**data, "amount": _scaled(
                data["amount"], ratio, settlement_increment(data["currency"]))}}
        return envelope

    def _price(self, data: Mapping[str, Any]) -> int:
        """The what-if price of the terms ``data`` records, as the ledger would take it."""
        price, recorded = self.prices.get(data["plan_id"]), int(data["amount"])
        if price is None:
            return recorded
        step = settlement_increment(data["currency"])
        if price.amount is not None and price.amount % step:
            raise InvalidInput(
                f"price of {data['plan_id']!r}: amount must be a multiple of {step} minor units"
                f" in {data['currency']}, as the ledger requires of a price")
        return price.of(recorded, step)

    def _corrected(self, kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """A void or a credit note scaled as its invoice was: what it takes back of the
        invoice is what the invoice billed under the same prices."""
        ratio = self.ratios.get(data["invoice_id"], Fraction(1))
        step = settlement_increment(data["currency"])
        if kind == "InvoiceVoided":
            return {**data, "total": _scaled(data["total"], ratio, step),
                    "credit_restored": _scaled(data["credit_restored"], ratio, step)}
        lines = _scaled_lines(data["lines"], ratio, step)
        return {**data, "lines": lines, "total": sum(line["amount"] for line in lines)}


CORRECTIONS = frozenset({"InvoiceVoided", "CreditNoteIssued"})
"""Corrections of an invoice, scaled by its ratio."""
GIVEN_BACK = frozenset({"RefundIssued", "DisputeClosed", "RefundReversed", "ChargeReversed"})
"""Money given back of a charge (a lost dispute moves cash as a refund), a refund's
reversal (scaled as its refund was, so it takes back exactly that) and a charge's reversal
(what was left of it, denied at the provider), scaled by its ratio."""


def _scaled_lines(lines: list[dict[str, Any]], ratio: Fraction, step: int) -> list[dict[str, Any]]:
    return [{**line, "amount": _scaled(line["amount"], ratio, step)} for line in lines]


def _scaled(amount: Any, ratio: Fraction, step: int) -> int:
    """``amount`` scaled by ``ratio``, rounded half-even to a multiple of ``step`` (the
    currency's settlement increment), as the ledger rounds what it computes; as recorded
    when not scaled (an amount recorded before the three-decimal rule stays as it was)."""
    return int(amount) if ratio == 1 else round_to_increment(int(amount) * ratio, step)
