"""Fixtures of the read-side tests: a projector over the ledger under test, and an HTTP
client of an API that reads its views."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from subledger.bootstrap import build_api, build_projector


@pytest.fixture
def projector(settings: Any, ledger: Any) -> Iterator[Any]:
    runner = build_projector(settings, ledger)
    yield runner
    runner.close()
    runner.store.close()


@pytest.fixture
def client(settings: Any, ledger: Any, projector: Any) -> TestClient:
    return TestClient(build_api(settings, ledger=ledger, projector=projector))
