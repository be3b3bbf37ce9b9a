"""Liveness and readiness (no API key needed: see test_api_keys.py)."""

from __future__ import annotations

import httpx
import pytest
from eventsourcing.persistence import OperationalError

from subledger.commands.ledger import Ledger


def test_a_server_whose_store_answers_is_ready(http: httpx.Client) -> None:
    assert http.get("/healthz").json() == {"status": "ok"}
    ready = http.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert set(body) == {"status", "store", "lag", "workers"}
    assert (body["status"], body["store"]) == ("ready", "ok")
    assert all(isinstance(lag, int) and lag >= 0 for lag in body["lag"].values())


def test_a_server_whose_store_does_not_answer_is_503_with_the_same_shape(
    http: httpx.Client, ledger: Ledger, monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unreachable() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(ledger.store.recorder, "ping", unreachable)
    ready = http.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert set(body) == {"status", "store", "lag", "workers"}
    assert body["status"] != "ready" and body["store"] != "ok"
    assert isinstance(body["lag"], dict)
    assert http.get("/healthz").status_code == 200, "the process itself is up"
