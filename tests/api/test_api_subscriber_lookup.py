"""GET /subscribers?email= and ?external_ref=: subscribers found by their details as they are
now, at once after the write, paged like every list."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from support.http import api_subscriber, assert_problem


def _found(http: httpx.Client, **params: Any) -> list[str]:
    response = http.get("/subscribers", params=params)
    assert response.status_code == 200, response.text
    return [s["subscriber_id"] for s in response.json()["items"]]


def test_a_subscriber_is_found_by_the_whole_email_address_in_any_case(http: httpx.Client) -> None:
    ada = api_subscriber(http, "Ada.Lovelace@Example.com")
    api_subscriber(http, "ada@example.com")

    assert _found(http, email="ada.lovelace@example.com") == [ada["subscriber_id"]]
    assert _found(http, email="ADA.LOVELACE@EXAMPLE.COM") == [ada["subscriber_id"]]
    assert _found(http, email="lovelace@example.com") == []
    assert _found(http, email="ada.lovelace@example.co") == []
    [item] = http.get("/subscribers", params={"email": "ada.lovelace@example.com"}).json()["items"]
    assert item == http.get(f"/subscribers/{ada['subscriber_id']}").json()


def test_a_subscriber_is_found_by_the_exact_external_reference(http: httpx.Client) -> None:
    ada = api_subscriber(http, external_ref="crm-1815")
    api_subscriber(http, "bo@example.com", external_ref="CRM-1815")

    assert _found(http, external_ref="crm-1815") == [ada["subscriber_id"]]
    assert _found(http, external_ref="crm-181") == []
    assert _found(http, external_ref="crm-1815", email="ADA@example.com") == [ada["subscriber_id"]]
    assert _found(http, external_ref="crm-1815", email="bo@example.com") == []


def test_changed_details_are_found_as_they_are_now(http: httpx.Client) -> None:
    ada = api_subscriber(http, "ada@example.com", external_ref="crm-1")
    sid = ada["subscriber_id"]
    changed = http.patch(f"/subscribers/{sid}",
                         json={"email": "countess@example.com", "external_ref": None})
    assert changed.status_code == 200, changed.text

    assert _found(http, email="countess@example.com") == [sid]
    assert _found(http, email="ada@example.com") == []
    assert _found(http, external_ref="crm-1") == []


def test_subscribers_sharing_an_address_page_in_registration_order(http: httpx.Client) -> None:
    for i in range(2):
        api_subscriber(http, f"other{i}@example.com")
    ids = [api_subscriber(http, "shared@example.com", name=f"S{i}")["subscriber_id"]
           for i in range(5)]

    pages: list[list[str]] = []
    params: dict[str, Any] = {"email": "Shared@example.com", "limit": 2}
    while True:
        page = http.get("/subscribers", params=params).json()
        pages.append([s["subscriber_id"] for s in page["items"]])
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
        assert len(pages) < 10, "the cursor moves forward"

    assert pages == [ids[0:2], ids[2:4], ids[4:5]]


@pytest.mark.parametrize("params", [
    {"email": "not an address"},
    {"email": "ada@example.com\n"},
    {"email": "a" * 250 + "@example.com"},
    {"external_ref": ""},
    {"external_ref": "   "},
    {"external_ref": "crm\n1"},
    {"external_ref": "x" * 256},
])
def test_a_bad_lookup_value_is_a_422_problem(http: httpx.Client, params: dict[str, Any]) -> None:
    assert_problem(http.get("/subscribers", params=params), 422)
