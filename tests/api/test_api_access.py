"""Every route of the app (the OpenAPI document's and the pages), walked by every kind of
caller: no credentials, a reader, a writer and an admin key, and a subscriber's portal
session. The status class each gets is the table of docs/access.md, which this test checks
(``SUBLEDGER_WRITE_ACCESS=1`` rewrites the table from what the server answers).

Reads name records that exist, so an allowed read answers 2xx. Writes name records that
do not exist or send incomplete bodies, so a write that passes the access checks is refused
by the route's own checks (4xx) and nothing is written; the portal's sign-out comes last.
That holds because every role check is a dependency (``deps.admin_key``), resolved before
the body is validated: a check in a route's own code would come after, and the walk's
incomplete body would get a 422 where a valid one gets a 403.
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Route
from support.portal import KEYS, PortalWorld, form_values

DOC = Path(__file__).resolve().parents[2] / "docs" / "access.md"
BEGIN, END = "<!-- access table: generated, checked by tests/api/test_api_access.py -->", "<!-- end of the access table -->"
WRITE = os.environ.get("SUBLEDGER_WRITE_ACCESS") == "1"
CALLERS = ["anonymous", "reader", "writer", "admin", "portal"]
NOTHING = "00000000-0000-4000-8000-000000000000"
READ_QUERIES = {
    "/reports/mrr": "from=2026-01-01&to=2026-03-31&interval=month",
    "/reports/churn": "from=2026-01-01&to=2026-03-31&interval=month",
    "/reports/revenue": "from=2026-01-01&to=2026-03-31&interval=month",
    "/reports/mrr/movements": "from=2026-01-01&to=2026-03-31",
    "/reports/revenue/lines": "from=2026-01-01&to=2026-03-31",
    "/reports/revenue/recognition": "from=2026-01-01&to=2026-03-31",
    "/reports/cohorts": "from=2026-01-01&to=2026-03-31",
    "/portal/subscriptions/{subscription_id}/change": "plan_id=pro-m",
}


def routes(app: Any) -> Iterator[tuple[str, str]]:
    """(method, path) of every route the app answers (HEAD and the static files aside)."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, (APIRoute, Route)):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    yield method, route.path_format


def _ids(world: PortalWorld, session: dict[str, Any], token: str) -> dict[str, dict[str, str]]:
    """Path parameters: for reads, records that exist (Ada's); for writes, none."""
    with world.api() as admin:
        invoice = admin.get(f"/subscribers/{world.ada}/invoices").json()["items"][0]
        note = admin.post(f"/invoices/{invoice['invoice_id']}/credit-notes",
                          json={"settlement": "credit_balance", "reason": "walk"})
        endpoint = admin.post("/webhooks", json={"url": "https://crm.example.com/hooks"})
    assert note.status_code == 201 and endpoint.status_code == 201, (note.text, endpoint.text)
    world.catch_up()
    charge = next(iter(world.ledger.subscriptions.get(world.ada_subscription).charges))
    read = {"subscriber_id": str(world.ada), "subscription_id": str(world.ada_subscription),
            "plan_id": "basic-m", "coupon_id": "LOYAL10", "invoice_id": invoice["invoice_id"],
            "credit_note_id": note.json()["credit_note_id"], "charge_id": charge,
            "endpoint_id": endpoint.json()["endpoint_id"],
            "period": "2026-02", "type_name": "SubscriptionStarted", "code": "plan-not-found",
            "portal_session_id": session["portal_session_id"], "token": token, "name": "stripe"}
    write = {**{name: NOTHING for name in read}, "plan_id": "no-such-plan",
             "coupon_id": "NO-SUCH", "charge_id": "no-such-charge", "period": "2999-01",
             "type_name": "NoSuchType", "code": "no-such-code", "token": "not-a-token"}
    return {"read": read, "write": write}


def _status_class(status: int) -> str:
    return str(status) if status in (401, 403) else f"{status // 100}xx"


def _call(client: httpx.Client, method: str, path: str, body: Any) -> int:
    if method == "GET":
        return client.get(path).status_code
    if isinstance(body, dict) and body.get("csrf_token"):
        return client.request(method, path, data=body).status_code
    return client.request(method, path, json=body if method != "DELETE" else None).status_code


def walk(world: PortalWorld) -> dict[tuple[str, str], dict[str, str]]:
    session = world.open_session(world.ada)
    link = session["url"]
    ids = _ids(world, session, link.rsplit("/", 1)[1])
    clients = {"anonymous": world.browser_client(),
               **{role: httpx.Client(base_url=world.url, timeout=30, follow_redirects=False,
                                     headers={"Authorization": f"Bearer {KEYS[role]}"})
                  for role in ("reader", "writer", "admin")},
               "portal": world.browser_client()}
    assert clients["portal"].get(link).status_code == 303
    csrf = form_values(clients["portal"].get("/portal").text, "/portal/sign-out")["csrf_token"]
    table: dict[tuple[str, str], dict[str, str]] = {}
    every = sorted(routes(world.app), key=lambda r: r == ("POST", "/portal/sign-out"))
    for method, template in every:
        table[(method, template)] = {}
        for caller in CALLERS:
            kind = "read" if method == "GET" else "write"
            values = dict(ids[kind])
            if caller != "portal":
                values["token"] = "not-a-token"
            path = re.sub(r"\{(\w+)\}", lambda m, v=values: v[m.group(1)], template)
            if kind == "read" and template in READ_QUERIES:
                path += "?" + READ_QUERIES[template]
            body: Any = {}
            if template.startswith("/portal/") and caller == "portal":
                body = {"csrf_token": csrf, "idempotency_key": f"walk-{method}-{template}"}
            table[(method, template)][caller] = _status_class(_call(clients[caller], method, path, body))
    for client in clients.values():
        client.close()
    return table


def render(table: dict[tuple[str, str], dict[str, str]]) -> str:
    lines = ["| route | " + " | ".join(CALLERS) + " |", "| --- |" + " --- |" * len(CALLERS)]
    for (method, path), cells in sorted(table.items(), key=lambda item: (item[0][1], item[0][0])):
        lines.append(f"| `{method} {path}` | " + " | ".join(cells[c] for c in CALLERS) + " |")
    return "\n".join(lines)


def documented() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text[text.index(BEGIN) + len(BEGIN):text.index(END)].strip()


def test_every_route_answers_each_caller_as_docs_access_md_says(portal_world: PortalWorld) -> None:
    actual = render(walk(portal_world))
    if WRITE:
        text = DOC.read_text(encoding="utf-8")
        DOC.write_text(text[:text.index(BEGIN) + len(BEGIN)] + "\n" + actual + "\n"
                       + text[text.index(END):], encoding="utf-8")
    assert actual == documented()


def test_no_route_checks_a_role_in_its_own_code(portal_world: PortalWorld) -> None:
    """Role checks are dependencies, so the walk above reports roles, not bodies."""
    checking = [f"{sorted(route.methods)} {route.path_format}"
                for context in iter_route_contexts(portal_world.app.routes)
                if isinstance(route := context.original_route, APIRoute)
                and "require_admin(" in inspect.getsource(route.endpoint)]
    assert checking == [], "check the role with a dependency (deps.admin_key)"
