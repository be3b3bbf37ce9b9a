"""Idempotency keys, for every entry point: a retry with the same key and the same command
gets the first answer and appends nothing.

The key, a fingerprint of the command and its first successful answer are stored in the
transaction that appends the command's events (see ``subledger.store.recorders``), so an
answer exists exactly when its events do. The same key with another command is refused
(:class:`IdempotencyKeyReused`); a duplicate arriving while the first is still running in
this process is refused (:class:`IdempotencyKeyInFlight`); across processes the store's
primary key on the key makes the later transaction fail, and its answer is then the first
one's. A command that failed stores nothing: its retry is evaluated afresh.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from subledger.contract.envelope import jsonable
from subledger.domain.errors import (
    Conflict,
    IdempotencyKeyInFlight,
    IdempotencyKeyMalformed,
    IdempotencyKeyReused,
)
from subledger.domain.time import as_utc
from subledger.store import IdempotencyRecord

MAX_KEY_LENGTH = 255
OPEN_SCOPE = "global"
"""The scope of keys sent to an open server, and of the command line's keys."""


@dataclass(frozen=True)
class IdempotencyKey:
    """A client's key, in the scope of whoever sent it (an API key, or the open scope)."""

    scope: str
    key: str

    def __post_init__(self) -> None:
        if not 0 < len(self.key) <= MAX_KEY_LENGTH:
            raise IdempotencyKeyMalformed(
                f"an Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = as_utc(value)  # the same instant written with another offset is the same
    return jsonable(value)


def fingerprint(command: Any) -> str:
    """A hash of a command: its kind and the fields its caller gave, compared as values
    (the order of fields, an instant's offset and a JSON body's whitespace do not matter;
    fields whose metadata says ``identity: False`` are not the caller's and are left out)."""
    fields = {f.name: _canonical(getattr(command, f.name)) for f in dataclasses.fields(command)
              if f.metadata.get("identity", True)}
    canonical = json.dumps([type(command).__name__, fields], sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IdempotentRequest:
    """What a command stores with its decision: the key, the fingerprint, and how to render
    its answer."""

    scope: str
    key: str
    fingerprint: str
    created: bool
    render: Callable[[Any], Any]
    """result of the command -> its JSON answer, to store and replay."""

    def record(self, result: Any, now: datetime) -> IdempotencyRecord:
        return IdempotencyRecord(
            scope=self.scope, key=self.key, fingerprint=self.fingerprint,
            status_code=201 if self.created else 200,
            body=json.dumps(self.render(result), separators=(",", ":"), ensure_ascii=False),
            created_at=now,
        )


@dataclass(frozen=True)
class Answer:
    """A command's answer: its JSON body, whether it created a record, and whether it is
    the stored answer of an earlier request with the same key."""

    body: Any
    created: bool
    replayed: bool = False


Find = Callable[[str, str], IdempotencyRecord | None]


class IdempotencyGuard:
    """Runs commands under their idempotency keys (one guard per process's ledger)."""

    def __init__(self, find: Find) -> None:
        self._find = find
        self._in_flight: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def run(
        self, key: IdempotencyKey | None, command: Any, *, created: bool,
        handle: Callable[[IdempotentRequest | None], Any], render: Callable[[Any], Any],
    ) -> Answer:
        """``handle`` the command (with the request to store, when there is a key) and
        answer it, or answer the first request's answer again."""
        if key is None:
            return Answer(render(handle(None)), created)
        request = IdempotentRequest(key.scope, key.key, fingerprint(command), created, render)
        stored = self._find(key.scope, key.key)
        if stored is not None:
            return self._replay(stored, request)
        with self._slot(key):
            try:
                result = handle(request)
            except Conflict:
                # Lost a race: if it was to our own key, the winner's answer is ours.
                stored = self._find(key.scope, key.key)
                if stored is None:
                    raise
                return self._replay(stored, request)
        # The answer stored with the command's decision is the answer, now and on every
        # retry (a charge the decision made due may have moved the state on since).
        stored = self._find(key.scope, key.key)
        if stored is not None:
            return Answer(json.loads(stored.body), created)
        return Answer(render(result), created)

    @contextmanager
    def _slot(self, key: IdempotencyKey) -> Iterator[None]:
        slot = (key.scope, key.key)
        with self._lock:
            if slot in self._in_flight:
                raise IdempotencyKeyInFlight(f"a request with Idempotency-Key {key.key!r} is in flight")
            self._in_flight.add(slot)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight.discard(slot)

    @staticmethod
    def _replay(stored: IdempotencyRecord, request: IdempotentRequest) -> Answer:
        if stored.fingerprint != request.fingerprint:
            raise IdempotencyKeyReused(
                f"Idempotency-Key {request.key!r} was first used with another request"
            )
        return Answer(json.loads(stored.body), request.created, replayed=True)
