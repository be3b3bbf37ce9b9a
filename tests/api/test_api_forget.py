"""Forgetting a subscriber over HTTP (``POST /subscribers/{id}/forget``), on both stores:
afterwards no plaintext personal datum of theirs is left anywhere in the database, the API
shows their personal fields as null, every report reads byte for byte as before, and the
other subscribers are untouched."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.ledger import FakeClock
from support.personal import (
    BOOK_CLOCK,
    CIPHER_KEY,
    Person,
    history,
    personal_book,
    reports,
)
from support.smtp import SmtpServer
from support.stored_bytes import holds

from subledger.bootstrap import build_api, build_ledger, build_projector
from subledger.config import Settings
from subledger.domain.personal import PERSONAL_FIELDS
from subledger.mail_config import MailSettings, parse_smtp_url
from subledger.messages import outbox
from subledger.messages.smtp import SmtpSender
from subledger.messages.worker import MailWorker
from subledger.projections.store import ViewStore


@pytest.fixture
def keyed(settings: Settings) -> Settings:
    return replace(settings, cipher_key=CIPHER_KEY)


@contextmanager
def _open(settings: Settings) -> Iterator[tuple[TestClient, Any]]:
    ledger = build_ledger(settings, clock=FakeClock(BOOK_CLOCK))
    projector = build_projector(settings, ledger)
    try:
        yield TestClient(build_api(settings, ledger=ledger, projector=projector)), projector
    finally:
        projector.close()
        projector.store.close()
        ledger.close()


@pytest.fixture
def api(keyed: Settings) -> Iterator[tuple[TestClient, Any]]:
    with _open(keyed) as opened:
        yield opened


@pytest.fixture
def clear_api(settings: Settings) -> Iterator[tuple[TestClient, Any]]:
    with _open(settings) as opened:
        yield opened


def _personal_values(events: list[dict[str, Any]]) -> list[Any]:
    values = [e["data"][name] for e in events for name in PERSONAL_FIELDS.get(e["type"], ())
              if e["data"].get(name) is not None]
    return [v for value in values for v in (value.values() if isinstance(value, dict) else [value])]


def _forget(client: TestClient, person: Person) -> dict[str, Any]:
    response = client.post(f"/subscribers/{person.subscriber_id}/forget")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _forget_around_reports(client: TestClient, projector: Any,
                           person: Person) -> tuple[list[Any], dict[str, Any]]:
    """Every report before forgetting ``person`` (read models caught up), and the answer of
    forgetting them (read models caught up again)."""
    projector.run_once()
    before = reports(client)
    answer = _forget(client, person)
    projector.run_once()
    return before, answer


def test_with_a_cipher_key_only_the_lookup_keeps_personal_data_in_clear(
    api: tuple[TestClient, Any], keyed: Settings,
) -> None:
    client, _ = api
    ada, bob = personal_book(client)

    leaked = holds(keyed, *ada.data, *bob.data)

    # What subscribers are found by (e-mail addresses and references, current and, in the
    # write-ahead log's older pages, past) is all the store keeps in clear: never a name, a
    # payment token, a comment or a reason.
    lookup = {ada.data[0], ada.data[1], ada.data[3], bob.data[0], bob.data[1], bob.data[3]}
    assert {ada.email, bob.email} <= set(leaked) <= lookup
    assert set(_personal_values(history(client, ada))) == {*ada.data, "tok_visa"}


def test_forgetting_leaves_no_personal_datum_of_theirs_in_the_database(
    api: tuple[TestClient, Any], keyed: Settings,
) -> None:
    client, projector = api
    ada, bob = personal_book(client)
    before, answer = _forget_around_reports(client, projector, ada)

    assert answer["subscriber_id"] == ada.subscriber_id and answer["encrypted"] is True
    assert holds(keyed, *ada.data) == []
    assert reports(client) == before
    ada_events = history(client, ada)
    assert _personal_values(ada_events) == []
    assert ada_events[-1]["type"] == "SubscriberForgotten"
    assert {e["data"]["amount"] for e in ada_events if e["type"] == "ChargeSucceeded"} == {
        e["data"]["amount"] for e in history(client, bob) if e["type"] == "ChargeSucceeded"}
    body = client.get(f"/subscribers/{ada.subscriber_id}").json()
    assert (body["email"], body["name"], body["external_ref"], body["payment_method"]) == (None,) * 4
    assert body["forgotten_at"] is not None and body["subscription_ids"] == [ada.subscription_id]
    assert client.get("/subscribers", params={"email": ada.email}).json()["items"] == []


def test_forgetting_one_subscriber_leaves_the_others_as_they_were(
    api: tuple[TestClient, Any], keyed: Settings,
) -> None:
    client, _ = api
    ada, bob = personal_book(client)
    bob_before = history(client, bob)

    _forget(client, ada)

    assert history(client, bob) == bob_before
    assert set(_personal_values(bob_before)) >= {bob.email, bob.data[2], bob.data[5], bob.data[6]}
    found = client.get("/subscribers", params={"email": bob.email}).json()["items"]
    assert [s["subscriber_id"] for s in found] == [bob.subscriber_id]
    assert found[0]["name"] == bob.data[2]


def test_a_retry_of_a_request_made_before_forgetting_does_not_answer_their_details(
    api: tuple[TestClient, Any],
) -> None:
    client, _ = api
    ada, _bob = personal_book(client)
    _forget(client, ada)

    retry = client.post("/subscribers", json={"email": ada.data[0], "name": ada.data[2],
                                              "external_ref": ada.data[3],
                                              "effective_at": "2026-01-01T00:00:00Z"},
                        headers={"Idempotency-Key": "ada-1"})

    assert retry.status_code == 409
    assert retry.json()["type"] == "/problems/idempotency-key-reused"


def test_a_forgotten_subscriber_cannot_be_forgotten_or_changed_again(api: tuple[TestClient, Any]) -> None:
    client, _ = api
    ada, _bob = personal_book(client)
    _forget(client, ada)
    sid = ada.subscriber_id

    for method, path, body in (
        ("POST", f"/subscribers/{sid}/forget", None),
        ("PATCH", f"/subscribers/{sid}", {"name": "Someone"}),
        ("PUT", f"/subscribers/{sid}/payment-method", {"gateway": "sandbox", "token": "tok_visa"}),
        ("POST", f"/subscribers/{sid}/subscriptions", {"plan_id": "basic"}),
    ):
        response = client.request(method, path, json=body)
        assert response.status_code == 409, (path, response.text)
        assert response.json()["type"] == "/problems/subscriber-forgotten"


def test_forgetting_an_unknown_subscriber_is_a_404(api: tuple[TestClient, Any]) -> None:
    client, _ = api
    response = client.post("/subscribers/7d5c3b8e-0000-4000-8000-000000000000/forget")
    assert response.status_code == 404
    assert response.json()["type"] == "/problems/subscriber-not-found"


def test_only_an_admin_key_may_forget(keyed: Settings) -> None:
    served = replace(keyed, api_keys={"w": "writer", "a": "admin"})
    with _open(served) as (client, _):
        _admin_only(client)


def _admin_only(client: TestClient) -> None:
    sid = client.post("/subscribers", json={"email": "x@example.com", "name": "X"},
                      headers={"X-API-Key": "w"}).json()["subscriber_id"]

    refused = client.post(f"/subscribers/{sid}/forget", headers={"X-API-Key": "w"})
    done = client.post(f"/subscribers/{sid}/forget", headers={"X-API-Key": "a"})

    assert refused.status_code == 403 and refused.json()["type"] == "/problems/forbidden"
    assert done.status_code == 200


def test_without_a_cipher_key_forgetting_says_the_log_keeps_their_data_in_clear(
    clear_api: tuple[TestClient, Any], settings: Settings,
) -> None:
    client, projector = clear_api
    ada, _bob = personal_book(client)
    before, answer = _forget_around_reports(client, projector, ada)

    assert answer["encrypted"] is False
    assert "in clear" in answer["detail"] and "cannot erase" in answer["detail"]
    assert reports(client) == before
    # What forgetting could do without a key: the lookup rows and the stored answers...
    assert client.get("/subscribers", params={"email": ada.email}).json()["items"] == []
    body = client.get(f"/subscribers/{ada.subscriber_id}").json()
    assert body["email"] is None and body["forgotten_at"] is not None
    # ...but the log's events still hold their personal data, as the answer says.
    assert ada.data[0] in holds(settings, *ada.data)


def test_a_server_without_a_cipher_key_warns_that_personal_data_is_stored_in_clear(
    settings: Settings, keyed: Settings, caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("WARNING", logger="subledger.api"):
        with _open(settings):
            pass
        clear = [r.getMessage() for r in caplog.records if "CIPHER" in r.getMessage()]
        caplog.clear()
        with _open(keyed):
            pass
        keyed_warnings = [r.getMessage() for r in caplog.records if "CIPHER" in r.getMessage()]

    assert len(clear) == 1 and "IN CLEAR" in clear[0] and "cannot erase" in clear[0]
    assert keyed_warnings == []



@contextmanager
def _mail_worker(client: TestClient, settings: Settings, smtp: SmtpServer) -> Iterator[MailWorker]:
    mail = MailSettings(smtp=parse_smtp_url(smtp.url), sender="Shop <billing@shop.test>")
    worker = MailWorker(client.app.state.ledger, ViewStore(settings), SmtpSender(mail.smtp, timeout=5),
                        mail, ("Shop Ltd", "1 High Street"))
    try:
        worker.run_once()  # a new worker starts at the log's head: before the book is written
        yield worker
    finally:
        worker.close()


def _drain(step: Any) -> None:
    """Run one of the worker's steps until it finds nothing more to do."""
    while step():
        pass


