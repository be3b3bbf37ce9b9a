"""Webhooks: a projection whose output is HTTP calls.

Each registered endpoint is a reader of the log with its own checkpoint (``position``: the
last position delivered or skipped) and its own filter (event types; none = every type).
The dispatcher delivers each endpoint's events in position order, one at a time, each the
envelope of CONTRACT.md as the body, signed like Stripe signs its webhooks::

    Subledger-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{raw body}")>

A 2xx answer advances the endpoint's position, in the same transaction as the delivery log's
row; anything else (another status, a timeout, a refused connection) is logged, and the
endpoint waits ``base * 2**(failures-1)`` seconds (capped) before the same event is tried
again, so an endpoint's order is kept. Delivery is at least once: a dispatcher that stops
between the receiver's answer and its commit sends that event again; receivers dedupe by
``event_id`` (or by ``position``, which only grows).

Endpoints and the delivery log are operational configuration, not facts of the ledger: they
live in tables of the views' database (:class:`ViewStore`), on PostgreSQL or SQLite. An
endpoint is served by one dispatcher at a time: it is claimed with a lease (an ``UPDATE``
that only succeeds when the last lease expired), so two processes never deliver the same
endpoint at once. Endpoints are served concurrently by a small thread pool, so one slow or
dead endpoint does not hold back the others. The dispatcher reads only the committed log and
never runs inside a command: commands never wait on webhooks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from subledger.contract.envelope import EVENT_TYPES
from subledger.domain.errors import (
    InvalidInput,
    InvalidPosition,
    InvalidWebhookUrl,
    UnknownEventTypeName,
    WebhookNotFound,
)
from subledger.domain.time import isoformat
from subledger.store.log import EventLog

from .follow import Follower
from .store import ViewCursor, ViewStore

logger = logging.getLogger(__name__)

ENDPOINTS = "subledger_webhook_endpoints"
DELIVERIES = "subledger_webhook_deliveries"
SIGNATURE_HEADER = "Subledger-Signature"
EVENT_ID_HEADER = "Subledger-Event-Id"
DELIVERY_ID_HEADER = "Subledger-Delivery-Id"
SECRET_PREFIX = "whsec_"
MAX_POSITION = 2**62
MAX_URL_LENGTH = 2048
MAX_DESCRIPTION_LENGTH = 500

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


# -- signatures ----------------------------------------------------------------------------


class SignatureError(ValueError):
    """A webhook's signature does not verify: missing or malformed header, a timestamp
    outside the tolerance, or no ``v1`` that matches the body and the secret."""


def _mac(secret: str, body: bytes, timestamp: int) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Subledger-Signature`` header of ``body`` sent at ``timestamp`` (unix seconds)."""
    return f"t={timestamp},v1={_mac(secret, body, timestamp)}"


