"""Processes that start together on a fresh PostgreSQL database (two servers, a server and a
projector) create the views' tables once between them, none failing on the other's."""

from __future__ import annotations

from support.concurrency import run_together

from subledger.bootstrap import build_ledger, build_projector, read_models
from subledger.config import Settings
from subledger.projections.store import ViewStore
from subledger.projections.webhook_endpoints import create_tables


def test_projectors_and_webhook_tables_created_at_once_on_a_fresh_database_all_start(
        pg_schema_url: str) -> None:
    settings = Settings.from_env({"SUBLEDGER_DATABASE_URL": pg_schema_url})
    ledger = build_ledger(settings)

    def start(n: int) -> list[str]:
        if n % 2:
            store = ViewStore(settings)
            create_tables(store)
            store.close()
            return []
        projector = build_projector(settings, ledger)
        models = sorted(projector.store.positions())
        projector.close()
        projector.store.close()
        return models

    try:
        started = run_together(6, start)
        every_model = sorted(model.name for model in read_models(ledger))
    finally:
        ledger.close()

    assert every_model and started[0] == started[2] == started[4] == every_model
