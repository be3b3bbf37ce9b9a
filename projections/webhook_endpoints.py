"""Webhook endpoints: registering, reading, removing and replaying them, and their
delivery log (the API's side of webhooks).

Each registered endpoint is a reader of the log with its own checkpoint (``position``: the
last position delivered or skipped) and its own filter (event types; none = every type),
with its retry state (consecutive failures, when the next attempt is due, the last error)
and the lease a dispatcher holds on it while delivering (:mod:`.webhook_dispatcher`).

Endpoints and the delivery log are operational configuration, not facts of the ledger: they
live in tables of the views' database (:class:`ViewStore`), on PostgreSQL or SQLite.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from subledger.contract.envelope import EVENT_TYPES, MAX_POSITION
from subledger.domain.errors import (
    InvalidInput,
    InvalidPosition,
    InvalidWebhookUrl,
    UnknownEventTypeName,
    WebhookNotFound,
)
from subledger.domain.text import CONTROLS, SPACES, check_free_text
from subledger.domain.time import isoformat
from subledger.store.log import EventLog

from .store import ViewStore

ENDPOINTS = "subledger_webhook_endpoints"
DELIVERIES = "subledger_webhook_deliveries"
SECRET_PREFIX = "whsec_"
MAX_URL_LENGTH = 2048
_PORT = "(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
WEBHOOK_URL = (f"^https?://[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*\\.?"
               f"(:{_PORT})?([/?][^#{SPACES}{CONTROLS}]*)?$")
"""An endpoint's URL: http or https, a host name or IPv4 address (an IPv6 literal is not
taken: name the host), an optional port, then a path and query without fragment, white
space or control characters."""
_URL = re.compile(WEBHOOK_URL)
MAX_DESCRIPTION_LENGTH = 500

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


_ENDPOINT_COLUMNS = ("endpoint_id, url, event_types, secret, description, created_at, position,"
                     " attempts, next_attempt_at, last_error, enabled, personal_data")
DELIVERY_COLUMNS = ("sequence, delivery_id, position, event_id, type, attempt, attempted_at,"
                    " status_code, error, duration_ms, outcome")


@dataclass(frozen=True)
class Endpoint:
    endpoint_id: str
    url: str
    event_types: tuple[str, ...]
    secret: str
    description: str | None
    created_at: str
    position: int
    attempts: int
    next_attempt_at: float
    last_error: str | None
    enabled: bool
    personal_data: bool
    """Whether its deliveries carry subscribers' personal fields (else they are null)."""

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Endpoint:
        return cls(str(row[0]), str(row[1]), tuple(json.loads(row[2])), str(row[3]), row[4],
                   str(row[5]), int(row[6]), int(row[7]), float(row[8]), row[9], bool(row[10]),
                   bool(row[11]))

    def as_dict(self, head: int) -> dict[str, Any]:
        """The endpoint's status (without its secret); ``head`` is the log's last position."""
        return {
            "endpoint_id": self.endpoint_id, "url": self.url, "event_types": list(self.event_types),
            "description": self.description, "created_at": self.created_at, "enabled": self.enabled,
            "personal_data": self.personal_data,
            "position": self.position, "lag": max(0, head - self.position),
            "attempts": self.attempts, "next_attempt_at": isoformat_unix(self.next_attempt_at),
            "last_error": self.last_error,
        }


def isoformat_unix(seconds: float) -> str:
    """An instant kept as unix seconds (retry times), written like every other instant."""
    return isoformat(datetime.fromtimestamp(seconds, UTC))


def create_tables(store: ViewStore) -> None:
    """The endpoints and the delivery log, created if missing (on either database)."""
    with store.creating_tables() as tx:
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {ENDPOINTS} (endpoint_id TEXT PRIMARY KEY, url TEXT NOT NULL,"
            " event_types TEXT NOT NULL, secret TEXT NOT NULL, description TEXT,"
            " created_at TEXT NOT NULL, position BIGINT NOT NULL, attempts INTEGER NOT NULL,"
            " next_attempt_at DOUBLE PRECISION NOT NULL, lease_until DOUBLE PRECISION NOT NULL,"
            " lease_owner TEXT, last_error TEXT, enabled INTEGER NOT NULL,"
            " personal_data INTEGER NOT NULL DEFAULT 0)")
        if "personal_data" not in tx.column_names(ENDPOINTS):
            # Made before endpoints chose: each received personal fields, and keeps them.
            tx.execute(f"ALTER TABLE {ENDPOINTS} ADD COLUMN personal_data INTEGER NOT NULL DEFAULT 1")
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {DELIVERIES} (endpoint_id TEXT NOT NULL,"
            " sequence BIGINT NOT NULL, delivery_id TEXT NOT NULL, position BIGINT NOT NULL,"
            " event_id TEXT NOT NULL, type TEXT NOT NULL, attempt INTEGER NOT NULL,"
            " attempted_at TEXT NOT NULL, status_code INTEGER, error TEXT,"
            " duration_ms INTEGER NOT NULL, outcome TEXT NOT NULL,"
            " PRIMARY KEY (endpoint_id, sequence))")


def _start(from_position: Any) -> int:
    """The checkpoint that delivers every event with a position >= ``from_position``."""
    if isinstance(from_position, bool) or not isinstance(from_position, int) \
            or not 0 <= from_position <= MAX_POSITION:
        raise InvalidPosition(f"from_position must be a whole number from 0 to {MAX_POSITION}")
    return max(0, from_position - 1)


