"""The HTTP plumbing the fakes of PayPal, Razorpay and Authorize.net share.

A real server (``http.server.ThreadingHTTPServer`` on 127.0.0.1, a free port, in a thread),
so each adapter's SDK or HTTP client, its encoding and its error handling are exercised. A
subclass answers one request at a time in :meth:`FakeProvider.route` (under a lock, so its
state needs none of its own). Every request is recorded in :attr:`FakeProvider.requests`;
:meth:`FakeProvider.fail_next` answers the next requests with an error without executing
them, :meth:`FakeProvider.hang_next` executes them but holds the answer back (a timeout on
the client's side, after the provider did the work). Each fake has a clock of its own,
:meth:`FakeProvider.now`, which :meth:`FakeProvider.advance` moves on: what a provider
remembers for a while (an idempotency key, a duplicate window) ages by it.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


def new_id(prefix: str = "", length: int = 14, alphabet: str = string.ascii_letters + string.digits) -> str:
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8-sig")) if self.body else None


@dataclass
class Answer:
    status: int
    body: Any
    """A dict (sent as JSON), or bytes/str sent as they are."""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body).encode("utf-8")


@dataclass
class _Fault:
    kind: str  # "fail" or "hang"
    status: int = 500
    body: Any = None
    seconds: float = 0.0
    path: str | None = None
    """Only a request to this path (any, if None)."""
    when: Callable[[Recorded], bool] | None = None
    """Only a request this says yes to (any, if None)."""

    def applies(self, request: Recorded) -> bool:
        return self.path in (None, request.path) and (self.when is None or self.when(request))


class FakeProvider:
    """A provider's API on a local port; ``url`` is its base. A context manager."""

    name = "fake"

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self._clock_offset = 0.0

    # -- what a subclass provides ---------------------------------------------------------

    def route(self, request: Recorded) -> Answer:  # pragma: no cover - every fake overrides it
        raise NotImplementedError

    def server_error(self, status: int) -> Answer:
        """The body the provider sends with a 5xx (or any injected status)."""
        return Answer(status, {"error": "injected failure"})

    def captured(self) -> int:  # pragma: no cover - every fake overrides it
        """Minor units charged so far, net of nothing (refunds aside)."""
        raise NotImplementedError

    def refunded(self) -> int:  # pragma: no cover - every fake overrides it
        """Minor units refunded so far."""
        raise NotImplementedError

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> FakeProvider:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.02},
                                        name=f"fake-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases the answers held back by hang_next
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- test controls --------------------------------------------------------------------

    def fail_next(self, n: int = 1, *, status: int = 500, body: Any = None,
                  path: str | None = None, when: Callable[[Recorded], bool] | None = None) -> None:
        """Answer the next ``n`` requests (to ``path``, and that ``when`` says yes to, if
        given) with ``status`` (and ``body``, default the provider's own error body) without
        executing them."""
        with self._lock:
            self._faults.extend(_Fault("fail", status=status, body=body, path=path, when=when)
                                for _ in range(n))

    def hang_next(self, n: int = 1, *, seconds: float = 10.0, path: str | None = None,
                  when: Callable[[Recorded], bool] | None = None) -> None:
        """Execute the next ``n`` requests (to ``path``, and that ``when`` says yes to, if
        given) but answer each only after ``seconds`` (or when the server stops)."""
        with self._lock:
            self._faults.extend(_Fault("hang", seconds=seconds, path=path, when=when) for _ in range(n))

    def now(self) -> float:
        """The provider's clock (epoch seconds): the real one, moved on by :meth:`advance`."""
        return time.time() + self._clock_offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._clock_offset += seconds

    def requests_to(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]

    # -- dispatch (the handler's threads) -------------------------------------------------

    def _handle(self, request: Recorded) -> tuple[Answer, float]:
        with self._lock:
            self.requests.append(request)
            fault = next((f for f in self._faults if f.applies(request)), None)
            if fault is not None:
                self._faults.remove(fault)
            if fault is not None and fault.kind == "fail":
                if fault.body is None:
                    return self.server_error(fault.status), 0.0
                return Answer(fault.status, fault.body), 0.0
            return self.route(request), (fault.seconds if fault is not None else 0.0)


class _Handler(BaseHTTPRequestHandler):
    owner: FakeProvider
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        request = Recorded(self.command, path, dict(parse_qsl(query, keep_blank_values=True)),
                           {name.lower(): value for name, value in self.headers.items()}, body)
        answer, delay = self.owner._handle(request)
        if delay > 0:
            self.owner._stopping.wait(delay)
        payload = answer.payload()
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout under test)
