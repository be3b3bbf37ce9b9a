"""``ViewCursor.upsert``: new keys inserted, known keys replaced, the same on both stores and
whether the rows go in one ``INSERT`` each or copied in through a staging table (PostgreSQL,
from ``COPY_ROWS`` rows)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from subledger.config import Settings
from subledger.projections.store import COPY_ROWS, ViewStore

COLUMNS = ("key", "amount", "note")
MANY = COPY_ROWS + 7


@pytest.fixture
def store(settings: Settings) -> Iterator[ViewStore]:
    views = ViewStore(settings)
    with views.transaction() as tx:
        tx.execute("DROP TABLE IF EXISTS view_upsert_probe")
        tx.execute("CREATE TABLE view_upsert_probe (key TEXT PRIMARY KEY, amount BIGINT NOT NULL, note TEXT)")
    yield views
    views.close()


def _rows(store: ViewStore) -> dict[str, tuple[Any, ...]]:
    with store.transaction() as tx:
        return {row[0]: row for row in tx.execute("SELECT key, amount, note FROM view_upsert_probe").fetchall()}


@pytest.mark.parametrize("count", [3, MANY], ids=["few", "copied"])
def test_an_upsert_inserts_new_keys_and_replaces_the_rows_of_known_ones(store: ViewStore, count: int) -> None:
    first = [(f"k{i}", i, None) for i in range(0, count, 2)]
    then = [(f"k{i}", 10 * i, f"seen {i}") for i in range(count)]
    with store.transaction() as tx:
        tx.upsert("view_upsert_probe", COLUMNS, first)
    with store.transaction() as tx:
        tx.upsert("view_upsert_probe", COLUMNS, then)

    assert _rows(store) == {row[0]: row for row in then}


def test_two_copied_upserts_in_one_transaction_each_write_their_own_rows(store: ViewStore) -> None:
    with store.transaction() as tx:
        tx.upsert("view_upsert_probe", COLUMNS, [(f"a{i}", i, "a") for i in range(MANY)])
        tx.upsert("view_upsert_probe", COLUMNS, [(f"b{i}", i, "b") for i in range(MANY)])

    notes = [row[2] for row in _rows(store).values()]
    assert len(notes) == 2 * MANY and notes.count("a") == notes.count("b") == MANY


def test_a_refused_upsert_leaves_the_table_as_it_was_and_the_next_one_goes_through(store: ViewStore) -> None:
    kept = [(f"k{i}", i, "kept") for i in range(MANY)]
    with store.transaction() as tx:
        tx.upsert("view_upsert_probe", COLUMNS, kept)
    with pytest.raises(Exception, match="(?i)null"), store.transaction() as tx:
        tx.upsert("view_upsert_probe", COLUMNS, [(f"k{i}", None if i == MANY - 1 else -i, "lost") for i in range(MANY)])
    assert _rows(store) == {row[0]: row for row in kept}

    with store.transaction() as tx:
        tx.upsert("view_upsert_probe", COLUMNS, [(f"k{i}", -i, "new") for i in range(MANY)])
    assert {row[2] for row in _rows(store).values()} == {"new"}


def test_a_copied_upsert_follows_a_table_made_again_with_other_columns(store: ViewStore) -> None:
    with store.transaction() as tx:
        tx.upsert("view_upsert_probe", COLUMNS, [(f"k{i}", i, None) for i in range(MANY)])
        tx.execute("DROP TABLE view_upsert_probe")
        tx.execute("CREATE TABLE view_upsert_probe (key TEXT PRIMARY KEY, amount BIGINT NOT NULL,"
                   " note TEXT, currency TEXT NOT NULL)")
        tx.upsert("view_upsert_probe", (*COLUMNS, "currency"), [(f"k{i}", i, None, "EUR") for i in range(MANY)])
        currencies = tx.execute("SELECT DISTINCT currency FROM view_upsert_probe").fetchall()

    assert currencies == [("EUR",)]


@pytest.mark.parametrize("count", [3, MANY], ids=["few", "copied"])
def test_an_upsert_on_a_key_of_several_columns_replaces_the_rows_of_known_keys(store: ViewStore, count: int) -> None:
    with store.transaction() as tx:
        tx.execute("DROP TABLE IF EXISTS view_upsert_pairs")
        tx.execute("CREATE TABLE view_upsert_pairs (grp TEXT NOT NULL, part BIGINT NOT NULL,"
                   " value BIGINT NOT NULL, PRIMARY KEY (grp, part))")
        tx.upsert("view_upsert_pairs", ("grp", "part", "value"), [("a", i, 0) for i in range(count)], keys=2)
        tx.upsert("view_upsert_pairs", ("grp", "part", "value"),
                  [(grp, i, i) for grp in ("a", "b") for i in range(count)], keys=2)
        rows = sorted(tx.execute("SELECT grp, part, value FROM view_upsert_pairs").fetchall())

    assert rows == sorted((grp, i, i) for grp in ("a", "b") for i in range(count))
