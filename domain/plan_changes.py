"""Plan changes: a subscription moved to another plan, price or quantity, ``now`` (prorated
while it is billed) or at the end of its period (scheduled, applied by the billing clock in
:mod:`.billing_schedule`)."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from .errors import (
    CurrencyMismatch,
    EmptyChange,
    InvalidInput,
    SubscriptionPaused,
)
from .invoicing import DISCOUNT, RECURRING, discounted, recurring_description
from .lifecycle import BILLED_STATUSES, PAUSED, TRIALING, check_quantity
from .money import round_to_increment, settlement_increment
from .plans import PlanTerms
from .proration import ChangeNow, Proration, prorate_change

if TYPE_CHECKING:
    from .subscription import Subscription


class PlanChanges:
    """The plan-change commands of :class:`~.subscription.Subscription`."""

    def change(
        self: Subscription, *, terms: PlanTerms | None, quantity: int | None, when: str,
        effective_at: datetime, recorded_at: datetime,
    ) -> Proration | None:
        """Change plan and/or quantity, ``now`` or at ``period_end``.

        A change ``now`` of a billed subscription is prorated; the proration is returned for
        the invoice. A change to the plan the subscription is on keeps its price version.
        """
        if when not in ("now", "period_end"):
            raise InvalidInput("when must be 'now' or 'period_end'")
        if terms is None and quantity is None:
            raise EmptyChange("a change needs a plan_id or a quantity")
        if quantity is not None:
            check_quantity(quantity)
        self._begin(effective_at, recorded_at)
        terms, new_quantity = self._checked_change(terms, quantity)
        if when == "period_end":
            at = self.trial_end if self.status == TRIALING else self.current_period_end
            self._record(self.ChangeScheduled, effective_at, recorded_at,
                         at=at, quantity=new_quantity, **terms_fields(terms))
            return None
        change = self._prorate(terms, new_quantity, effective_at)
        old_description = self.description()
        if change is None:
            anchor, number, period = self.billing_anchor, self.period_number, self.current_period
        else:
            anchor, number, period = change.billing_anchor, change.period_number, change.period
        self._record(
            self.SubscriptionChanged, effective_at, recorded_at, timing="now",
            quantity=new_quantity, **terms_fields(terms), **self._previous_fields(),
            billing_anchor=anchor, period_number=number,
            current_period_start=period.start, current_period_end=period.end,
        )
        if change is None:
            return None
        self._invoice_change(change, old_description, effective_at, recorded_at)
        return change.proration

    # -- helpers -------------------------------------------------------------------------

    def _checked_change(self: Subscription, terms: PlanTerms | None, quantity: int | None) -> tuple[PlanTerms, int]:
        """The terms and quantity a change leads to, if it is allowed."""
        if self.status == PAUSED:
            raise SubscriptionPaused("a paused subscription cannot change; resume it first")
        if terms is None or terms.plan_id == self.plan_id:
            terms = self.terms
        if terms.currency != self.currency:
            raise CurrencyMismatch(
                f"plan {terms.plan_id} is priced in {terms.currency}, the subscription in {self.currency}"
            )
        new_quantity = self.quantity if quantity is None else quantity
        if terms.plan_id == self.plan_id and new_quantity == self.quantity:
            raise EmptyChange("the subscription is already on this plan and quantity")
        return terms, new_quantity

    def _prorate(self: Subscription, terms: PlanTerms, quantity: int, at: datetime) -> ChangeNow | None:
        """The proration of a change ``now`` (None unless the subscription is billed).

        Prices are prorated as billed: after the coupon in force (a ``once`` coupon
        discounts one recurring invoice, never a proration)."""
        if self.status not in BILLED_STATUSES:
            return None
        increment = settlement_increment(self.currency)
        return prorate_change(
            old_total=self._price_as_billed(at),
            new_total=self._price_as_prorated(terms.amount, quantity, at),
            old_interval=self.interval, new_interval=terms.interval,
            billing_anchor=self.billing_anchor, period_number=self.period_number,
            period=self.current_period, at=at, increment=increment,
            billed_until=self.billed_until(),
        )

    def _price_as_prorated(self: Subscription, amount: int, quantity: int, at: datetime) -> int:
        """A whole period's price of ``quantity`` at ``amount`` as a proration at ``at``
        counts it: after the coupon in force (a ``once`` coupon discounts one recurring
        invoice, never a proration)."""
        return discounted(amount * quantity, self.discount_at(at, recurring=False),
                          settlement_increment(self.currency))

    def _price_as_billed(self: Subscription, at: datetime) -> int:
        """A whole period's price of the terms in force as the period's own invoice billed it,
        which a credit for unused time is a share of: it never gives back more than was
        billed. A ``once`` coupon (a free first month) or a ``repeating`` one that has run out
        since discounted that invoice as the terms' price as prorated now would not. A
        period billed in parts counts its parts together. When the period's latest recurring
        line is not of these terms (they changed inside it, and a proration charged them),
        the price as prorated."""
        described = recurring_description(self.description(), self.quantity)
        recurring = [line for lines in self._period_invoices() for line in lines
                     if line["kind"] == RECURRING]
        if not recurring or recurring[-1]["description"] != described:
            return self._price_as_prorated(self.amount, self.quantity, at)
        # The period may be billed in parts (up to a cancellation, then the rest): its
        # discount is what all the parts on these terms took off what they billed.
        parts = [lines for lines in self._period_invoices()
                 if any(line["kind"] == RECURRING and line["description"] == described
                        for line in lines)]
        billed = sum(line["amount"] for lines in parts for line in lines
                     if line["kind"] == RECURRING)
        if billed == 0:
            return 0
        off = -sum(line["amount"] for lines in parts for line in lines if line["kind"] == DISCOUNT)
        return round_to_increment(self.amount * self.quantity * (1 - Fraction(off, billed)),
                                  settlement_increment(self.currency))

    def _unused_time(self: Subscription, at: datetime) -> Proration:
        """The proration of the current terms to nothing at ``at``: the credit for the part
        of the period left unserved (a change ``now`` to a price of 0)."""
        return prorate_change(
            old_total=self._price_as_billed(at), new_total=0,
            old_interval=self.interval, new_interval=self.interval,
            billing_anchor=self.billing_anchor, period_number=self.period_number,
            period=self.current_period, at=at, increment=settlement_increment(self.currency),
            billed_until=self.billed_until(),
        ).proration

    def _previous_fields(self: Subscription) -> dict[str, Any]:
        return {
            "previous_plan_id": self.plan_id,
            "previous_plan_version": self.plan_version,
            "previous_amount": self.amount,
            "previous_interval": self.interval.value,
            "previous_quantity": self.quantity,
        }


def terms_fields(terms: PlanTerms) -> dict[str, Any]:
    """The terms as an event records them."""
    return {
        "plan_id": terms.plan_id,
        "plan_version": terms.version,
        "tier": terms.tier,
        "amount": terms.amount,
        "currency": terms.currency,
        "interval": terms.interval.value,
    }
