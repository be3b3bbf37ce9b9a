"""Golden answers: what a seeded book looks like from outside, pinned byte for byte.

A seeded demo book, plus one command of every kind the demo does not make, is written on
each store with a clock held by the test and aggregate ids drawn from a seeded generator.
Its whole log (``GET /events``), every stored event's topic (the class path the store
writes, and the aggregate's topic inside each created event), and every report's answer
(JSON and CSV) are compared with the files under ``tests/golden/data``. Both stores must
give the same files.

The files are the ledger's behaviour: they change only with a deliberate change of
behaviour, never with a change of structure. ``SUBLEDGER_WRITE_GOLDEN=1`` rewrites them.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.utils import get_topic, resolve_topic
from fastapi.testclient import TestClient

from subledger.bootstrap import build_api, build_ledger, build_projector
from subledger.commands.demo import generate
from subledger.config import Settings
from subledger.contract.schemas import MESSAGE_SCHEMAS

DATA = Path(__file__).resolve().parent / "data"
WRITE = os.environ.get("SUBLEDGER_WRITE_GOLDEN") == "1"

BOOK_AT = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
"""The server clock while the demo book is written."""
CLOSE_AT = datetime(2026, 7, 2, 9, 0, tzinfo=UTC)
"""The server clock when March is closed and the extra commands run."""
CORRECTION_AT = datetime(2026, 7, 3, 9, 0, tzinfo=UTC)
"""The server clock when a backdated subscription lands in the closed March."""

WINDOWS = [
    ("month", "2026-01-01", "2026-06-30"),
    ("day", "2026-03-01", "2026-03-31"),
]
REPORTS = ["mrr", "churn", "revenue"]
DRILL_DOWNS = ["mrr/movements", "revenue/lines", "revenue/recognition"]
OWED_AT = ["2026-02-16T00:00:00Z", "2026-03-16T12:00:00Z", "2026-03-31T23:59:59Z",
           "2026-04-23T00:00:00Z", "2026-05-24T00:00:00Z", "2026-06-30T23:59:59Z"]
"""The instants the receivables are read as of: while declined invoices were owed (one
later written off), and at two month ends when nothing was."""


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def seeded_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Aggregate ids (uuid4 in the library) from a seeded generator: the same book twice."""
    import eventsourcing.domain

    rng = random.Random(20261204)
    monkeypatch.setattr(eventsourcing.domain, "uuid4",
                        lambda: UUID(int=rng.getrandbits(128), version=4))


