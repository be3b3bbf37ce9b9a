"""Fixtures of the read-side tests: an HTTP client of an API that reads the views of the
projector under test (``projector`` is shared: tests/conftest.py), and the Kafka relay."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from subledger.bootstrap import build_api, build_relay


@pytest.fixture
def client(settings: Any, ledger: Any, projector: Any) -> TestClient:
    return TestClient(build_api(settings, ledger=ledger, projector=projector))


@pytest.fixture
def relay_settings(settings: Any, broker: Any) -> Any:
    """The store under test, streaming to the test's own broker."""
    return replace(settings, kafka_bootstrap=(broker.bootstrap,), topic_prefix="ledger")


@pytest.fixture
def relay(relay_settings: Any, ledger: Any) -> Iterator[Any]:
    running = build_relay(relay_settings, ledger)
    yield running
    running.close()
    running.store.close()
