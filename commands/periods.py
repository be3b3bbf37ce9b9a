"""Reporting periods: sealing a month's figures as known at its close."""

from __future__ import annotations

from typing import Any

from subledger.domain.errors import PeriodAlreadyClosed
from subledger.domain.reporting import ReportingPeriod

from .idempotency import IdempotentRequest
from .store import LedgerStore


class Periods:
    def __init__(self, store: LedgerStore) -> None:
        self.store = store

    def close(
        self, period: str, *, position: int, metrics_versions: list[str],
        figures: dict[str, Any], idempotency: IdempotentRequest | None = None,
    ) -> ReportingPeriod:
        """Seal a month's figures as known now (computed by the caller from the reports)."""
        effective, now = self.store.times(None)
        closed = ReportingPeriod.close(period=period, position=position,
                                       metrics_versions=metrics_versions, figures=figures,
                                       effective_at=effective, recorded_at=now)
        already = PeriodAlreadyClosed(f"{period} is already closed")
        if self.store.exists(closed.id):
            raise already
        return self.store.commit(closed, result=closed, idempotency=idempotency,
                                 on_conflict=already)
