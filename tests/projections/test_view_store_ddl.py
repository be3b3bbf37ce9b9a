"""Creating tables beside a writer, on PostgreSQL: a process starting (creating every model's
tables and indexes in one transaction) while another writes a page to several of them.
PostgreSQL locks a table against writes before it finds that an index asked for exists."""

from __future__ import annotations

import threading
import time

from subledger.config import Settings
from subledger.projections.store import ViewStore


def _create(store: ViewStore) -> None:
    with store.creating_tables() as tx:
        for table in ("ddl_a", "ddl_b"):
            tx.execute(f"CREATE TABLE IF NOT EXISTS {table} (x INTEGER)")
            tx.execute(f"CREATE INDEX IF NOT EXISTS {table}_x ON {table} (x)")


def test_a_process_starting_beside_a_writer_does_not_lock_tables_whose_indexes_exist(
    pg_schema_url: str,
) -> None:
    settings = Settings.from_env({"SUBLEDGER_DATABASE_URL": pg_schema_url})
    writer, starting = ViewStore(settings), ViewStore(settings)
    _create(writer)
    failures: list[BaseException] = []

    def start() -> None:
        try:
            _create(starting)  # an index on ddl_a, then one on ddl_b: the writer holds ddl_b
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)

    try:
        with writer.transaction() as tx:
            tx.execute("INSERT INTO ddl_b (x) VALUES (1)")
            other = threading.Thread(target=start)
            other.start()
            time.sleep(1.0)  # the other process is waiting on its way through the tables
            tx.execute("INSERT INTO ddl_a (x) VALUES (1)")
        other.join(timeout=30)
        assert not other.is_alive() and failures == []
        with writer.transaction() as tx:
            assert tx.execute("SELECT count(*) FROM ddl_a").fetchone() == (1,)
    finally:
        writer.close()
        starting.close()
