"""The log for auditors, the problem types, health."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, WithJsonSchema

from subledger.contract.asyncapi import asyncapi
from subledger.contract.envelope import EVENT_TYPES, MAX_POSITION
from subledger.contract.schemas import schema, schema_names
from subledger.domain.errors import NotFound

from ..deps import LedgerDep, Limit, PrincipalDep
from ..json_bodies import api_router
from ..problems import RETRY_AFTER, STORE_UNAVAILABLE, ProblemType, problem_catalog
from ..schemas import EventList, ProblemTypeList

router = api_router()

_TYPE = "|".join(EVENT_TYPES)
TYPE_LIST = f"^({_TYPE})(,({_TYPE}))*$"
"""Event type names, comma-separated."""
_TYPES = re.compile(TYPE_LIST)


def _type_names(value: str) -> str:
    if not _TYPES.fullmatch(value):
        raise ValueError(f"not event type names, comma-separated: {value!r}")
    return value


TypeNames = Annotated[str, AfterValidator(_type_names),
                      WithJsonSchema({"type": "string", "pattern": TYPE_LIST})]


@router.get("/events", response_model=EventList, tags=["log"])
def events(
    ledger: LedgerDep,
    _: PrincipalDep,
    after: Annotated[int, Query(ge=0, le=MAX_POSITION, description="last position already seen")] = 0,
    limit: Limit = 100,
    type: Annotated[list[TypeNames] | None, Query(  # noqa: A002
        description="event type(s), repeated or comma-separated")] = None,
) -> dict[str, Any]:
    """The whole log in global order. `next_cursor` is the last position of the page: pass
    it as the next `after` (null when the page is empty: nothing new yet)."""
    types = [t for value in (type or []) for t in value.split(",")]
    page = ledger.event_log.read(after, limit, types)
    return {"items": page.items,
            "next_cursor": None if page.last_position is None else str(page.last_position)}


@router.get("/problems", response_model=ProblemTypeList, tags=["meta"])
def problems() -> dict[str, Any]:
    """Every problem type the API answers with."""
    return {"items": [vars(p) for p in problem_catalog().values()]}


@router.get("/problems/{code}", response_model=ProblemType, tags=["meta"])
def problem_type(code: str) -> JSONResponse:
    """What a problem type means (the `type` of an error answer is `/problems/<code>`)."""
    kind = problem_catalog().get(code)
    if kind is None:
        raise NotFound(f"no problem type {code!r}")
    return JSONResponse(vars(kind))


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
def readyz(request: Request) -> JSONResponse:
    """Ready when the store answers. ``lag`` maps each projection (and relay stream) to the
    events it has still to handle; ``workers`` is the last status each background worker
    reported (the relay says ``broker_unavailable`` while Kafka is down: commands go on)."""
    ledger = request.app.state.ledger
    views = request.app.state.views
    lag: dict[str, int] = {}
    workers: dict[str, Any] = {}
    try:
        ledger.store.recorder.ping()  # first: the one wait while the store cannot be reached
        lag.update(request.app.state.projection_lag())
        if views is not None:
            head = ledger.event_log.max_position()
            lag.update({name: max(0, head - position) for name, position in views.positions().items()})
            workers = views.workers()
    except STORE_UNAVAILABLE:
        return JSONResponse(
            {"status": "unavailable", "store": "unavailable", "lag": lag, "workers": workers},
            status_code=503, headers=RETRY_AFTER,
        )
    return JSONResponse({"status": "ready", "store": "ok", "lag": lag, "workers": workers})


@router.get("/schemas", tags=["meta"])
def schemas() -> dict[str, Any]:
    """The messages whose JSON Schema is published (also under `schemas/` in the repo): every
    event type's envelope, `SubscriptionState`, `MrrMovement` and `TreeHead`."""
    return {"items": schema_names()}


@router.get("/schemas/{type_name}", tags=["meta"])
def schema_of(type_name: str) -> JSONResponse:
    """The JSON Schema (2020-12) of one event type's envelope or Kafka message, generated
    from the code."""
    if type_name not in schema_names():
        raise NotFound(f"no event type or message {type_name!r}")
    return JSONResponse(schema(type_name), media_type="application/schema+json")


@router.get("/asyncapi.json", tags=["meta"])
def asyncapi_document(request: Request) -> dict[str, Any]:
    """The Kafka topics, their keys, headers and messages, as an AsyncAPI 3.0 document."""
    settings = request.app.state.settings
    return asyncapi(settings.topic_prefix, settings.kafka_partitions,
                    version=request.app.version)
