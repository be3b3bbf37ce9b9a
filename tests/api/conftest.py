"""Fixtures of the HTTP API tests."""

from __future__ import annotations

import httpx
import pytest
from support.http import World, api_world


@pytest.fixture
def world(http: httpx.Client) -> World:
    """A catalog, a subscriber and a subscription in each state, made over HTTP (api_world)."""
    return api_world(http)