@pytest.fixture
def book(database_url: str, seeded_ids: None) -> Iterator[tuple[Any, Any, TestClient, _Clock]]:
    settings = Settings.from_env({"SUBLEDGER_DATABASE_URL": database_url})
    clock = _Clock(BOOK_AT)
    ledger = build_ledger(settings, clock=clock)
    projector = build_projector(settings, ledger)
    try:
        generate(ledger, subscribers=24, months=6, seed=11)
        client = TestClient(build_api(settings, ledger=ledger, projector=projector))
        yield ledger, projector, client, clock
    finally:
        projector.close()
        projector.store.close()
        ledger.close()


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _every_other_kind(client: TestClient, clock: _Clock, projector: Any) -> None:
    """Commands of the kinds the demo does not make (or not in a book this small), then
    March closed and corrected, then a plan and a coupon archived and a portal session
    opened and revoked."""
    clock.now = CLOSE_AT
    _ok(client.post("/plans/basic-m/prices", json={"amount": 2100}), 201)
    who = _ok(client.post("/subscribers", json={"email": "g@example.com", "name": "Grace",
                                                "external_ref": "golden-1"}), 201)
    sid = who["subscriber_id"]
    _ok(client.patch(f"/subscribers/{sid}", json={"name": "Grace Hopper"}))
    _ok(client.put(f"/subscribers/{sid}/payment-method",
                   json={"gateway": "sandbox", "token": "tok_visa"}))
    sub = _ok(client.post(f"/subscribers/{sid}/subscriptions",
                          json={"plan_id": "pro-m", "quantity": 2}), 201)
    sub_id = sub["subscription_id"]
    _ok(client.post(f"/subscriptions/{sub_id}/change",
                    json={"plan_id": "platinum-m", "when": "period_end"}))
    _ok(client.post(f"/subscriptions/{sub_id}/cancel", json={"when": "period_end",
                                                             "reason": "too dear"}))
    _ok(client.post(f"/subscriptions/{sub_id}/cancel/revoke"))
    _ok(client.post(f"/subscriptions/{sub_id}/coupon", json={"coupon": "LOYAL10"}))
    charge = _ok(client.post(f"/subscriptions/{sub_id}/charges", json={
        "amount": 1234, "currency": "USD", "gateway": "sandbox", "gateway_ref": "pay_1"}), 201)
    _ok(client.post(f"/charges/{charge['charge_id']}/refunds", json={"amount": 234}), 201)
    late_payer = _ok(client.post("/subscribers", json={"email": "r@example.com", "name": "Retry"}), 201)
    _ok(client.put(f"/subscribers/{late_payer['subscriber_id']}/payment-method",
                   json={"gateway": "sandbox", "token": "tok_fail_first"}))
    _ok(client.post(f"/subscribers/{late_payer['subscriber_id']}/subscriptions",
                    json={"plan_id": "platinum-m"}), 201)
    failed = [e for e in _log(client) if e["type"] == "ChargeFailed"][-1]
    _ok(client.post(f"/charges/{failed['data']['charge_id']}/retry", json={}))
    projector.run_once()
    _ok(client.post("/periods/2026-03/close"), 201)
    clock.now = CORRECTION_AT
    late = _ok(client.post("/subscribers", json={"email": "l@example.com", "name": "Late",
                                                 "effective_at": "2026-03-05T10:00:00Z"}), 201)
    _ok(client.put(f"/subscribers/{late['subscriber_id']}/payment-method",
                   json={"gateway": "sandbox", "token": "tok_visa",
                         "effective_at": "2026-03-05T10:00:00Z"}))
    _ok(client.post(f"/subscribers/{late['subscriber_id']}/subscriptions",
                    json={"plan_id": "platinum-m", "effective_at": "2026-03-10T00:00:00Z"}), 201)
    _ok(client.post("/billing/run", json={"until": "2026-07-03T09:00:00Z"}))
    projector.run_once()
    # Archives change no figure; made after the last projection, the reports' positions
    # stay where they were.
    _ok(client.post("/plans/basic-y/archive"))
    _ok(client.post("/coupons/FIRST5/archive"))
    _ok(client.put(f"/subscribers/{sid}/marketing", json={"consent": False}))
    # A portal session, opened and revoked (no figure moves with it).
    session = _ok(client.post(f"/subscribers/{sid}/portal-session"), 201)
    _ok(client.delete(f"/portal-sessions/{session['portal_session_id']}"))


def _all_pages(client: TestClient, path: str, params: dict[str, str]) -> dict[str, Any]:
    items: list[Any] = []
    cursor = None
    while True:
        page = _ok(client.get(path, params={**params, "limit": "1000",
                                            **({"cursor": cursor} if cursor else {})}))
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return {**{k: v for k, v in page.items() if k not in ("items", "next_cursor")},
                    "items": items}


def _log(client: TestClient) -> list[dict[str, Any]]:
    envelopes: list[dict[str, Any]] = []
    after = 0
    while True:
        page = _ok(client.get("/events", params={"after": str(after), "limit": "1000"}))
        envelopes += page["items"]
        if not page["next_cursor"]:
            return envelopes
        after = int(page["next_cursor"])


def _topics(ledger: Any, log: list[dict[str, Any]], published: set[str]) -> dict[str, Any]:
    """Each event type's stored topic, and each aggregate's (as created events store it).
    A published type the book never wrote (RefundFailed: no sandbox card refuses a refund)
    is found on its aggregate's class, and its topic is what the store would write."""
    rows = ledger.recorder.select_notifications(start=1, limit=len(log) + 10)
    types = {e["position"]: e["type"] for e in log}
    events: dict[str, str] = {}
    aggregates: set[str] = set()
    for row in rows:
        events.setdefault(types[row.id], row.topic)
        assert events[types[row.id]] == row.topic, f"{types[row.id]} stored under two topics"
        state = json.loads(row.state)
        if "originator_topic" in state:
            aggregates.add(state["originator_topic"])
    for type_name in sorted(published - events.keys()):
        found = [getattr(resolve_topic(a), type_name) for a in aggregates
                 if hasattr(resolve_topic(a), type_name)]
        assert len(found) == 1, f"{type_name} is on {len(found)} aggregates"
        events[type_name] = get_topic(found[0])
    return {"events": dict(sorted(events.items())), "aggregates": sorted(aggregates)}


def _check(name: str, actual: str) -> None:
    path = DATA / name
    if WRITE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
        return
    assert path.exists(), f"no golden file {name}"
    expected = path.read_bytes().decode("utf-8")  # bytes: CSV lines end in CRLF
    assert actual == expected, f"{name} differs from its golden file"


