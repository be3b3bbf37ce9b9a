"""Signing in to the pages with an API key: the session cookie reads as its key reads and never
writes, forms without their CSRF token are refused, and a session ends with its key."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from support.http import assert_problem, plan_json
from support.live import LiveServer
from support.pages import form_token, sign_in

from subledger.bootstrap import build_api
from subledger.commands.ledger import Ledger
from subledger.config import Settings

API_KEYS = "w1:writer,r1:reader"
SECRET = "a-session-secret-of-at-least-32-characters"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings.from_env({"SUBLEDGER_DATABASE_URL": database_url, "SUBLEDGER_API_KEYS": API_KEYS,
                              "SUBLEDGER_SESSION_SECRET": SECRET})


def _session_cookie(response: httpx.Response) -> str:
    [cookie] = [v for k, v in response.headers.multi_items()
                if k == "set-cookie" and v.startswith("subledger_session=")]
    return cookie


def test_a_reader_signed_in_reads_the_api_with_the_session_cookie_and_cannot_write(
    http: httpx.Client,
) -> None:
    assert http.post("/plans", json=plan_json("basic-m"), headers={"X-API-Key": "w1"}).status_code == 201
    assert_problem(http.get("/plans"), 401, "unauthorized")
    signed = sign_in(http, "r1", "/plans")
    assert (signed.status_code, signed.headers["location"]) == (303, "/plans")
    cookie = _session_cookie(signed).lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert [p["plan_id"] for p in http.get("/plans").json()["items"]] == ["basic-m"]
    # a cookie goes with every request a browser makes: it never authorises a write
    assert_problem(http.post("/plans", json=plan_json("pro-m")), 401, "unauthorized")
    assert [p["plan_id"] for p in http.get("/plans").json()["items"]] == ["basic-m"]


def test_an_unknown_key_does_not_sign_in(http: httpx.Client) -> None:
    refused = sign_in(http, "nope")
    assert refused.status_code == 200 and "Unknown API key" in refused.text
    assert_problem(http.get("/plans"), 401, "unauthorized")


def test_a_sign_in_form_without_its_csrf_token_is_refused(http: httpx.Client) -> None:
    http.get("/login")
    for token in ("", "forged"):
        refused = http.post("/login", data={"csrf_token": token, "api_key": "w1"})
        assert refused.status_code == 403 and "subledger_session" not in refused.headers.get("set-cookie", "")
    assert_problem(http.get("/plans"), 401, "unauthorized")
    # a token from another visitor's session is not this session's
    with httpx.Client(base_url=str(http.base_url)) as other:
        token = form_token(other.get("/login").text)
    assert http.post("/login", data={"csrf_token": token, "api_key": "w1"}).status_code == 403


def test_a_tampered_cookie_is_no_session(http: httpx.Client) -> None:
    sign_in(http, "r1")
    body, mac = http.cookies["subledger_session"].split(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB")
    http.cookies.set("subledger_session", f"{forged}.{mac}")
    assert_problem(http.get("/plans"), 401, "unauthorized")


def test_a_session_ends_when_its_key_is_removed(settings: Settings, ledger: Ledger) -> None:
    with LiveServer(build_api(settings, ledger=ledger)) as before, httpx.Client(base_url=before.url, timeout=30) as http:
        sign_in(http, "r1")
        assert http.get("/plans").status_code == 200
        cookie = http.cookies["subledger_session"]
    without_r1 = replace(settings, api_keys={"w1": "writer"})
    with LiveServer(build_api(without_r1, ledger=ledger)) as after, httpx.Client(base_url=after.url, timeout=30) as http:
        http.cookies.set("subledger_session", cookie)
        assert_problem(http.get("/plans"), 401, "unauthorized")


def test_signing_out_ends_the_session(http: httpx.Client) -> None:
    sign_in(http, "r1")
    assert http.get("/plans").status_code == 200
    out = http.post("/logout", data={"csrf_token": form_token(http.get("/").text)})
    assert (out.status_code, out.headers["location"]) == (303, "/login")
    assert_problem(http.get("/plans"), 401, "unauthorized")
    assert http.get("/").headers["location"] == "/login?next=%2F"


def test_sign_in_goes_back_to_a_path_of_this_server_only(api_url: str) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        with httpx.Client(base_url=api_url, timeout=30) as http:
            assert sign_in(http, "r1", target).headers["location"] == "/"


def test_a_form_body_is_refused_outside_the_pages(http: httpx.Client) -> None:
    refused = http.post("/plans", data={"plan_id": "x"}, headers={"X-API-Key": "w1"})
    assert_problem(refused, 415, "unsupported-media-type")