def _check_url(url: Any) -> str:
    if not isinstance(url, str) or len(url) > MAX_URL_LENGTH or not _URL.fullmatch(url):
        raise InvalidWebhookUrl(
            f"url must be an absolute http:// or https:// URL with a host name or address, an"
            f" optional port from 1 to 65535, no fragment, no white space or control characters,"
            f" and at most {MAX_URL_LENGTH} characters; got {url!r}")
    return url


def _check_types(event_types: Any) -> tuple[str, ...]:
    if not isinstance(event_types, (list, tuple)) or not all(isinstance(t, str) for t in event_types):
        raise InvalidInput("event_types must be a list of event type names ([] = every type)")
    unknown = sorted(set(event_types) - EVENT_TYPES.keys())
    if unknown:
        raise UnknownEventTypeName(
            f"unknown event type(s) {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}")
    return tuple(sorted(set(event_types)))


def _endpoint_id(value: str) -> str:
    try:
        return str(UUID(value))
    except ValueError:
        raise WebhookNotFound(f"no webhook endpoint {value!r}") from None


class WebhookEndpoints:
    """Registering, reading, removing and replaying endpoints (the API's side)."""

    def __init__(self, store: ViewStore, log: EventLog, clock: Clock = system_clock) -> None:
        self.store = store
        self.log = log
        self.clock = clock
        create_tables(store)

    def register(self, url: Any, event_types: Any = (), description: Any = None,
                 from_position: Any = None, personal_data: bool = False) -> tuple[Endpoint, str]:
        """A new endpoint and its secret (shown once). It starts at the head of the log
        unless ``from_position`` is given (every event from that position is delivered). Its
        deliveries carry subscribers' personal fields only if ``personal_data``."""
        url = _check_url(url)
        types = _check_types(event_types)
        if description is not None:
            check_free_text(description, "description", MAX_DESCRIPTION_LENGTH)
        position = self.log.max_position() if from_position is None else _start(from_position)
        endpoint_id, secret, now = str(uuid4()), SECRET_PREFIX + secrets.token_urlsafe(32), self.clock()
        with self.store.transaction() as tx:
            tx.execute(
                f"INSERT INTO {ENDPOINTS} ({_ENDPOINT_COLUMNS}, lease_until, lease_owner)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, NULL, 1, ?, 0, NULL)",
                (endpoint_id, url, json.dumps(types), secret, description, isoformat(now), position,
                 now.timestamp(), int(bool(personal_data))))
        return self.get(endpoint_id), secret

    def find(self, endpoint_id: str) -> Endpoint | None:
        with self.store.transaction() as tx:
            row = tx.execute(f"SELECT {_ENDPOINT_COLUMNS} FROM {ENDPOINTS} WHERE endpoint_id = ?",
                             (endpoint_id,)).fetchone()
        return None if row is None else Endpoint.from_row(row)

    def get(self, endpoint_id: str) -> Endpoint:
        found = self.find(_endpoint_id(endpoint_id))
        if found is None:
            raise WebhookNotFound(f"no webhook endpoint {endpoint_id!r}")
        return found

    def list(self, offset: int, limit: int) -> tuple[list[Endpoint], int | None]:
        """A page of endpoints, oldest first; the offset of the next page (None at the end)."""
        with self.store.transaction() as tx:
            rows = tx.execute(f"SELECT {_ENDPOINT_COLUMNS} FROM {ENDPOINTS}"
                              " ORDER BY created_at, endpoint_id LIMIT ? OFFSET ?",
                              (limit + 1, offset)).fetchall()
        more = len(rows) > limit
        return [Endpoint.from_row(r) for r in rows[:limit]], offset + limit if more else None

    def delete(self, endpoint_id: str) -> None:
        """Remove an endpoint and its delivery log; a delivery in flight is not recorded."""
        key = _endpoint_id(endpoint_id)
        with self.store.transaction() as tx:
            tx.execute(f"DELETE FROM {ENDPOINTS} WHERE endpoint_id = ?", (key,))
            if tx.rowcount == 0:
                raise WebhookNotFound(f"no webhook endpoint {endpoint_id!r}")
            tx.execute(f"DELETE FROM {DELIVERIES} WHERE endpoint_id = ?", (key,))

    def replay(self, endpoint_id: str, from_position: Any) -> Endpoint:
        """Deliver again every event of the endpoint's types from ``from_position`` on, now:
        its failures are forgotten, and a delivery in flight loses its lease (its answer is
        not recorded, so it cannot move the position past the replay)."""
        key, position = _endpoint_id(endpoint_id), _start(from_position)
        with self.store.transaction() as tx:
            tx.execute(f"UPDATE {ENDPOINTS} SET position = ?, attempts = 0, next_attempt_at = ?,"
                       " last_error = NULL, lease_until = 0, lease_owner = NULL WHERE endpoint_id = ?",
                       (position, self.clock().timestamp(), key))
            if tx.rowcount == 0:
                raise WebhookNotFound(f"no webhook endpoint {endpoint_id!r}")
        return self.get(key)

    def deliveries(self, endpoint_id: str, after: int, limit: int) -> list[dict[str, Any]]:
        """The endpoint's delivery log (every attempt), oldest first, after a ``sequence``."""
        key = self.get(endpoint_id).endpoint_id
        with self.store.transaction() as tx:
            rows = tx.execute(f"SELECT {DELIVERY_COLUMNS} FROM {DELIVERIES} WHERE endpoint_id = ?"
                              " AND sequence > ? ORDER BY sequence LIMIT ?", (key, after, limit)).fetchall()
        names = [c.strip() for c in DELIVERY_COLUMNS.split(",")]
        return [dict(zip(names, row, strict=True)) for row in rows]
