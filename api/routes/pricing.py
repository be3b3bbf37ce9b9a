"""The public pricing page: the plans on sale by currency, tier and interval, with their
trials, and the coupons that can be applied now. Archived plans and coupons never show."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from fastapi.responses import HTMLResponse

from subledger.commands.ledger import Ledger
from subledger.domain.coupons import Coupon
from subledger.domain.periods import Interval
from subledger.domain.plans import Plan

from ..deps import LedgerDep
from ..formats import money
from ..json_bodies import api_router
from ..portal_pages import HTML, page

router = api_router(tags=["pages"])
INTERVALS = [Interval.MONTH, Interval.QUARTER, Interval.YEAR]


@dataclass
class Tier:
    name: str
    plans: dict[str, Plan] = field(default_factory=dict)
    """interval -> the plan on sale at that interval (the first one created, if several)."""

    def monthly(self) -> Fraction:
        """The lowest price per month, to order tiers from the cheapest."""
        return min(Fraction(p.amount, p.interval.months) for p in self.plans.values())


def _tiers(plans: list[Plan]) -> dict[str, list[Tier]]:
    """currency -> its tiers, cheapest first."""
    by_currency: dict[str, dict[str, Tier]] = {}
    for plan in plans:
        tier = by_currency.setdefault(plan.currency, {}).setdefault(plan.tier, Tier(plan.tier))
        tier.plans.setdefault(plan.interval.value, plan)
    return {currency: sorted(tiers.values(), key=lambda t: (t.monthly(), t.name))
            for currency, tiers in sorted(by_currency.items())}


def offer_text(coupon: Coupon) -> str:
    """``20% off for 3 months``, ``USD 5.00 off the first invoice``."""
    off = (f"{coupon.percent_off}% off" if coupon.percent_off is not None
           else f"{money(int(coupon.amount_off or 0), str(coupon.currency))} off")
    if coupon.duration == "once":
        return f"{off} the first invoice"
    if coupon.duration == "repeating":
        months = coupon.duration_in_months
        return f"{off} for {months} month{'s' if months != 1 else ''}"
    return f"{off} for as long as you stay"


def pricing(ledger: Ledger) -> dict[str, Any]:
    return {"currencies": _tiers(ledger.catalog.plans_on_sale()),
            "intervals": [i.value for i in INTERVALS],
            "offers": [(c.coupon_id, c.name, offer_text(c)) for c in ledger.catalog.coupons_on_sale()]}


@router.get("/pricing", response_class=HTMLResponse, responses=HTML)
def pricing_page(ledger: LedgerDep) -> HTMLResponse:
    """The public pricing page (HTML, no API key): the plans on sale by currency, tier and
    interval with their trials, and the offers (coupons) that can be applied now."""
    return page("pricing.html", **pricing(ledger))
