"""The OpenAPI document as the server behaves: every error an operation can answer, as the
problem document it is; the security this server is configured with; the gateways it has.

FastAPI describes each route's success and its own validation error; the server answers
every error as an RFC 9457 problem document (``application/problem+json``) through one
error map (``app.py``). Which problems an operation can answer follows from what it takes
and does, so they are added here from the routes themselves rather than written by hand on
each one.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from .deps import get_principal
from .positions import MIN_POSITION_HEADER, POSITION_HEADER, reads_read_models
from .problems import PROBLEM_JSON
from .schemas import Problem
from .security import READ_METHODS
from .sessions import COOKIE
from .writes import IDEMPOTENCY_HEADER, REPLAYED_HEADER

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
REASONS = {
    400: "Malformed request: the body is not JSON (or repeats a key), or a header is malformed",
    401: "No API key, or an unknown one",
    403: "The API key's role does not allow this",
    404: "An id in the path names nothing",
    409: "A rule of the ledger's state refuses it: a lifecycle rule, an out-of-order"
         " effective_at, a duplicate id, a concurrent change, an idempotency key used with"
         " another request",
    413: "The body is over 1 MiB",
    415: "The body is not application/json",
    422: "A field or parameter is invalid, or names a record that does not exist",
    503: "The event store cannot be reached, or a payment gateway a payment needs, or the read"
         f" models have not applied the `{MIN_POSITION_HEADER}` asked for in time (retry later)",
}
REPLAYED = {REPLAYED_HEADER: {
    "description": f"`true` when this is the stored answer of an earlier request with the same"
                   f" {IDEMPOTENCY_HEADER} (nothing was appended); absent on a first answer",
    "schema": {"type": "string", "enum": ["true"]}}}
WRITTEN_AT = {POSITION_HEADER: {
    "description": f"A position of the log at or after this write's last event: send it as"
                   f" `{MIN_POSITION_HEADER}` to read the write back from the read models",
    "schema": {"type": "integer", "minimum": 0}}}
READ_AT = {POSITION_HEADER: {
    "description": f"The position of the log the read models had applied when they answered;"
                   f" send it as `{MIN_POSITION_HEADER}` so a later read is at least as recent",
    "schema": {"type": "integer", "minimum": 0}}}


def install(app: FastAPI, *, secured: bool, gateways: Collection[str]) -> None:
    """Make ``app.openapi()`` answer the document of this server."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, summary=app.summary,
                              description=app.description, routes=app.routes)
            _describe(doc, app, secured=secured, gateways=sorted(gateways))
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]


def _describe(doc: dict[str, Any], app: FastAPI, *, secured: bool, gateways: list[str]) -> None:
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for model in ("PaymentMethodIn", "ManualChargeIn", "InvoicePaymentIn"):
        schemas[model]["properties"]["gateway"]["enum"] = gateways
    if secured:
        doc["components"]["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "Authorization: Bearer <API key>"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            "session": {"type": "apiKey", "in": "cookie", "name": COOKIE,
                        "description": "The pages' signed session cookie, set by signing in"
                                       " at /login; it authorises reads only"},
        }
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema:
            for method in route.methods:
                operation = doc["paths"][route.path_format][method.lower()]
                _operation(operation, route, method, secured=secured)


def _operation(operation: dict[str, Any], route: APIRoute, method: str, *, secured: bool) -> None:
    guarded = secured and _needs_key(route)
    if guarded:
        operation["security"] = [{"bearer": []}, {"apiKey": []}]
        if method in READ_METHODS:
            operation["security"].append({"session": []})
    elif secured:
        operation["security"] = []
    responses = operation.setdefault("responses", {})
    declared = _declared(route)
    if 422 not in declared:
        responses.pop("422", None)  # the framework's own, for an error it never answers as such
    for status, response in responses.items():
        if status.startswith("2") and (headers := _answer_headers(route, method, response.get("headers", {}))):
            response["headers"] = headers
    for status in sorted(_problems(route, method, guarded)):
        # A problem the route declares itself is described as the route says.
        said = responses[str(status)].get("description") if status in declared else None
        responses[str(status)] = {"description": said or REASONS[status],
                                  "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}}


def _answer_headers(route: APIRoute, method: str, said: dict[str, Any]) -> dict[str, Any]:
    """The headers of an operation's success: the replay flag of a write taking an
    ``Idempotency-Key``, and ``Subledger-Position`` on every write and read of the read
    models (``positions.Positions`` adds it)."""
    headers = dict(said)
    if any(p.alias == IDEMPOTENCY_HEADER for p in route.dependant.header_params):
        headers.update(REPLAYED)
    if method in WRITES:
        headers.update(WRITTEN_AT)
    elif reads_read_models(route.dependant.dependencies):
        headers.update(READ_AT)
    return headers


def _needs_key(route: APIRoute) -> bool:
    """Whether the route takes the caller's key, itself or through a dependency of its own
    (such as ``deps.admin_key``)."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if dependency.call is get_principal:
            return True
        pending.extend(dependency.dependencies)
    return False


def _problems(route: APIRoute, method: str, guarded: bool) -> set[int]:
    """The problem statuses an operation can answer, from what it takes and does."""
    dependant = route.dependant
    found = set()
    meta = "meta" in (route.tags or [])
    if not meta:
        found.add(503)
    if guarded:
        found.add(401)
        if method in WRITES or route.path_format.startswith("/webhooks"):
            found.add(403)
    if dependant.path_params:
        found.add(404)
    if _takes(dependant, "query_params", "header_params", "body_params"):
        found.add(422)
    if dependant.body_params:
        found |= {400, 413, 415}
    if reads_read_models(dependant.dependencies):
        found.add(400)  # a Subledger-Min-Position beyond the log's head: position-unknown
    if method in WRITES and not meta:
        found |= {400, 409}
    return found | _declared(route)


def _takes(dependant: Dependant, *kinds: str) -> bool:
    """Whether the route or one of its dependencies (``positions.reads``'s header) takes
    parameters of these kinds."""
    return any(getattr(dependant, kind) for kind in kinds) or \
        any(_takes(dependency, *kinds) for dependency in dependant.dependencies)


def _declared(route: APIRoute) -> set[int]:
    """The problem statuses a route declares itself (``responses=``): those its state can
    cause where its shape does not show them, such as a 409 of a read."""
    return {int(status) for status in route.responses
            if str(status).isdigit() and int(status) in REASONS}
