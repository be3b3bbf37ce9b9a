"""``ViewCursor.insert``: rows added as given, the same on both stores (copied in on
PostgreSQL), all of them or none."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from subledger.config import Settings
from subledger.projections.store import ViewStore

COLUMNS = ("key", "note", "amount", "digest")


@pytest.fixture
def store(settings: Settings) -> Iterator[ViewStore]:
    views = ViewStore(settings)
    with views.transaction() as tx:
        tx.execute("DROP TABLE IF EXISTS view_insert_probe")
        digest = "BYTEA" if views.postgres else "BLOB"
        tx.execute(f"CREATE TABLE view_insert_probe (key TEXT PRIMARY KEY, note TEXT,"
                   f" amount BIGINT NOT NULL, digest {digest})")
    yield views
    views.close()


def _read(store: ViewStore) -> list[tuple[object, ...]]:
    with store.transaction() as tx:
        rows = tx.execute("SELECT key, note, amount, digest FROM view_insert_probe ORDER BY key").fetchall()
    return [(key, note, amount, None if digest is None else bytes(digest))
            for key, note, amount, digest in rows]


# Text that COPY's text format must escape, NULLs, integers beyond 32 bits, raw bytes.
ROWS = [(f"k{i:04}", None if i % 5 == 0 else f"tab\there, line\nbreak \\ {i} é", (i - 500) * 2**40,
         None if i % 7 == 0 else bytes([i % 256, 0, 92, 9, 10]))
        for i in range(1000)]


def test_many_rows_read_back_exactly_as_given(store: ViewStore) -> None:
    with store.transaction() as tx:
        tx.insert("view_insert_probe", COLUMNS, ROWS)
    assert _read(store) == ROWS


def test_one_row_reads_back_exactly_as_given(store: ViewStore) -> None:
    with store.transaction() as tx:
        tx.insert("view_insert_probe", COLUMNS, ROWS[1:2])
    assert _read(store) == ROWS[1:2]


def test_no_rows_run_no_statement(store: ViewStore) -> None:
    with store.transaction() as tx:
        tx.insert("no_such_table", COLUMNS, [])


def test_a_duplicate_key_adds_none_of_the_rows(store: ViewStore) -> None:
    with store.transaction() as tx:
        tx.insert("view_insert_probe", COLUMNS, ROWS[:3])
    with pytest.raises(Exception, match="(?i)unique|duplicate"), store.transaction() as tx:
        tx.insert("view_insert_probe", COLUMNS, [*ROWS[3:10], ROWS[0]])
    assert _read(store) == ROWS[:3]
