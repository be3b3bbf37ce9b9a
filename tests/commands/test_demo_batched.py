"""The demo's batched book is the book its commands make one by one: the same events in the
same order (ids seeded, clock fixed), the same lookups, and read models and reports built
from it that verify."""

from __future__ import annotations

import json
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

from subledger.bootstrap import build_ledger
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


def test_read_models_rebuilt_from_a_batched_demo_book_verify_and_so_does_its_audit_trail(
        database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        settings: Settings) -> None:
    from subledger.bootstrap import read_models
    from subledger.cli import main

    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", database_url)
    assert main(["demo", "--subscribers", "30", "--months", "6", "--seed", "3"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["subscribers"] == 30 and made["events"] == made["events_made"] > 300
    assert made["events_by_type"]["SubscriberRegistered"] == 30
    assert made["invoices"] == made["events_by_type"]["InvoiceIssued"] > 0
    assert sum(made["events_by_type"].values()) == made["events_made"]
    ledger = build_ledger(settings)
    try:
        names = [model.name for model in read_models(ledger)]
    finally:
        ledger.close()
    for name in names:
        assert main(["rebuild", name]) == 0, name
        assert main(["rebuild", name, "--verify"]) == 0, (name, capsys.readouterr())
    assert main(["audit", "verify"]) == 0, capsys.readouterr()
