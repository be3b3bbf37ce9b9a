"""Every write goes through :class:`WriteRunner`: idempotency keys and error mapping of
races, so routes stay a few lines each.

Retry with the same key and body: the first answer, nothing appended. Same key, other body:
409 ``idempotency-key-reused``. A duplicate while the first is in flight (in this process):
409 ``idempotency-key-in-flight``; across processes the store's primary key on the key
makes the later transaction fail, and its answer is then the first one's.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from subledger.commands.idempotency import MAX_KEY_LENGTH, IdempotentRequest, fingerprint
from subledger.commands.ledger import Ledger
from subledger.domain.errors import Conflict, IdempotencyKeyInFlight, IdempotencyKeyReused
from subledger.store import IdempotencyRecord

from .security import ApiProblem, Principal

Command = Callable[[IdempotentRequest | None], Any]
Render = Callable[[Any], dict[str, Any]]


class WriteRunner:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._in_flight: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def run(
        self,
        request: Request,
        principal: Principal,
        body: BaseModel | None,
        command: Command,
        render: Render,
        status: int = 200,
    ) -> Response:
        key = request.headers.get("idempotency-key")
        if key is None:
            return JSONResponse(render(command(None)), status_code=status)
        if not 0 < len(key) <= MAX_KEY_LENGTH:
            raise ApiProblem("malformed-request", f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
        parsed = None if body is None else body.model_dump(mode="json", exclude_unset=True)
        spec = IdempotentRequest(
            scope=principal.scope,
            key=key,
            fingerprint=fingerprint(request.method, request.url.path, parsed),
            render=lambda result: (status, render(result)),
        )
        stored = self.ledger.find_idempotency(spec.scope, key)
        if stored is not None:
            return self._replay(stored, spec)
        slot = (spec.scope, key)
        with self._lock:
            if slot in self._in_flight:
                raise IdempotencyKeyInFlight(f"a request with Idempotency-Key {key!r} is in flight")
            self._in_flight.add(slot)
        try:
            result = command(spec)
        except Conflict:
            # Lost a race: if it was to our own key, the winner's answer is ours.
            stored = self.ledger.find_idempotency(spec.scope, key)
            if stored is None:
                raise
            return self._replay(stored, spec)
        finally:
            with self._lock:
                self._in_flight.discard(slot)
        # The answer stored with the command's decision is the answer, now and on every
        # retry (a charge the decision made due may have moved the state on since).
        stored = self.ledger.find_idempotency(spec.scope, key)
        if stored is not None:
            return JSONResponse(json.loads(stored.body), status_code=stored.status_code)
        return JSONResponse(render(result), status_code=status)

    @staticmethod
    def _replay(stored: IdempotencyRecord, spec: IdempotentRequest) -> Response:
        if stored.fingerprint != spec.fingerprint:
            raise IdempotencyKeyReused(
                f"Idempotency-Key {spec.key!r} was first used with another request"
            )
        return JSONResponse(
            json.loads(stored.body),
            status_code=stored.status_code,
            headers={"Idempotent-Replayed": "true"},
        )
