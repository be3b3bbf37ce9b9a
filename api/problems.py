"""RFC 9457 problem documents: the one place where errors become HTTP answers.

``type`` is ``/problems/<code>``, the stable code of the error; ``GET /problems/{code}``
documents each one.
"""

from __future__ import annotations

import inspect
import sqlite3
from dataclasses import dataclass
from typing import Any

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi.responses import JSONResponse

from subledger.domain.errors import (
    Conflict,
    DomainError,
    GatewayUnavailableError,
    InvalidInput,
    NotFound,
    ReadModelBehind,
    all_error_classes,
)

PROBLEM_JSON = "application/problem+json"

STORE_UNAVAILABLE: tuple[type[Exception], ...] = (
    OperationalError, InterfaceError,  # the event store, as the library raises them
    psycopg.OperationalError, psycopg.InterfaceError, sqlite3.OperationalError,  # the views
)
"""The errors of a store that cannot serve now (unreachable, restarting, out of time, busy):
``store-unavailable``, never a bug's 500."""

RETRY_AFTER = {"Retry-After": "5"}
"""On every 503: when to try again, in seconds. The server notices by itself that the store
is back, within a few seconds of it."""


@dataclass(frozen=True)
class ProblemType:
    code: str
    title: str
    status: int
    description: str


def status_of(error: type[DomainError]) -> int:
    if issubclass(error, (GatewayUnavailableError, ReadModelBehind)):
        return 503  # not now: the same request may succeed later
    if issubclass(error, NotFound):
        return 404
    if issubclass(error, Conflict):
        return 409
    if issubclass(error, InvalidInput):
        return 422
    return 400  # MalformedRequest: the request as sent, not its command


_EDGE_PROBLEMS = [
    ProblemType("malformed-request", "Malformed request", 400,
                "The body is not valid JSON, or a header is malformed."),
    ProblemType("validation-error", "Invalid request body or parameters", 422,
                "A field is missing, of the wrong type, unknown, or out of range; `errors` lists each one."),
    ProblemType("unauthorized", "Missing or unknown API key", 401,
                "Send `Authorization: Bearer <key>` (or `X-API-Key`) with a configured key."),
    ProblemType("forbidden", "The API key's role does not allow this", 403,
                "`reader` keys may only read; writes need a `writer` or `admin` key; webhook endpoints "
                "(their secrets) need an `admin` key."),
    ProblemType("route-not-found", "No such route", 404, "The path names no resource of the API."),
    ProblemType("method-not-allowed", "Method not allowed", 405, "The route exists but not with this method."),
    ProblemType("payload-too-large", "Request body too large", 413, "Request bodies are limited to 1 MiB."),
    ProblemType("unsupported-media-type", "Unsupported media type", 415,
                "Write requests take `application/json`."),
    ProblemType("http-error", "HTTP error", 400,
                "An error of the HTTP layer itself; `status` and `detail` say which."),
    ProblemType("store-unavailable", "The event store cannot be reached", 503,
                "The database is down or unreachable; nothing was recorded. Retry later."),
    ProblemType("internal-error", "Internal error", 500,
                "A bug: nothing was recorded unless the answer says otherwise. Please report it."),
]


def problem_catalog() -> dict[str, ProblemType]:
    catalog = {p.code: p for p in _EDGE_PROBLEMS}
    for error in all_error_classes():
        catalog[error.code] = ProblemType(
            code=error.code,
            title=error.title,
            status=status_of(error),
            description=inspect.cleandoc(error.__doc__ or error.title),
        )
    return dict(sorted(catalog.items()))


def problem(status: int, code: str, title: str, detail: str, instance: str | None = None,
            **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": f"/problems/{code}", "title": title, "status": status,
                            "detail": detail}
    if instance is not None:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON,
                        headers=RETRY_AFTER if status == 503 else None)


def domain_problem(error: DomainError, instance: str | None = None) -> JSONResponse:
    return problem(status_of(type(error)), error.code, error.title, error.detail, instance)


def edge_problem(code: str, detail: str, instance: str | None = None, **extra: Any) -> JSONResponse:
    kind = next(p for p in _EDGE_PROBLEMS if p.code == code)
    return problem(kind.status, kind.code, kind.title, detail, instance, **extra)
