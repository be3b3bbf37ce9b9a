"""FakeStripe's HTTP plumbing: the requests it records, the answers and faults it serves, and
the handler that reads a form-encoded request and writes Stripe's JSON answer."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from .stripe import FakeStripe


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"



@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    """Header names lower-cased."""
    params: dict[str, str]
    """The form fields as sent, nested ones flat: ``{"metadata[attempt]": "1", ...}``."""

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")

    def nested(self, name: str) -> dict[str, str]:
        """The sub-fields of ``name``: ``nested("metadata")`` -> ``{"attempt": "1", ...}``."""
        prefix = name + "["
        return {
            key[len(prefix) : -1]: value
            for key, value in self.params.items()
            if key.startswith(prefix) and key.endswith("]")
        }


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    kind: str  # "fail" or "hang"
    status: int = 500
    body: dict[str, Any] | None = None
    seconds: float = 0.0
    path: str | None = None
    """Only a POST to this path meets the fault (None: any request)."""


class Handler(BaseHTTPRequestHandler):
    owner: FakeStripe
    server_version = "FakeStripe/1.0"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8") if length else ""
        path, _, query = self.path.partition("?")
        params = dict(parse_qsl(raw or query, keep_blank_values=True))
        headers = {name.lower(): value for name, value in self.headers.items()}
        answer, delay = self.owner._handle(self.command, path, headers, params)
        if delay > 0:
            self.owner._stopping.wait(delay)
        payload = json.dumps(answer.body).encode("utf-8")
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Request-Id", new_id("req"))
            self.send_header("Stripe-Version", headers.get("stripe-version", "2025-01-01"))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout under test)
