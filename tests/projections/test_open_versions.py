"""A model's versioned totals keep their open versions from page to page
(``projections.open_versions``), trusted only for a page that follows the last one kept in
the same views' database: a moved checkpoint, another database or a page that failed half
way drops them, and the totals are read from the table again."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import pytest

from subledger.config import Settings
from subledger.projections.bitemporal import FOREVER
from subledger.projections.day_summary import Change, DaySummary
from subledger.projections.open_versions import OpenVersions
from subledger.projections.store import ViewStore

TOTALS = DaySummary("test_open_versions_days")
MODEL = "test_open_versions"


@pytest.fixture
def views(settings: Settings) -> Iterator[ViewStore]:
    store = ViewStore(settings)
    with store.transaction() as tx:
        TOTALS.create(tx)
        store.set_checkpoint(tx, MODEL, 0, 1)
    yield store
    store.close()


def _page(store: ViewStore, kept: OpenVersions, at: str, amount: int, to: int) -> None:
    """One page of the model: a change to one day's total, and the checkpoint moved to ``to``."""
    with store.transaction() as tx:
        kept.begin_page(tx, MODEL)
        TOTALS.record(tx, [Change(at, "EUR", "2026-03-01", "new", Fraction(amount), 1)], kept)
        kept.end_page(tx, to)
        store.set_checkpoint(tx, MODEL, to, 1)


def _open_total(store: ViewStore) -> tuple[str, int]:
    with store.transaction() as tx:
        [(total, count)] = tx.execute(f"SELECT total, count FROM {TOTALS.table} WHERE recorded_to = ?",
                                      (FOREVER,)).fetchall()
    return total, int(count)


def _tamper(store: ViewStore) -> None:
    """What another runner writing the same totals would leave (the kept copy does not know)."""
    with store.transaction() as tx:
        tx.execute(f"UPDATE {TOTALS.table} SET total = '500/1', count = 9 WHERE recorded_to = ?", (FOREVER,))


def test_a_page_that_follows_the_last_one_uses_the_versions_kept(views: ViewStore) -> None:
    kept = OpenVersions()
    _page(views, kept, "2026-03-01T00:00:00.000000Z", 10, to=1)
    _tamper(views)

    _page(views, kept, "2026-03-02T00:00:00.000000Z", 5, to=2)

    assert _open_total(views) == ("15/1", 2)  # from the kept 10, not the table's 500


def test_a_checkpoint_another_runner_moved_drops_the_versions_kept(views: ViewStore) -> None:
    kept = OpenVersions()
    _page(views, kept, "2026-03-01T00:00:00.000000Z", 10, to=1)
    _tamper(views)
    with views.transaction() as tx:
        views.set_checkpoint(tx, MODEL, 7, 1)

    _page(views, kept, "2026-03-02T00:00:00.000000Z", 5, to=8)

    assert _open_total(views) == ("505/1", 10)


def test_a_page_that_failed_half_way_drops_the_versions_kept(views: ViewStore) -> None:
    kept = OpenVersions()
    _page(views, kept, "2026-03-01T00:00:00.000000Z", 10, to=1)
    with pytest.raises(RuntimeError), views.transaction() as tx:
        kept.begin_page(tx, MODEL)
        TOTALS.record(tx, [Change("2026-03-02T00:00:00.000000Z", "EUR", "2026-03-01", "new", Fraction(1), 1)], kept)
        raise RuntimeError("the page failed before its checkpoint moved")

    _page(views, kept, "2026-03-03T00:00:00.000000Z", 5, to=2)

    assert _open_total(views) == ("15/1", 2)


def test_another_views_database_drops_the_versions_kept(views: ViewStore, settings: Settings) -> None:
    kept = OpenVersions()
    _page(views, kept, "2026-03-01T00:00:00.000000Z", 10, to=1)
    _tamper(views)
    other = ViewStore(settings)  # the same tables through another store: a scratch copy's place
    try:
        _page(other, kept, "2026-03-02T00:00:00.000000Z", 5, to=2)
    finally:
        other.close()

    assert _open_total(views) == ("505/1", 10)


def _stray_open_row(store: ViewStore) -> None:
    with store.transaction() as tx:
        tx.execute(f"INSERT INTO {TOTALS.table} (currency, day, kind, total, count, recorded_from,"
                   " recorded_to) VALUES ('EUR', '2026-03-01', 'new', '500/1', 9, ?, ?)",
                   ("2026-02-01T00:00:00.000000Z", FOREVER))


def test_versions_kept_since_position_0_read_nothing_from_the_table(views: ViewStore) -> None:
    _stray_open_row(views)  # what an empty table at position 0 never holds: it is not read

    _page(views, OpenVersions(), "2026-03-01T00:00:00.000000Z", 10, to=1)

    with views.transaction() as tx:
        rows = tx.execute(f"SELECT total FROM {TOTALS.table} WHERE recorded_to = ? ORDER BY total",
                          (FOREVER,)).fetchall()
    assert rows == [("10/1",), ("500/1",)]


def test_versions_kept_from_a_later_position_read_the_keys_they_do_not_hold(views: ViewStore) -> None:
    _stray_open_row(views)
    with views.transaction() as tx:
        views.set_checkpoint(tx, MODEL, 5, 1)

    _page(views, OpenVersions(), "2026-03-01T00:00:00.000000Z", 10, to=6)

    assert _open_total(views) == ("510/1", 10)
