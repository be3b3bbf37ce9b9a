"""The published JSON Schemas: generated from the code, committed, served, and every real
message validates against its type's schema."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from uuid import UUID

import jsonschema
import pytest
from fastapi.testclient import TestClient

from subledger.bootstrap import build_api
from subledger.commands.demo import generate
from subledger.contract.envelope import EVENT_TYPES
from subledger.contract.schemas import all_schemas, event_schema
from subledger.domain.subscription_events import TrialEnded
from subledger.schemas import write

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"

# The shape of the ``__doc__`` Python's dataclasses give a class without a docstring: its
# constructor's signature, ``TrialEnded(self, originator_id: 'UUID', ...)``.
SIGNATURE = re.compile(r"\w+\(.*\b\w+: '")


def test_the_committed_schemas_are_the_ones_the_code_generates() -> None:
    committed = {p.stem: json.loads(p.read_text()) for p in SCHEMAS.glob("*.json")}
    assert committed == all_schemas(), "run `make schemas` and commit schemas/"


def test_make_schemas_writes_the_committed_files_byte_for_byte(tmp_path: Path) -> None:
    written = write(tmp_path / "out")
    assert sorted(p.name for p in written) == sorted(p.name for p in SCHEMAS.glob("*.json"))
    for path in written:
        assert path.read_bytes() == (SCHEMAS / path.name).read_bytes(), path.name


def test_every_message_of_a_demo_log_validates_against_its_schema(ledger) -> None:  # type: ignore[no-untyped-def]
    generate(ledger, subscribers=25, months=4, seed=17)
    started = ledger.event_log.read(0, 10_000, ["SubscriptionStarted"]).items
    subscription = ledger.subscriptions.get(UUID(started[0]["aggregate_id"]))
    for charge_id in [c for c in subscription.charges if subscription.refundable(c) > 0][:1]:
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
                                                             "SubscriberDetails",
                                                             "SubscriptionState", "TreeHead"])
    response = client.get("/schemas/InvoiceIssued")
    assert response.status_code == 200
    assert response.json() == event_schema("InvoiceIssued")
    assert client.get("/schemas/NoSuchEvent").status_code == 404


@pytest.mark.parametrize("source", ["committed", "generated"])
def test_no_schema_describes_its_message_with_a_constructor_signature(source: str) -> None:
    schemas = ({p.stem: json.loads(p.read_text()) for p in SCHEMAS.glob("*.json")}
               if source == "committed" else all_schemas())
    for name, schema in schemas.items():
        description = schema["description"]
        assert description and f"{name}(" not in description, (name, description)
        assert not SIGNATURE.search(description), (name, description)


def test_every_event_class_says_what_its_fact_means() -> None:
    for name, cls in EVENT_TYPES.items():
        doc = " ".join((cls.__doc__ or "").split())
        assert doc and not doc.startswith(f"{cls.__name__}("), f"{name} needs a docstring"


def test_an_event_class_without_a_docstring_is_described_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    class Undocumented(TrialEnded):
        pass

    assert (Undocumented.__doc__ or "").startswith("Undocumented(")  # what dataclasses make
    monkeypatch.setitem(EVENT_TYPES, "TrialEnded", Undocumented)
    assert event_schema("TrialEnded")["description"] == "The TrialEnded event."


EVENTS_DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"
CATALOGUE_ROW = re.compile(r"^\| `(?P<type>\w+)` \| (?P<aggregate>\w+) \| (?P<version>\d+) \| (?P<data>.*) \|$")


def catalogue() -> dict[str, dict[str, str]]:
    """The rows of docs/events.md's catalogue, by event type."""
    rows = [m.groupdict() for line in EVENTS_DOC.read_text(encoding="utf-8").splitlines()
            if (m := CATALOGUE_ROW.match(line))]
    assert len(rows) == len({row["type"] for row in rows}), "an event type listed twice"
    return {row["type"]: row for row in rows}


def committed_event_schemas() -> dict[str, dict[str, Any]]:
    """The committed schemas of event types (the other Kafka messages have no envelope)."""
    schemas = {p.stem: json.loads(p.read_text()) for p in SCHEMAS.glob("*.json")}
    return {name: schema for name, schema in schemas.items() if "data" in schema["properties"]}


def test_docs_events_md_lists_every_event_type_with_its_version_and_fields() -> None:
    rows = catalogue()
    schemas = committed_event_schemas()
    assert set(schemas) == set(EVENT_TYPES)
    assert sorted(set(schemas) - set(rows)) == [], "add the type's row to docs/events.md's catalogue"
    assert sorted(set(rows) - set(schemas)) == [], "docs/events.md lists a type the log does not have"
    for name, schema in schemas.items():
        properties = schema["properties"]
        assert int(rows[name]["version"]) == properties["schema_version"]["const"], name
        fields = properties["data"]["properties"]
        unnamed = [field for field in fields if f"`{field}`" not in rows[name]["data"]]
        assert unnamed == [], f"docs/events.md: {name} does not name {unnamed}"
        # The envelope's own fields are not the event's data (`effective_at` is named as a
        # time: "from `effective_at` on").
        named = set(re.findall(r"`(\w+)`", rows[name]["data"]))
        envelope = (set(properties) - {"data", "effective_at"}) & named - set(fields)
        assert envelope == set(), f"docs/events.md: {name} lists envelope fields {envelope} as data"
