"""Personal fields sealed in the stored events, per subscriber, on both stores: what the
stored bytes hold, what reads back, what an export gives after forgetting, and what happens to
events written before a cipher key was set."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import MapperDeserialisationError, StoredEvent
from support.ledger import add_plan, add_subscriber
from support.personal import CIPHER_KEY
from support.stored_bytes import holds

from subledger.bootstrap import build_ledger
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.replay.export import export
from subledger.replay.reader import Replay
from subledger.store.sealing import SEALED


@pytest.fixture
def keyed(settings: Settings) -> Settings:
    return replace(settings, cipher_key=CIPHER_KEY)


@pytest.fixture
def ledger_with_key(keyed: Settings) -> Iterator[Ledger]:
    ledger = build_ledger(keyed)
    yield ledger
    ledger.close()


def _stored(ledger: Ledger, aggregate_id: Any) -> list[StoredEvent]:
    return list(ledger.recorder.select_events(aggregate_id))


def test_the_stored_event_keeps_every_other_field_readable_and_seals_the_personal_ones(
    ledger_with_key: Ledger,
) -> None:
    ada = add_subscriber(ledger_with_key, "ada@example.com", name="Ada King", external_ref="crm-9",
                         token="tok_visa")

    registered, method = (json.loads(s.state) for s in _stored(ledger_with_key, ada.id))

    assert not {"email", "name", "external_ref"} & set(registered)
    assert registered[SEALED][0] == ada.id.hex and registered[SEALED][2] == ["email", "external_ref", "name"]
    assert "effective_at" in registered and method["gateway"] == "sandbox" and "token" not in method
    read = ledger_with_key.subscribers.get(ada.id)
    assert (read.email, read.name, read.external_ref) == ("ada@example.com", "Ada King", "crm-9")
    assert read.payment_method == {"gateway": "sandbox", "token": "tok_visa"}


def test_sealed_fields_bound_to_their_event_cannot_be_moved_to_another(ledger_with_key: Ledger) -> None:
    ada = add_subscriber(ledger_with_key, "ada@example.com", token="tok_visa")
    registered, method = _stored(ledger_with_key, ada.id)
    moved = StoredEvent(originator_id=method.originator_id, originator_version=method.originator_version,
                        topic=method.topic, state=json.dumps({
                            **json.loads(method.state),
                            SEALED: json.loads(registered.state)[SEALED]}).encode())

    with pytest.raises(MapperDeserialisationError, match="altered or moved"):
        ledger_with_key.mapper.to_domain_event(moved)


def test_after_forgetting_an_export_with_personal_data_holds_none_of_theirs(
    ledger_with_key: Ledger, tmp_path: Path,
) -> None:
    add_plan(ledger_with_key)
    ada = add_subscriber(ledger_with_key, "ada@example.com", name="Ada King", token="tok_visa")
    bob = add_subscriber(ledger_with_key, "bob@example.com", name="Bob Stone", token="tok_visa")
    ledger_with_key.subscribers.forget(ada.id)

    export(Replay(ledger_with_key.event_log), tmp_path / "out", "jsonl", personal_data=True)

    written = b"".join(p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert b"ada@example.com" not in written and b"Ada King" not in written
    assert b"bob@example.com" in written and b"Bob Stone" in written
    assert str(bob.id).encode() in written


def test_events_written_before_the_key_was_set_stay_in_clear_and_later_ones_are_sealed(
    settings: Settings, keyed: Settings,
) -> None:
    before = build_ledger(settings)
    try:
        ada = add_subscriber(before, "ada.before@example.com", name="Ada Before")
    finally:
        before.close()
    after = build_ledger(keyed)
    try:
        after.subscribers.change_details(ada.id, {"name": "Ada After"})
        registered, changed = (json.loads(s.state) for s in _stored(after, ada.id))
        read = after.subscribers.get(ada.id)
        answer = after.execute(_forget(ada.id)).body
    finally:
        after.close()

    assert registered["email"] == "ada.before@example.com" and SEALED in changed
    assert (read.email, read.name) == ("ada.before@example.com", "Ada After")
    assert answer["encrypted"] is True and "before SUBLEDGER_CIPHER_KEY was set" in answer["detail"]
    # forgetting erased what was sealed; what was written in clear stays, as the answer says
    assert holds(keyed, "ada.before@example.com", "Ada Before", "Ada After") == [
        "ada.before@example.com", "Ada Before"]


def _forget(subscriber_id: Any) -> Any:
    from subledger.commands.writes import ForgetSubscriber

    return ForgetSubscriber(subscriber_id)


def test_the_log_tree_verifies_after_forgetting(ledger_with_key: Ledger, keyed: Settings) -> None:
    from subledger.bootstrap import build_merkle_follower
    from subledger.projections.audit_verify import verify
    from subledger.projections.store import ViewStore

    ada = add_subscriber(ledger_with_key, "ada@example.com", name="Ada King", token="tok_visa")
    add_subscriber(ledger_with_key, "bob@example.com", token="tok_visa")
    follower = build_merkle_follower(keyed, ledger_with_key)
    views = ViewStore(keyed)
    try:
        follower.run_once()
        stored_before = _stored(ledger_with_key, ada.id)
        ledger_with_key.subscribers.forget(ada.id)
        follower.run_once()

        verified = verify(ledger_with_key.event_log, views, None)
    finally:
        follower.store.close()
        views.close()

    assert verified.ok, verified
    assert verified.events_checked == ledger_with_key.event_log.max_position()
    assert _stored(ledger_with_key, ada.id)[:2] == stored_before  # the sealed bytes, unchanged
    assert ledger_with_key.subscribers.get(ada.id).email is None


class _CountingKeyReads:
    """The keys table as it is, counting the rows read from it."""

    def __init__(self, table: Any) -> None:
        self.table, self.reads = table, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.table, name)

    def select_data_key(self, subscriber_id: Any) -> Any:
        self.reads += 1
        return self.table.select_data_key(subscriber_id)


def test_loading_a_subscriber_reads_their_data_key_once_however_many_events_are_sealed(
    ledger_with_key: Ledger,
) -> None:
    ada = add_subscriber(ledger_with_key, "ada@example.com", name="Ada King", token="tok_visa")
    ledger_with_key.subscribers.change_details(ada.id, {"name": "Ada Lovelace"})
    sealed = [s for s in _stored(ledger_with_key, ada.id) if SEALED.encode() in s.state]
    counting = _CountingKeyReads(ledger_with_key.mapper.table)
    ledger_with_key.mapper.table = counting

    read = ledger_with_key.subscribers.get(ada.id)
    page = ledger_with_key.event_log.read(0, 100)

    assert len(sealed) == 3 and counting.reads == 2  # one per read, not one per sealed event
    assert (read.email, read.name, read.payment_method["token"]) == (
        "ada@example.com", "Ada Lovelace", "tok_visa")
    assert len(page.items) == 3


def test_a_subscriber_forgotten_between_two_loads_reads_as_forgotten_in_the_second(
    ledger_with_key: Ledger,
) -> None:
    ada = add_subscriber(ledger_with_key, "ada@example.com", name="Ada King", token="tok_visa")
    assert ledger_with_key.subscribers.get(ada.id).email == "ada@example.com"

    ledger_with_key.subscribers.forget(ada.id)

    read = ledger_with_key.subscribers.get(ada.id)
    assert (read.email, read.name) == (None, None)