def _json(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def test_a_seeded_book_reads_the_same_as_its_golden_files(book: Any) -> None:
    ledger, projector, client, clock = book
    _every_other_kind(client, clock, projector)
    log = _log(client)
    _check("log.jsonl", "".join(json.dumps(e, sort_keys=True, ensure_ascii=False) + "\n"
                                for e in log))
    published = set(_ok(client.get("/schemas"))["items"]) - set(MESSAGE_SCHEMAS)
    _check("topics.json", _json(_topics(ledger, log, published)))
    for interval, start, end in WINDOWS:
        window = {"from": start, "to": end, "interval": interval}
        for report in REPORTS:
            if report == "churn" and interval == "day":
                continue
            name = f"reports/{report}-{interval}"
            _check(f"{name}.json", _json(_ok(client.get(f"/reports/{report}", params=window))))
            csv = client.get(f"/reports/{report}", params={**window, "format": "csv"})
            assert csv.status_code == 200, csv.text
            _check(f"{name}.csv", csv.text)
            known = {**window, "as_known_at": CLOSE_AT.isoformat()}
            _check(f"{name}-known-at-close.json",
                   _json(_ok(client.get(f"/reports/{report}", params=known))))
    for drill in DRILL_DOWNS:
        window = {"from": "2026-01-01", "to": "2026-06-30"}
        _check(f"reports/{drill.replace('/', '-')}.json",
               _json(_all_pages(client, f"/reports/{drill}", window)))
    _check("reports/restatements.json", _json(_ok(client.get("/reports/restatements"))))
    _check_receivables(client)


def _check_receivables(client: TestClient) -> None:
    """What was owed at each of ``OWED_AT``, with the invoices behind it, as known now and
    at the close; the aging of May 24 as CSV."""
    for name, known in (("", {}), ("-known-at-close", {"as_known_at": CLOSE_AT.isoformat()})):
        owed = {at: {"aging": _ok(client.get("/reports/receivables", params={"as_of": at, **known})),
                     "invoices": _all_pages(client, "/reports/receivables/invoices", {"as_of": at, **known})}
                for at in OWED_AT}
        _check(f"reports/receivables{name}.json", _json(owed))
    csv = client.get("/reports/receivables", params={"as_of": OWED_AT[4], "format": "csv"})
    assert csv.status_code == 200, csv.text
    _check("reports/receivables.csv", csv.text)


def test_every_golden_topic_resolves_to_its_class_and_back() -> None:
    """Stored events stay readable: each topic the store wrote names a class of that name,
    whose topic (what a new event of it would be stored under) is the same string."""
    topics = json.loads((DATA / "topics.json").read_text())
    for type_name, topic in topics["events"].items():
        cls = resolve_topic(topic)
        assert cls.__name__ == type_name
        assert get_topic(cls) == topic
    for topic in topics["aggregates"]:
        assert get_topic(resolve_topic(topic)) == topic


def test_every_golden_topic_names_a_module_that_exports_its_class() -> None:
    """A reader of the stored log with none of subledger's classes registered (the library's
    ``resolve_topic`` in a fresh process, a service reading the events table) finds each
    class by importing the module the topic names and following the names after the colon."""
    topics = json.loads((DATA / "topics.json").read_text())
    named = {**topics["events"], **{t.rpartition(":")[2]: t for t in topics["aggregates"]}}
    for type_name, topic in named.items():
        module, _, path = topic.partition(":")
        found = functools.reduce(getattr, path.split("."), importlib.import_module(module))
        assert found.__name__ == type_name, topic


def test_the_golden_topics_cover_every_published_event_type(settings: Settings) -> None:
    client = TestClient(build_api(settings))
    published = set(_ok(client.get("/schemas"))["items"]) - set(MESSAGE_SCHEMAS)
    topics = json.loads((DATA / "topics.json").read_text())
    assert published == set(topics["events"])


def test_the_published_schemas_read_the_same_as_their_golden_file(settings: Settings) -> None:
    """Every message's JSON Schema and the AsyncAPI document, as the API serves them."""
    client = TestClient(build_api(settings))
    names = _ok(client.get("/schemas"))["items"]
    schemas = {name: _ok(client.get(f"/schemas/{name}")) for name in names}
    _check("schemas.json", _json(schemas))
    _check("asyncapi.json", _json(_ok(client.get("/asyncapi.json"))))
