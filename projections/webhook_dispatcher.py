"""The webhook dispatcher: a projection whose output is HTTP calls.

The dispatcher delivers each endpoint's events (:mod:`.webhook_endpoints`) in position
order, one at a time, each the envelope (docs/events.md) as the body, signed
(:mod:`.webhook_signatures`).

A 2xx answer advances the endpoint's position, in the same transaction as the delivery log's
row; anything else (another status, a timeout, a refused connection) is logged, and the
endpoint waits ``base * 2**(failures-1)`` seconds (capped) before the same event is tried
again, so an endpoint's order is kept. Delivery is at least once: a dispatcher that stops
between the receiver's answer and its commit sends that event again; receivers dedupe by
``event_id`` (or by ``position``, which only grows).

An endpoint is served by one dispatcher at a time: it is claimed with a lease (an ``UPDATE``
that only succeeds when the last lease expired), so two processes never deliver the same
endpoint at once. Endpoints are served concurrently by a small thread pool, so one slow or
dead endpoint does not hold back the others. The dispatcher reads only the committed log and
never runs inside a command: commands never wait on webhooks.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol
from uuid import uuid4

from subledger.contract.messages import without_personal_data
from subledger.domain.time import isoformat
from subledger.store.log import EventLog

from .follow import Follower
from .store import ViewCursor, ViewStore
from .webhook_endpoints import (
    DELIVERIES,
    DELIVERY_COLUMNS,
    ENDPOINTS,
    Clock,
    Endpoint,
    WebhookEndpoints,
    isoformat_unix,
    system_clock,
)
from .webhook_signatures import SIGNATURE_HEADER, envelope_body, sign

# Named for the webhooks as a whole, not this module: log filters and alerts select on it.
logger = logging.getLogger("subledger.projections.webhooks")

EVENT_ID_HEADER = "Subledger-Event-Id"
DELIVERY_ID_HEADER = "Subledger-Delivery-Id"


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
        body = envelope_body(envelope if endpoint.personal_data else without_personal_data(envelope))
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
                               endpoint.url, error, envelope["position"], attempt, isoformat_unix(retry_at))
            sequence = tx.execute(f"SELECT COALESCE(MAX(sequence), 0) + 1 FROM {DELIVERIES}"
                                  " WHERE endpoint_id = ?", (endpoint.endpoint_id,)).fetchone()[0]  # type: ignore[index]
            tx.execute(f"INSERT INTO {DELIVERIES} (endpoint_id, {DELIVERY_COLUMNS})"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (endpoint.endpoint_id, sequence, delivery_id, envelope["position"],
                        envelope["event_id"], envelope["type"], attempt, isoformat(started_at),
                        status, error, duration_ms, "failed" if error else "delivered"))
        return failures
