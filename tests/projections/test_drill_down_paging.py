"""The drill-downs behind the reports page through everything they list, once each."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from subledger.commands.demo import generate

DRILL_DOWNS = ("mrr/movements", "revenue/lines", "revenue/recognition")
WINDOW = {"from": "2025-01-01", "to": "2027-12-31"}


def _pages(client: Any, report: str, limit: int) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    while True:
        params = {**WINDOW, "limit": limit, **({"cursor": cursor} if cursor else {})}
        body = client.get(f"/reports/{report}", params=params).json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


@pytest.mark.parametrize("report", DRILL_DOWNS)
def test_paging_a_drill_down_lists_every_item_once_in_order(report: str, ledger, projector, client) -> None:  # type: ignore[no-untyped-def]
    generate(ledger, subscribers=15, months=4, seed=3, end=datetime(2026, 6, 1, tzinfo=UTC))
    projector.run_once()
    whole = client.get(f"/reports/{report}", params={**WINDOW, "limit": 1000}).json()
    assert whole["next_cursor"] is None and len(whole["items"]) > 7, len(whole["items"])
    pages = _pages(client, report, limit=3)
    assert all(len(page) == 3 for page in pages[:-1]) and 0 <= len(pages[-1]) <= 3
    assert [item for page in pages for item in page] == whole["items"]
