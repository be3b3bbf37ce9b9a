"""`subledger keys rotate`: every subscriber's data key re-wrapped under a new
SUBLEDGER_CIPHER_KEY, on both stores, without touching one byte of the log."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest
from support.ledger import add_subscriber
from support.personal import CIPHER_KEY, OTHER_KEY

from subledger.bootstrap import build_ledger
from subledger.cli import main
from subledger.config import Settings
from subledger.store.data_keys import KeyUnavailable, kek_id


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def _stored_states(settings: Settings) -> list[tuple[int, bytes]]:
    ledger = build_ledger(settings)
    try:
        return [(n.id, bytes(n.state)) for n in ledger.recorder.select_notifications(start=1, limit=10_000)]
    finally:
        ledger.close()


def _emails(settings: Settings, ids: list) -> list[str | None]:  # type: ignore[type-arg]
    ledger = build_ledger(settings)
    try:
        return [ledger.subscribers.get(i).email for i in ids]
    finally:
        ledger.close()


@pytest.fixture
def book(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> list:  # type: ignore[type-arg]
    """Three subscribers sealed under CIPHER_KEY, the last forgotten; their ids."""
    for name in ("SUBLEDGER_API_KEYS", "SUBLEDGER_KAFKA_BOOTSTRAP", "SUBLEDGER_CIPHER_KEY",
                 "SUBLEDGER_CIPHER_KEY_PREVIOUS", "SUBLEDGER_AUDIT_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", settings.database_url)
    ledger = build_ledger(replace(settings, cipher_key=CIPHER_KEY))
    try:
        ids = [add_subscriber(ledger, f"{n}@example.com", token="tok_visa").id
               for n in ("ada", "bob", "cyd")]
        ledger.subscribers.forget(ids[2])
    finally:
        ledger.close()
    return ids


def test_rotation_rewraps_every_data_key_and_leaves_the_log_alone(
    book: list, settings: Settings, monkeypatch: pytest.MonkeyPatch,  # type: ignore[type-arg]
    capsys: pytest.CaptureFixture[str],
) -> None:
    log_before = _stored_states(replace(settings, cipher_key=CIPHER_KEY))
    monkeypatch.setenv("SUBLEDGER_CIPHER_KEY", _b64(OTHER_KEY))
    monkeypatch.setenv("SUBLEDGER_CIPHER_KEY_PREVIOUS", _b64(CIPHER_KEY))

    assert main(["keys", "rotate"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["keys", "rotate"]) == 0
    again = json.loads(capsys.readouterr().out)

    assert first == {"key": kek_id(OTHER_KEY), "rewrapped": 2, "already_current": 0}
    assert again == {"key": kek_id(OTHER_KEY), "rewrapped": 0, "already_current": 2}
    new_only = replace(settings, cipher_key=OTHER_KEY)
    assert _stored_states(new_only) == log_before
    assert _emails(new_only, book) == ["ada@example.com", "bob@example.com", None]
    with pytest.raises(KeyUnavailable):
        _emails(replace(settings, cipher_key=CIPHER_KEY), book)


def test_rotation_without_a_cipher_key_is_refused(
    book: list, capsys: pytest.CaptureFixture[str],  # type: ignore[type-arg]
) -> None:
    assert main(["keys", "rotate"]) == 2
    assert "SUBLEDGER_CIPHER_KEY is not set" in capsys.readouterr().err


def test_rotation_refuses_a_data_key_wrapped_by_neither_key_given(
    book: list, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],  # type: ignore[type-arg]
) -> None:
    monkeypatch.setenv("SUBLEDGER_CIPHER_KEY", _b64(OTHER_KEY))

    assert main(["keys", "rotate"]) == 2

    err = capsys.readouterr().err
    assert "neither SUBLEDGER_CIPHER_KEY nor SUBLEDGER_CIPHER_KEY_PREVIOUS" in err
    assert len(err.strip().splitlines()) == 1