def verify_signature(secret: str, header: str | None, body: bytes, *, tolerance: int = 300,
                     now: float | None = None) -> int:
    """Check a ``Subledger-Signature`` header against the raw ``body`` (the bytes received,
    before any JSON parsing); returns its timestamp, or raises :class:`SignatureError`.
    A timestamp more than ``tolerance`` seconds from ``now`` is refused (replayed
    requests); several ``v1`` values are accepted (any one may match)."""
    if not header:
        raise SignatureError(f"no {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise SignatureError(f"malformed {SIGNATURE_HEADER} header")
        if key == "t":
            if not (value.isascii() and value.isdigit()):
                raise SignatureError("the signature's timestamp is not a whole number")
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError(f"{SIGNATURE_HEADER} needs t= and v1=")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError(f"the signature's timestamp is more than {tolerance}s from now")
    expected = _mac(secret, body, timestamp)
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        raise SignatureError("the signature does not match the body and the secret")
    return timestamp


def envelope_body(envelope: Mapping[str, Any]) -> bytes:
    """The body of a delivery: the envelope as JSON, UTF-8."""
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


# -- sending -------------------------------------------------------------------------------


class WebhookSender(Protocol):
    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        """POST ``body``; the answer's status, or raise (timeout, connection refused)."""
        ...


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is an answer, and not a 2xx: a failed delivery


class UrllibSender:
    """:class:`WebhookSender` on the standard library: no proxy (from the environment or
    otherwise), redirects not followed, the answer's body read up to 64 KiB and dropped."""

    def __init__(self) -> None:
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
        try:
            with self._opener.open(request, timeout=timeout) as response:
                response.read(65536)
                return int(response.status)
        except urllib.error.HTTPError as error:
            error.close()
            return int(error.code)


# -- the endpoints -------------------------------------------------------------------------

_ENDPOINT_COLUMNS = ("endpoint_id, url, event_types, secret, description, created_at, position,"
                     " attempts, next_attempt_at, last_error, enabled")
_DELIVERY_COLUMNS = ("sequence, delivery_id, position, event_id, type, attempt, attempted_at,"
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

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Endpoint:
        return cls(str(row[0]), str(row[1]), tuple(json.loads(row[2])), str(row[3]), row[4],
                   str(row[5]), int(row[6]), int(row[7]), float(row[8]), row[9], bool(row[10]))

    def as_dict(self, head: int) -> dict[str, Any]:
        """The endpoint's status (without its secret); ``head`` is the log's last position."""
        return {
            "endpoint_id": self.endpoint_id, "url": self.url, "event_types": list(self.event_types),
            "description": self.description, "created_at": self.created_at, "enabled": self.enabled,
            "position": self.position, "lag": max(0, head - self.position),
            "attempts": self.attempts, "next_attempt_at": _iso(self.next_attempt_at),
            "last_error": self.last_error,
        }


def _iso(seconds: float) -> str:
    return isoformat(datetime.fromtimestamp(seconds, UTC))


def create_tables(store: ViewStore) -> None:
    """The endpoints and the delivery log, created if missing (on either database)."""
    with store.transaction() as tx:
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {ENDPOINTS} (endpoint_id TEXT PRIMARY KEY, url TEXT NOT NULL,"
            " event_types TEXT NOT NULL, secret TEXT NOT NULL, description TEXT,"
            " created_at TEXT NOT NULL, position BIGINT NOT NULL, attempts INTEGER NOT NULL,"
            " next_attempt_at DOUBLE PRECISION NOT NULL, lease_until DOUBLE PRECISION NOT NULL,"
            " lease_owner TEXT, last_error TEXT, enabled INTEGER NOT NULL)")
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
    if not isinstance(url, str) or len(url) > MAX_URL_LENGTH:
        raise InvalidWebhookUrl(f"url must be text of at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise InvalidWebhookUrl(f"not a URL: {url!r}") from None
    if parts.scheme not in ("http", "https") or not host or parts.fragment \
            or any(c.isspace() for c in url):
        raise InvalidWebhookUrl(f"an absolute http:// or https:// URL with a host, got {url!r}")
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
                 from_position: Any = None) -> tuple[Endpoint, str]:
        """A new endpoint and its secret (shown once). It starts at the head of the log
        unless ``from_position`` is given (every event from that position is delivered)."""
        url = _check_url(url)
        types = _check_types(event_types)
        if description is not None and (not isinstance(description, str)
                                        or len(description) > MAX_DESCRIPTION_LENGTH):
            raise InvalidInput(f"description must be text of at most {MAX_DESCRIPTION_LENGTH} characters")
        position = self.log.max_position() if from_position is None else _start(from_position)
        endpoint_id, secret, now = str(uuid4()), SECRET_PREFIX + secrets.token_urlsafe(32), self.clock()
        with self.store.transaction() as tx:
            tx.execute(
                f"INSERT INTO {ENDPOINTS} ({_ENDPOINT_COLUMNS}, lease_until, lease_owner)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, NULL, 1, 0, NULL)",
                (endpoint_id, url, json.dumps(types), secret, description, isoformat(now), position,
                 now.timestamp()))
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
            rows = tx.execute(f"SELECT {_DELIVERY_COLUMNS} FROM {DELIVERIES} WHERE endpoint_id = ?"
                              " AND sequence > ? ORDER BY sequence LIMIT ?", (key, after, limit)).fetchall()
        names = [c.strip() for c in _DELIVERY_COLUMNS.split(",")]
        return [dict(zip(names, row, strict=True)) for row in rows]


# -- the dispatcher ------------------------------------------------------------------------


class _LeaseLost(Exception):
    """The endpoint was replayed, removed, or claimed by another dispatcher meanwhile."""


class WebhookDispatcher:
    """Delivers what is due to every endpoint (see the module's documentation).

    ``retry_base`` and ``retry_cap``: the wait after the n-th consecutive failure is
    ``min(retry_cap, retry_base * 2**(n-1))`` seconds. ``timeout``: of one HTTP call.
    ``lease``: how long a claim on an endpoint lasts without a delivery renewing it (a
    dispatcher that died leaves its endpoints to others after this). ``batch``: the most
    events delivered to one endpoint per round. ``concurrency``: endpoints served at once."""

    def __init__(
        self, log: EventLog, store: ViewStore, sender: WebhookSender, clock: Clock = system_clock,
        *, retry_base: float = 1.0, retry_cap: float = 3600.0, timeout: float = 10.0,
        lease: float = 60.0, batch: int = 100, concurrency: int = 8, poll_interval: float = 0.5,
    ) -> None:
        self.log = log
        self.store = store
        self.sender = sender
        self.clock = clock
        self.endpoints = WebhookEndpoints(store, log, clock)
        self.retry_base, self.retry_cap = retry_base, retry_cap
        self.timeout, self.lease, self.batch = timeout, lease, batch
        self.poll_interval = poll_interval
        self.owner = uuid4().hex
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="webhooks")
        self._busy: set[str] = set()
        self._busy_lock = threading.Lock()

    def delay(self, failures: int) -> float:
        """Seconds to wait after ``failures`` consecutive failures."""
        return float(min(self.retry_cap, self.retry_base * 2 ** (failures - 1)))

    def run_once(self) -> int:
        """Serve every endpoint that is due (one batch each); the events delivered."""
        return sum(f.result() for f in self._start_due())

    def follower(self) -> Follower:
        """The dispatcher as :func:`follow` runs it: each round starts the endpoints that
        are due in the pool and returns at once, so a slow endpoint keeps its pool thread
        while the others go on. What a round started finishes in the pool, not in the round,
        so the round reports nothing done and the loop looks again after ``poll_interval``."""
        return Follower("webhook dispatcher", self._start_in_pool, idle=self.poll_interval,
                        log=logger)

    def _start_in_pool(self) -> int:
        self._start_due()
        return 0

    def close(self) -> None:
        """Wait for the deliveries in flight (each bounded by ``timeout``), then stop."""
        self._pool.shutdown(wait=True)

    def _now(self) -> float:
        return self.clock().timestamp()

    def _start_due(self) -> list[Future[int]]:
        now = self._now()
        with self.store.transaction() as tx:
            due = [r[0] for r in tx.execute(
                f"SELECT endpoint_id FROM {ENDPOINTS} WHERE enabled = 1 AND next_attempt_at <= ?"
                " AND lease_until <= ? ORDER BY next_attempt_at", (now, now)).fetchall()]
        futures = []
        for endpoint_id in due:
            with self._busy_lock:
                if endpoint_id in self._busy:
                    continue
                self._busy.add(endpoint_id)
            futures.append(self._pool.submit(self._serve, endpoint_id))
        return futures

    def _serve(self, endpoint_id: str) -> int:
        delivered = 0
        try:
            if not self._claim(endpoint_id):
                return 0
            try:
                endpoint = self.endpoints.find(endpoint_id)
                if endpoint is None:
                    return 0
                head = self.log.max_position()
                page = self.log.read(endpoint.position, self.batch, endpoint.event_types)
                position, attempts = endpoint.position, endpoint.attempts
                for envelope in page.items:
                    attempts = self._deliver(endpoint, envelope, attempts)
                    if attempts:
                        return delivered
                    delivered += 1
                    position = envelope["position"]
                if len(page.items) < self.batch and head > position:
                    self._skip(endpoint_id, head)  # nothing of its types up to the head
            finally:
                self._release(endpoint_id)
        except _LeaseLost:
            logger.info("webhook endpoint %s was replayed or removed meanwhile", endpoint_id)
        except Exception:  # noqa: BLE001 - one endpoint's trouble must not stop the others
            logger.exception("webhook endpoint %s: dispatch failed", endpoint_id)
        finally:
            with self._busy_lock:
                self._busy.discard(endpoint_id)
        return delivered

    def _claim(self, endpoint_id: str) -> bool:
        now = self._now()
        with self.store.transaction() as tx:
            tx.execute(f"UPDATE {ENDPOINTS} SET lease_owner = ?, lease_until = ? WHERE endpoint_id = ?"
                       " AND enabled = 1 AND next_attempt_at <= ? AND lease_until <= ?",
                       (self.owner, now + self.lease, endpoint_id, now, now))
            return tx.rowcount == 1

    def _release(self, endpoint_id: str) -> None:
        with self.store.transaction() as tx:
            tx.execute(f"UPDATE {ENDPOINTS} SET lease_until = 0, lease_owner = NULL"
                       " WHERE endpoint_id = ? AND lease_owner = ?", (endpoint_id, self.owner))

    def _update(self, tx: ViewCursor, endpoint_id: str, assignments: str, values: Sequence[Any]) -> None:
        """Change the endpoint if this dispatcher still holds its lease, else roll back."""
        tx.execute(f"UPDATE {ENDPOINTS} SET {assignments}, lease_until = ?"
                   " WHERE endpoint_id = ? AND lease_owner = ?",
                   (*values, self._now() + self.lease, endpoint_id, self.owner))
        if tx.rowcount != 1:
            raise _LeaseLost(endpoint_id)

    def _skip(self, endpoint_id: str, head: int) -> None:
        with self.store.transaction() as tx:
            self._update(tx, endpoint_id, "position = ?", (head,))

    def _deliver(self, endpoint: Endpoint, envelope: dict[str, Any], failures: int) -> int:
        """POST one event; record the attempt (and, on a 2xx, the new position) in one
        transaction. Returns the endpoint's consecutive failures (0: delivered)."""
        body = envelope_body(envelope)
        delivery_id, started_at = str(uuid4()), self.clock()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "subledger-webhooks/1",
            SIGNATURE_HEADER: sign(endpoint.secret, body, int(started_at.timestamp())),
            EVENT_ID_HEADER: envelope["event_id"],
            DELIVERY_ID_HEADER: delivery_id,
        }
        started = time.monotonic()
        status: int | None = None
        try:
            status = self.sender.post(endpoint.url, body, headers, self.timeout)
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except Exception as exc:  # noqa: BLE001 - any failure to deliver is the endpoint's
            error = f"{type(exc).__name__}: {exc}"[:500]
        duration_ms = int((time.monotonic() - started) * 1000)
        attempt = failures + 1
        failures = 0 if error is None else attempt
        with self.store.transaction() as tx:
            if error is None:
                self._update(tx, endpoint.endpoint_id,
                             "position = ?, attempts = 0, next_attempt_at = ?, last_error = NULL",
                             (envelope["position"], self._now()))
            else:
                retry_at = self._now() + self.delay(failures)
                self._update(tx, endpoint.endpoint_id,
                             "attempts = ?, next_attempt_at = ?, last_error = ?",
                             (failures, retry_at, error))
                logger.warning("webhook %s: %s for position %s (attempt %s); next try at %s",
                               endpoint.url, error, envelope["position"], attempt, _iso(retry_at))
            sequence = tx.execute(f"SELECT COALESCE(MAX(sequence), 0) + 1 FROM {DELIVERIES}"
                                  " WHERE endpoint_id = ?", (endpoint.endpoint_id,)).fetchone()[0]  # type: ignore[index]
            tx.execute(f"INSERT INTO {DELIVERIES} (endpoint_id, {_DELIVERY_COLUMNS})"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (endpoint.endpoint_id, sequence, delivery_id, envelope["position"],
                        envelope["event_id"], envelope["type"], attempt, isoformat(started_at),
                        status, error, duration_ms, "failed" if error else "delivered"))
        return failures
