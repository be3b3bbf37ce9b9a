"""A real webhook receiver for the tests: a stdlib HTTP server in a thread on a free loopback
port. It records every request, and can be told to answer 500 to the next N, to hold its
answers until released (a hung endpoint), or to be down (connections refused)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from subledger.projections.webhook_signatures import SIGNATURE_HEADER, verify_signature

T = TypeVar("T")


def eventually(check: Callable[[], T], *, timeout: float = 20.0, what: str = "a condition") -> T:
    """Poll ``check`` until it answers something true, with a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    """Header names in lower case."""
    body: bytes
    status: int
    """What the receiver answered."""

    @property
    def envelope(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]

    def verify(self, secret: str) -> int:
        return verify_signature(secret, self.headers.get(SIGNATURE_HEADER.lower()), self.body)


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.failures_to_answer = 0
        self.delay = 0.0
        """Seconds each answer takes (a slow endpoint)."""
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()
        self._open = threading.Event()
        self._open.set()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.in_flight += 1
                    receiver.most_in_flight = max(receiver.most_in_flight, receiver.in_flight)
                try:
                    receiver._open.wait(60)
                    time.sleep(receiver.delay)
                    with receiver._lock:
                        status = 500 if receiver.failures_to_answer else 204
                        receiver.failures_to_answer = max(0, receiver.failures_to_answer - 1)
                        receiver.requests.append(Received(
                            {k.lower(): v for k, v in self.headers.items()}, body, status))
                finally:
                    with receiver._lock:
                        receiver.in_flight -= 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        """Stop listening: connections are refused until :meth:`up`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def hold(self) -> None:
        """Keep every request waiting (a hung endpoint) until :meth:`release`."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def fail_next(self, count: int) -> None:
        with self._lock:
            self.failures_to_answer = count

    def delivered(self) -> list[dict[str, Any]]:
        """The envelopes answered with a 2xx, in the order they arrived."""
        with self._lock:
            return [r.envelope for r in self.requests if r.status < 300]

    def close(self) -> None:
        self.release()
        self.down()
