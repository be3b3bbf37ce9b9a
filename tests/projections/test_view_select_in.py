"""``ViewCursor.select_in``: the rows of many keys read back in statements of ``IN_KEYS``
keys each, the same on both stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from subledger.config import Settings
from subledger.projections.store import IN_KEYS, ViewStore

KEYS = 2 * IN_KEYS + 3


@pytest.fixture
def store(settings: Settings) -> Iterator[ViewStore]:
    views = ViewStore(settings)
    with views.transaction() as tx:
        tx.execute("DROP TABLE IF EXISTS view_select_in_probe")
        tx.execute("CREATE TABLE view_select_in_probe (key TEXT PRIMARY KEY, shelf TEXT NOT NULL,"
                   " amount BIGINT NOT NULL)")
        tx.executemany("INSERT INTO view_select_in_probe (key, shelf, amount) VALUES (?, ?, ?)",
                       [(f"k{i:05}", "a" if i % 3 else "b", i) for i in range(KEYS + 50)])
    yield views
    views.close()


def test_every_key_asked_for_is_found_across_several_statements_and_no_other(store: ViewStore) -> None:
    asked = [f"k{i:05}" for i in range(0, 2 * KEYS, 2)]  # half of them exist
    with store.transaction() as tx:
        rows = tx.select_in("SELECT key, amount FROM view_select_in_probe WHERE key IN ({marks})", asked)
    assert sorted(rows) == [(f"k{i:05}", i) for i in range(0, KEYS + 50, 2)]


def test_the_parameters_before_the_keys_apply_to_every_statement(store: ViewStore) -> None:
    asked = [f"k{i:05}" for i in range(KEYS)]
    with store.transaction() as tx:
        rows = tx.select_in("SELECT key FROM view_select_in_probe WHERE shelf = ? AND key IN ({marks})",
                            asked, ("b",))
    assert sorted(key for (key,) in rows) == [f"k{i:05}" for i in range(0, KEYS, 3)]


def test_no_keys_run_no_statement(store: ViewStore) -> None:
    with store.transaction() as tx:
        assert tx.select_in("SELECT key FROM no_such_table WHERE key IN ({marks})", []) == []