def _recipients(smtp: SmtpServer) -> set[str]:
    return {r for d in smtp.delivered for r in d.recipients}


def test_forgetting_erases_where_their_messages_went_from_the_outbox(
    api: tuple[TestClient, Any], keyed: Settings, smtp_server: SmtpServer,
) -> None:
    client, projector = api
    with _mail_worker(client, keyed, smtp_server) as worker:
        ada, bob = personal_book(client)
        projector.run_once()
        _drain(worker.run_once)
        assert ada.email in _recipients(smtp_server)
        sent = outbox.counts(worker.store)

        _forget(client, ada)
        _drain(worker.run_once)

        # The outbox keeps what was sent (kinds, causes, statuses), never where it went.
        assert holds(keyed, *ada.data) == []
        assert outbox.counts(worker.store) == sent


def test_messages_decided_before_forgetting_are_not_sent_to_the_forgotten(
    api: tuple[TestClient, Any], keyed: Settings, smtp_server: SmtpServer,
) -> None:
    client, projector = api
    with _mail_worker(client, keyed, smtp_server) as worker:
        ada, bob = personal_book(client)
        projector.run_once()
        _drain(worker.follow_log)  # decided, not yet sent
        _forget(client, ada)
        _drain(worker.run_once)

    assert bob.email in _recipients(smtp_server)
    assert _recipients(smtp_server).isdisjoint(ada.data)
    assert holds(keyed, *ada.data) == []
