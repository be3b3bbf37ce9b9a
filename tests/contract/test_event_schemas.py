"""The published JSON Schemas: generated from the code, committed, served, and every real
message validates against its type's schema."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

import jsonschema
from fastapi.testclient import TestClient

from subledger.bootstrap import build_api
from subledger.commands.demo import generate
from subledger.contract.envelope import EVENT_TYPES
from subledger.contract.schemas import all_schemas, event_schema

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def test_the_committed_schemas_are_the_ones_the_code_generates() -> None:
    committed = {p.stem: json.loads(p.read_text()) for p in SCHEMAS.glob("*.json")}
    assert committed == all_schemas(), "run `make schemas` and commit schemas/"


def test_every_message_of_a_demo_log_validates_against_its_schema(ledger) -> None:  # type: ignore[no-untyped-def]
    generate(ledger, subscribers=25, months=4, seed=17)
    started = ledger.event_log.read(0, 10_000, ["SubscriptionStarted"]).items
    subscription = ledger.subscriptions.get(UUID(started[0]["aggregate_id"]))
    for charge_id in list(subscription.charges)[:1]:
        ledger.payments.refund_charge(charge_id, amount=1)
    seen = set()
    for envelope in ledger.event_log.read(0, 100_000).items:
        jsonschema.validate(envelope, event_schema(envelope["type"]))
        seen.add(envelope["type"])
    assert {"SubscriptionStarted", "InvoiceIssued", "ChargeSucceeded", "RefundIssued"} <= seen


def test_a_message_that_breaks_its_schema_is_refused() -> None:
    bad = {"position": 0, "event_id": "x", "type": "TrialEnded", "schema_version": 1,
           "subscriber_id": None, "aggregate_id": "x", "aggregate_version": 1,
           "recorded_at": "2026-01-01T00:00:00Z", "effective_at": "2026-01-01T00:00:00Z",
           "data": {"unexpected": 1}}
    errors = list(jsonschema.Draft202012Validator(event_schema("TrialEnded")).iter_errors(bad))
    assert errors


def test_the_api_serves_each_schema(settings, ledger) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(build_api(settings, ledger=ledger))
    assert client.get("/schemas").json()["items"] == sorted([*EVENT_TYPES, "MrrMovement",
                                                             "SubscriptionState"])
    response = client.get("/schemas/InvoiceIssued")
    assert response.status_code == 200
    assert response.json() == event_schema("InvoiceIssued")
    assert client.get("/schemas/NoSuchEvent").status_code == 404
