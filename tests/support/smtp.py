"""A real SMTP server for the e-mail tests: aiosmtpd on a free loopback port, in its own
thread. It keeps every message it accepted, parsed, and can be told to answer the next
messages with an error instead (``451``: try later; ``550``: refused for good)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from support.live import free_port


@dataclass(frozen=True)
class Delivered:
    mail_from: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        return "" if body is None else str(body.get_content())

    def attachments(self) -> list[tuple[str, bytes]]:
        return [(part.get_filename() or "", part.get_content())
                for part in self.message.iter_attachments()]


class _Handler:
    def __init__(self) -> None:
        self.delivered: list[Delivered] = []
        self.answers: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            if self.answers:
                return self.answers.pop(0)
            message = message_from_bytes(envelope.content, policy=policy.default)
            self.delivered.append(Delivered(envelope.mail_from, list(envelope.rcpt_tos),
                                            message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self._handler = _Handler()
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def delivered(self) -> list[Delivered]:
        with self._handler.lock:
            return list(self._handler.delivered)

    def answer_next(self, *answers: str) -> None:
        """Answer the next messages with these replies (e.g. ``451 4.3.0 later``)."""
        with self._handler.lock:
            self._handler.answers.extend(answers)

    def close(self) -> None:
        self._controller.stop()
