"""The catalog: plans (``plans``) and coupons (``coupons``).

The store has always written plans and coupons under topics in this module
(``subledger.domain.catalog:Plan.PlanCreated``, ...); the classes are defined with their
concern and fix those topics themselves, and this module still exports them, so every
stored topic also resolves by import.
"""

from __future__ import annotations

from .coupons import Coupon
from .plans import Plan

__all__ = ["Coupon", "Plan"]
