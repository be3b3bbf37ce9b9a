"""Positions of the log on answers, so that a client can read its own writes.

Reads of the read models are answered from what the projector has applied, which follows the
log by a moment. Every successful write answers ``Subledger-Position``: the log's head read
after its commit, so at or after its last event. A read of the read models sent with
``Subledger-Min-Position: P`` waits, within ``SUBLEDGER_READ_WAIT`` seconds, until the read
models it reads (:func:`reads`) have applied position P, else answers 503
``read-model-behind``; a P beyond the log's head is 400 ``position-unknown`` at once. It
answers ``Subledger-Position`` too: the position its read models had applied, so a client
that keeps the largest position it has seen and sends it never reads further back than what
it saw.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from pydantic import WithJsonSchema
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from subledger.domain.errors import PositionUnknown, ReadModelBehind
from subledger.projections.store import ViewStore

from .deps import get_principal, get_views
from .problems import STORE_UNAVAILABLE
from .security import Principal

logger = logging.getLogger(__name__)

POSITION_HEADER = "Subledger-Position"
MIN_POSITION_HEADER = "Subledger-Min-Position"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_READ_POSITION = "subledger.read_position"
"""The scope key under which a read leaves the position its read models had applied."""
_FIRST_PAUSE, _LONGEST_PAUSE = 0.01, 0.2
"""Seconds between looks at the checkpoints while waiting: short at first (a projector
following the log is usually a page away), then no more often than five times a second."""

POSITION_TEXT = "^[0-9]{1,16}$"
"""A position as a header writes it: a whole number from 0, up to 16 digits (positions stop at
2^53 - 1, which JSON numbers hold exactly)."""
MinPosition = Annotated[str | None, WithJsonSchema({"type": "string", "pattern": POSITION_TEXT}), Header(
    alias=MIN_POSITION_HEADER, pattern=POSITION_TEXT,
    description=f"Answer only once the read models have applied this position of the log (the"
                f" `{POSITION_HEADER}` of a write, or of an earlier read); waits at most"
                f" `SUBLEDGER_READ_WAIT` seconds (5 by default), then 503 `read-model-behind`")]
"""Declared as text, as headers are sent: a client (and schemathesis) reads the schema of a
header's value as the text on the wire, where an integer schema would refuse ``"12"``."""


def applied_position(views: ViewStore, models: Collection[str]) -> int:
    """The position every one of ``models`` has applied (a model never built counts 0)."""
    positions = views.positions()
    return min((positions.get(name, 0) for name in models), default=0)


Visitor = Callable[[Request], bool]
"""Whether a page's visitor is one the server may make wait (signed in): a page checks its
visitor in its own code, after its dependencies, so the wait asks first."""


def reads(*models: str, visitor: Visitor | None = None) -> Any:
    """The dependency of a route that reads ``models``: ``dependencies=[reads("invoices")]``.
    It takes ``Subledger-Min-Position`` and waits for those models only, so that a model
    rebuilding from 0 holds back the reads of that model and no other. An API route's caller
    is checked first (its key), so that an unknown caller cannot make the server wait; a page
    (signed in by cookie) names its ``visitor`` check instead, asked only when the page would
    wait."""
    if not models:
        raise ValueError("a route that reads the read models names them")
    if visitor is None:
        async def wait(request: Request, _: Annotated[Principal, Depends(get_principal)],
                       asked: MinPosition = None) -> int | None:
            return await _read_position(request, models, asked)
    else:
        async def wait(request: Request, asked: MinPosition = None) -> int | None:
            if asked is not None and not await run_in_threadpool(visitor, request):
                asked = None  # the page refuses or redirects the visitor; nothing to wait for
            return await _read_position(request, models, asked)
    wait.read_models = models  # type: ignore[attr-defined]
    return Depends(wait)


async def _read_position(request: Request, declared: Collection[str], asked: str | None) -> int | None:
    """The position the route's read models have applied, once it is at least the one asked
    for. Only the models this server waits on count (``app.state.read_models``): none of
    them, and the read neither waits nor answers a position. The wait sleeps on the event
    loop and reads the checkpoints in the threadpool, so a waiting read holds neither."""
    models = [name for name in declared if name in request.app.state.read_models]
    if not models:
        return None
    at_least = None if asked is None else int(asked)
    views, wait = get_views(request), request.app.state.settings.read_wait
    applied = await run_in_threadpool(applied_position, views, models)
    if at_least is not None and applied < at_least:
        await _check_known(request, at_least)
    deadline, pause = time.monotonic() + wait, _FIRST_PAUSE
    while at_least is not None and applied < at_least:
        if time.monotonic() + pause > deadline:
            raise ReadModelBehind(
                f"the read models {', '.join(models)} have applied position {applied},"
                f" {at_least - applied} short of position {at_least}; waited {wait:g} s")
        await asyncio.sleep(pause)
        pause = min(pause * 2, _LONGEST_PAUSE)
        applied = await run_in_threadpool(applied_position, views, models)
    request.scope[_READ_POSITION] = applied
    return applied


async def _check_known(request: Request, asked: int) -> None:
    """Refuse a position beyond the log's head: no answer of this log gave it (a write answers
    the head after its commit), so waiting could not help. Read only once the models are
    behind, so that a read they already answer costs no more query."""
    head = int(await run_in_threadpool(request.app.state.ledger.event_log.max_position))
    if asked > head:
        raise PositionUnknown(f"position {asked} is beyond the log's head, {head}: send a"
                              f" {POSITION_HEADER} this server answered")


def reads_read_models(dependencies: Collection[Any]) -> bool:
    """Whether a route's dependencies (``Dependant.dependencies``) include one of :func:`reads`."""
    return any(hasattr(d.call, "read_models") for d in dependencies)


class Positions:
    """Puts ``Subledger-Position`` on every successful write (the log's head once the write
    has committed, a replayed answer's too) and on every read of the read models (what they
    had applied). One place for every write route, so none can leave it out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start" and 200 <= message["status"] < 300:
                position = await self._position(scope)
                if position is not None:
                    message["headers"] = [*message.get("headers", ()),
                                          (POSITION_HEADER.lower().encode(), str(position).encode())]
            await send(message)

        await self.app(scope, receive, answer)

    async def _position(self, scope: Scope) -> int | None:
        if _READ_POSITION in scope:
            return int(scope[_READ_POSITION])
        if scope["method"] not in WRITE_METHODS:
            return None
        ledger = scope["app"].state.ledger
        try:
            return int(await run_in_threadpool(ledger.event_log.max_position))
        except STORE_UNAVAILABLE:
            # The write is done: answer it, without the position the store cannot give now.
            logger.warning("the log's head could not be read after a write; answered without it")
            return None
