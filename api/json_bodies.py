"""How the API reads a JSON body: each number as the exact decimal it writes, and each key
at most once per object.

Python reads a JSON number with a fraction or an exponent as a float, which rounds it before
any rule can see it: ``1899.9999999999999999`` would arrive as ``1900.0`` and be taken as a
whole number, ``1e-400`` as ``0.0``. Read as a :class:`~decimal.Decimal`, a number keeps every
digit the client sent, so the fields' types (``inputs``) accept exactly the whole numbers
and refuse every other.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute


def read_json(body: bytes) -> Any:
    """A JSON body, its numbers with a fraction or an exponent read as exact decimals."""
    return json.loads(body, parse_float=Decimal)


class _Repeated(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Repeated(key)
        seen[key] = value
    return seen


def repeated_key(body: bytes) -> str | None:
    """The first key a JSON body repeats in one object, if any: JSON leaves its meaning
    open, and taking the last (as Python does) would silently drop what the client sent."""
    try:
        json.loads(body, object_pairs_hook=_no_repeats)
    except _Repeated as repeated:
        return repeated.key
    except (ValueError, RecursionError):
        return None  # not JSON the framework accepts: it answers that
    return None


class RepeatedKey(json.JSONDecodeError):
    """A body that repeats a key: not JSON the API reads, as a syntax error is not."""


class _ExactRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            repeated = repeated_key(body)
            if repeated is not None:
                raise RepeatedKey(f"the body repeats the key {repeated!r}", body.decode("utf-8", "replace"), 0)
            self._json = read_json(body)
        return self._json


Guard = Callable[[Request], object]


def _guards(dependant: Dependant) -> list[Guard]:
    """The ``before_body`` checks of a route's dependencies, at any depth, outermost first."""
    found: list[Guard] = []
    for dependency in dependant.dependencies:
        guard = getattr(dependency.call, "before_body", None)
        if guard is not None:
            found.append(guard)
        found.extend(_guards(dependency))
    return found


def _unreadable(error: Exception) -> bool:
    if isinstance(error, RequestValidationError):
        return any(e.get("type") == "json_invalid" for e in error.errors())
    return isinstance(error, HTTPException) and error.status_code == 400


class ExactJsonRoute(APIRoute):
    """A route whose body FastAPI reads with :func:`read_json` (it would read floats)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        guards = _guards(self.dependant)

        async def exact(request: Request) -> Response:
            exact_request = _ExactRequest(request.scope, request.receive)
            try:
                return await handler(exact_request)
            except (RequestValidationError, HTTPException) as error:
                if _unreadable(error):
                    for guard in guards:
                        guard(exact_request)  # the caller's key and role answer first
                raise

        return exact


def api_router(**options: Any) -> APIRouter:
    """A router of the API: every route reads its body exactly (:class:`ExactJsonRoute`)."""
    return APIRouter(route_class=ExactJsonRoute, **options)
