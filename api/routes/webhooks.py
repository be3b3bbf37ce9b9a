"""Webhook endpoints: register (admin), read their status and delivery log, replay, remove.

Endpoints are configuration kept in the views' database, not facts of the ledger; the
dispatcher (``projections/webhook_dispatcher.py``) delivers to them outside any request.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from subledger.contract.envelope import MAX_POSITION
from subledger.projections.webhook_endpoints import WebhookEndpoints

from ..deps import Cursor, IdPath, LedgerDep, Limit, PrincipalDep, admin_key, parse_cursor
from ..json_bodies import api_router
from ..requests import WebhookIn, WebhookReplayIn
from ..schemas import DeliveryList, WebhookCreated, WebhookList, WebhookOut
from ..security import ApiProblem, Principal

router = api_router(tags=["webhooks"])


def get_webhooks(request: Request, ledger: LedgerDep) -> WebhookEndpoints:
    registry = getattr(request.app.state, "webhooks", None)
    if registry is None:
        views = request.app.state.views
        if views is None:
            raise ApiProblem("store-unavailable", "this API was started without its views' database")
        registry = request.app.state.webhooks = WebhookEndpoints(views, ledger.event_log)
    return registry  # type: ignore[no-any-return]


WebhooksDep = Annotated[WebhookEndpoints, Depends(get_webhooks)]


@router.post("/webhooks", status_code=201, response_model=WebhookCreated)
def register(_: Annotated[Principal, admin_key("register webhook endpoints")], body: WebhookIn,
             webhooks: WebhooksDep, ledger: LedgerDep) -> dict[str, Any]:
    """Register an endpoint (admin key). The answer holds its signing `secret`, shown only
    here. It receives events after the current head of the log, or every event from
    `from_position` on."""
    endpoint, secret = webhooks.register(body.url, body.event_types, body.description,
                                         body.from_position, body.personal_data)
    return {**endpoint.as_dict(ledger.event_log.max_position()), "secret": secret}


@router.get("/webhooks", response_model=WebhookList)
def list_webhooks(webhooks: WebhooksDep, ledger: LedgerDep, _: PrincipalDep, limit: Limit = 100,
                  cursor: Cursor = None) -> dict[str, Any]:
    endpoints, next_offset = webhooks.list(parse_cursor(cursor), limit)
    head = ledger.event_log.max_position()
    return {"items": [e.as_dict(head) for e in endpoints],
            "next_cursor": None if next_offset is None else str(next_offset)}


@router.get("/webhooks/{endpoint_id}", response_model=WebhookOut)
def get_webhook(endpoint_id: IdPath, webhooks: WebhooksDep, ledger: LedgerDep,
                _: PrincipalDep) -> dict[str, Any]:
    """The endpoint's status: `position` delivered, `lag`, failed `attempts`, `next_attempt_at`,
    `last_error` (never its secret)."""
    return webhooks.get(endpoint_id).as_dict(ledger.event_log.max_position())


@router.delete("/webhooks/{endpoint_id}", status_code=204)
def delete_webhook(_: Annotated[Principal, admin_key("remove webhook endpoints")],
                   endpoint_id: IdPath, webhooks: WebhooksDep) -> Response:
    """Remove the endpoint and its delivery log (admin key)."""
    webhooks.delete(endpoint_id)
    return Response(status_code=204)


@router.get("/webhooks/{endpoint_id}/deliveries", response_model=DeliveryList)
def deliveries(
    endpoint_id: IdPath, webhooks: WebhooksDep, _: PrincipalDep,
    after: Annotated[int, Query(ge=0, le=MAX_POSITION, description="last `sequence` already seen")] = 0,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Every delivery attempt, oldest first; `next_cursor` is the last `sequence` of the
    page, usable as the next `after` (null when the page is empty)."""
    items = webhooks.deliveries(endpoint_id, after, limit)
    return {"items": items, "next_cursor": str(items[-1]["sequence"]) if items else None}


@router.post("/webhooks/{endpoint_id}/replay", response_model=WebhookOut)
def replay(_: Annotated[Principal, admin_key("replay webhook endpoints")], endpoint_id: IdPath,
           body: WebhookReplayIn, webhooks: WebhooksDep, ledger: LedgerDep) -> dict[str, Any]:
    """Deliver again every event of the endpoint's types from `from_position` on (admin key);
    its failed attempts are forgotten and it is due at once."""
    endpoint = webhooks.replay(endpoint_id, body.from_position)
    return endpoint.as_dict(ledger.event_log.max_position())
