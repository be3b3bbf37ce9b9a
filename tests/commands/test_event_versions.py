"""Versioned events: a version-1 event stored by the old code is read as the current version
everywhere (aggregates, the log, the HTTP API), and is never rewritten.

The example is ``SubscriberDetailsChanged`` (version 2, see its docstring and docs/events.md,
"Versioning events"). ``V1_STORED_STATE`` is the exact state the version-1 code stored for
"name -> Ada L, external_ref removed" (captured from it before the change; kept in
``support.ledger``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import jsonschema
import pytest
from fastapi.testclient import TestClient
from support.ledger import REGISTERED_AT, V1_STORED_STATE, store_v1_details_change

from subledger.bootstrap import build_api, build_ledger
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.contract.schemas import event_schema
from subledger.domain.errors import EmptyChange


@pytest.fixture
def old_ledger(settings: Settings) -> Iterator[Ledger]:
    ledger = build_ledger(settings, clock=lambda: REGISTERED_AT)
    try:
        yield ledger
    finally:
        ledger.close()


def test_the_aggregate_is_rebuilt_from_a_version_1_event(old_ledger: Ledger) -> None:
    subscriber_id = store_v1_details_change(old_ledger)

    subscriber = old_ledger.subscribers.get(subscriber_id)

    assert (subscriber.email, subscriber.name, subscriber.external_ref) == ("ada@example.com", "Ada L", None)
    assert subscriber.version == 2
    assert subscriber.last_effective_at == datetime(2026, 2, 1, tzinfo=UTC)
    with pytest.raises(EmptyChange):
        old_ledger.subscribers.change_details(subscriber_id, {"name": "Ada L", "external_ref": None})


def test_the_log_answers_a_version_1_event_as_version_2(old_ledger: Ledger) -> None:
    subscriber_id = store_v1_details_change(old_ledger)

    (envelope,) = old_ledger.event_log.read(0, 10, ["SubscriberDetailsChanged"]).items

    assert envelope["schema_version"] == 2
    assert envelope["data"] == {"changes": {"external_ref": None, "name": "Ada L"}}
    assert envelope["subscriber_id"] == str(subscriber_id)
    assert (envelope["recorded_at"], envelope["effective_at"]) == (
        "2026-11-25T06:55:33.384878Z", "2026-02-01T00:00:00Z")
    jsonschema.validate(envelope, event_schema("SubscriberDetailsChanged"))


def test_the_http_api_serves_a_version_1_event_as_version_2(settings: Settings, old_ledger: Ledger) -> None:
    subscriber_id = store_v1_details_change(old_ledger)
    client = TestClient(build_api(settings, ledger=old_ledger))

    events = client.get("/events", params={"type": "SubscriberDetailsChanged"}).json()["items"]
    history = client.get(f"/subscribers/{subscriber_id}/history").json()["items"]
    subscriber = client.get(f"/subscribers/{subscriber_id}").json()

    assert [(e["schema_version"], e["data"]) for e in events] == [
        (2, {"changes": {"external_ref": None, "name": "Ada L"}})]
    assert [e["type"] for e in history] == ["SubscriberRegistered", "SubscriberDetailsChanged"]
    assert history[1] == events[0]
    assert (subscriber["name"], subscriber["external_ref"]) == ("Ada L", None)


def test_new_events_are_stored_as_version_2_and_old_ones_are_never_rewritten(old_ledger: Ledger) -> None:
    subscriber_id = store_v1_details_change(old_ledger)

    old_ledger.subscribers.change_details(subscriber_id, {"external_ref": "crm-2"})

    stored = old_ledger.recorder.select_events(subscriber_id)
    assert [e.originator_version for e in stored] == [1, 2, 3]
    assert stored[1].state == V1_STORED_STATE
    assert b'"class_version":2' in stored[2].state and b'"changed"' not in stored[2].state
    items = old_ledger.event_log.read(0, 10, ["SubscriberDetailsChanged"]).items
    assert [e["data"]["changes"] for e in items] == [
        {"external_ref": None, "name": "Ada L"}, {"external_ref": "crm-2"}]
    for envelope in items:
        jsonschema.validate(envelope, event_schema("SubscriberDetailsChanged"))
    assert old_ledger.subscribers.get(subscriber_id).external_ref == "crm-2"
