"""The subscriber lookup through the ledger (the Python API): written with the subscriber's
events, and filled from the log on a store that predates it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from support.ledger import add_subscriber, store_v1_details_change

from subledger.commands.ledger import Ledger
from subledger.config import PostgresConfig, Settings
from subledger.domain.errors import InvalidInput


def _drop_lookup(settings: Settings, ledger: Ledger) -> None:
    """The store as a ledger before the lookup existed left it: the same log, no table."""
    table = ledger.store.recorder.lookup.table
    db = settings.database
    if isinstance(db, PostgresConfig):
        with psycopg.connect(db.conninfo(), autocommit=True) as conn:
            conn.execute(f"DROP TABLE {table}")
        return
    import sqlite3

    with sqlite3.connect(db.path) as conn:
        conn.execute(f"DROP TABLE {table}")


def _emails(ledger: Ledger, email: str) -> list[str]:
    return [s.email for s in ledger.subscribers.find(email=email)[0]]


def test_a_store_that_predates_the_lookup_gets_it_filled_from_the_log(
    settings: Settings, ledger_on: Callable[..., Ledger],
) -> None:
    old = ledger_on()
    ada = add_subscriber(old, "Ada@example.com", external_ref="crm-1")
    bo = add_subscriber(old, "bo@example.com")
    old.subscribers.change_details(bo.id, {"email": "Bo@Example.org", "external_ref": "crm-2"})
    old.subscribers.change_details(ada.id, {"external_ref": None})
    _drop_lookup(settings, old)

    upgraded = ledger_on()

    assert _emails(upgraded, "ada@EXAMPLE.com") == ["Ada@example.com"]
    assert _emails(upgraded, "bo@example.org") == ["Bo@Example.org"]
    assert _emails(upgraded, "bo@example.com") == []
    assert [s.id for s in upgraded.subscribers.find(external_ref="crm-2")[0]] == [bo.id]
    assert upgraded.subscribers.find(external_ref="crm-1") == ([], None)
    later = add_subscriber(upgraded, "ada@example.com")
    assert upgraded.subscribers.ids_with_email("ADA@example.com") == [ada.id, later.id]


def test_filling_the_lookup_reads_events_stored_in_an_older_version(
    settings: Settings, ledger_on: Callable[..., Ledger],
) -> None:
    old = ledger_on()
    ada = store_v1_details_change(old)  # external_ref crm-1, then removed by a version-1 event
    _drop_lookup(settings, old)

    upgraded = ledger_on()

    assert upgraded.subscribers.find(external_ref="crm-1") == ([], None)
    assert upgraded.subscribers.ids_with_email("ada@example.com") == [ada]


def test_a_ledger_finds_a_subscriber_another_ledger_just_registered(
    ledger: Ledger, other_ledger: Ledger,
) -> None:
    ada = add_subscriber(other_ledger, "ada@example.com", external_ref="crm-1")

    assert [s.id for s in ledger.subscribers.find(external_ref="crm-1")[0]] == [ada.id]


@pytest.mark.parametrize("lookup", [{"email": "no-at-sign"}, {"external_ref": "line\nbreak"}])
def test_a_malformed_lookup_is_refused(ledger: Ledger, lookup: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        ledger.subscribers.find(**lookup)
