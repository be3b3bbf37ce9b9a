"""Webhook endpoints hold secrets: only an admin key registers, replays or removes them;
any key may read their status and delivery log (never the secret)."""

from __future__ import annotations

import httpx
import pytest
from support.http import assert_problem

from subledger.config import Settings

ADMIN = {"Authorization": "Bearer a1"}
WRITER = {"Authorization": "Bearer w1"}
READER = {"Authorization": "Bearer r1"}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings.from_env({"SUBLEDGER_DATABASE_URL": database_url,
                              "SUBLEDGER_API_KEYS": "a1:admin,w1:writer,r1:reader"})


def test_only_an_admin_key_may_register_replay_or_remove_an_endpoint(http: httpx.Client) -> None:
    body = {"url": "https://crm.example.com/hooks"}
    for headers in (WRITER, READER):
        assert_problem(http.post("/webhooks", json=body, headers=headers), 403, "forbidden")
    assert http.get("/webhooks", headers=ADMIN).json()["items"] == []
    created = http.post("/webhooks", json=body, headers=ADMIN)
    assert created.status_code == 201
    path = f"/webhooks/{created.json()['endpoint_id']}"
    for headers in (WRITER, READER):
        assert_problem(http.post(f"{path}/replay", json={"from_position": 0}, headers=headers), 403,
                       "forbidden")
        assert_problem(http.delete(path, headers=headers), 403, "forbidden")
    assert_problem(http.get(path), 401, "unauthorized")
    for headers in (READER, WRITER, ADMIN):
        assert http.get(f"{path}/deliveries", headers=headers).status_code == 200
        status = http.get(path, headers=headers)
        assert status.status_code == 200 and "secret" not in status.json()
        assert "secret" not in http.get("/webhooks", headers=headers).json()["items"][0]
    assert http.post(f"{path}/replay", json={"from_position": 0}, headers=ADMIN).status_code == 200
    assert http.delete(path, headers=ADMIN).status_code == 204


def test_the_role_is_checked_before_the_body(http: httpx.Client) -> None:
    """A key without the admin role gets its 403 whatever it sends: no body, an incomplete
    one, an invalid one or a valid one (an access check that came after the body's
    validation would answer 422 to some and 403 to others)."""
    no_id = "00000000-0000-4000-8000-000000000000"
    nothing = f"/webhooks/{no_id}"
    bodies = [None, {}, {"url": 7, "from_position": -1}, {"url": "https://crm.example.com/hooks"}]
    for headers in (WRITER, READER):
        for body in bodies:
            assert_problem(http.post("/webhooks", json=body, headers=headers), 403, "forbidden")
            assert_problem(http.post(f"{nothing}/replay", json=body, headers=headers), 403,
                           "forbidden")
        assert_problem(http.post(f"/subscribers/{no_id}/forget", headers=headers), 403,
                       "forbidden")
    assert_problem(http.post("/webhooks", json={}, headers=ADMIN), 422, "validation-error")
    assert_problem(http.post(f"{nothing}/replay", json={}, headers=ADMIN), 422, "validation-error")


@pytest.mark.parametrize("body", [b"{not json", b'{"url": "https://a.example", "url": "https://b.example"}',
                                  b"\xff\xfe"])
def test_a_body_that_cannot_be_read_is_answered_after_the_key_and_role(
    http: httpx.Client, body: bytes,
) -> None:
    """Not JSON, a repeated key or bytes that are not UTF-8: a caller with no key, an
    unknown key or a key without the role learns nothing about its body before its 401 or
    403; an admin key gets the 400."""
    json_type = {"content-type": "application/json"}
    no_id = "00000000-0000-4000-8000-000000000000"
    for path in ("/webhooks", f"/webhooks/{no_id}/replay", "/subscribers"):
        assert_problem(http.post(path, content=body, headers=json_type), 401, "unauthorized")
        assert_problem(http.post(path, content=body, headers={**json_type, "Authorization": "Bearer x"}),
                       401, "unauthorized")
        assert_problem(http.post(path, content=body, headers={**json_type, **READER}), 403, "forbidden")
    for path in ("/webhooks", f"/webhooks/{no_id}/replay"):
        assert_problem(http.post(path, content=body, headers={**json_type, **WRITER}), 403, "forbidden")
    for path, headers in (("/subscribers", WRITER), ("/webhooks", ADMIN)):
        assert_problem(http.post(path, content=body, headers={**json_type, **headers}), 400,
                       "malformed-request")
