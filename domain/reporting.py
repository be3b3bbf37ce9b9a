"""Closing a reporting period: its figures, as known at that moment, sealed as an event.

A closed period is never edited. Figures that change later (a backdated signup, a
correction) show up as restatements: the figures at close next to the figures known now.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from .base import LedgerAggregate
from .errors import InvalidInput, PeriodNotEnded
from .periods import add_months
from .time import UTC, isoformat

PERIOD_NAMESPACE = uuid5(NAMESPACE_URL, "https://subledger.dev/ns/reporting-period")
PERIOD = "^(19[7-9][0-9]|2[01][0-9]{2})-(0[1-9]|1[0-2])$"
"""A reporting period: a month written YYYY-MM, from 1970 to 2199."""
_MONTH = re.compile(PERIOD)


def parse_month(text: str) -> tuple[datetime, datetime]:
    """'2026-03' -> [2026-03-01, 2026-04-01) in UTC."""
    match = _MONTH.fullmatch(text)
    if match is None:
        raise InvalidInput("a period is a month written YYYY-MM, from 1970 to 2199")
    start = datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC)
    return start, add_months(start, 1)


def period_aggregate_id(period: str) -> UUID:
    return uuid5(PERIOD_NAMESPACE, period)


class ReportingPeriod(LedgerAggregate):
    """A month whose figures were sealed."""

    period: str
    closed_position: int
    figures: dict[str, Any]

    def __init__(self) -> None:
        """State comes from the events' ``apply`` alone."""

    class PeriodClosed(LedgerAggregate.Created):
        """A month's figures were sealed: per currency, its MRR, churn and revenue as the
        reports answered them at close, and what was owed at the month's last instant (the
        receivables' total, invoice count and amount per aging bucket), with the log
        ``position`` and the metric versions they were computed at. A closed period is
        never edited; later changes show as restatements."""

        period: str
        position: int
        metrics_versions: list[str]
        figures: dict[str, Any]

        def evolve(self, aggregate: Any) -> None:
            aggregate.period = self.period
            aggregate.closed_position = self.position
            aggregate.figures = self.figures

    @classmethod
    def close(
        cls, *, period: str, position: int, metrics_versions: list[str], figures: dict[str, Any],
        effective_at: datetime, recorded_at: datetime,
    ) -> ReportingPeriod:
        _start, end = parse_month(period)
        if end > effective_at:
            raise PeriodNotEnded(f"{period} ends at {isoformat(end)}; it cannot be closed before")
        return cls._create(
            cls.PeriodClosed, id=period_aggregate_id(period), timestamp=recorded_at,
            effective_at=effective_at, period=period, position=position,
            metrics_versions=metrics_versions, figures=figures,
        )
