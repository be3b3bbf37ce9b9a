"""Sending a message through SMTP (the standard library's ``smtplib``), behind one small
interface so the worker does not know the protocol.

A refusal for good (a 5xx answer: no such mailbox, message rejected) is
:class:`MailRefused`; anything that may pass later (a 4xx answer, a refused or broken
connection, a timeout) is :class:`MailUnavailable`, and the worker tries again later.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Protocol

from subledger.mail_config import SmtpConfig


class MailRefused(Exception):
    """The server refused the message for good: sending it again would not help."""


class MailUnavailable(Exception):
    """The message could not be handed over now; it may be later."""


class MailSender(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` to the mail server, or raise :class:`MailRefused` or
        :class:`MailUnavailable`."""
        ...


class SmtpSender:
    """:class:`MailSender` over SMTP: one connection per message (``smtps://``: TLS from the
    first byte, certificates checked), with a login when the URL has a user."""

    def __init__(self, config: SmtpConfig, timeout: float = 30.0) -> None:
        self.config = config
        self.timeout = timeout

    def _connect(self) -> smtplib.SMTP:
        if self.config.tls:
            return smtplib.SMTP_SSL(self.config.host, self.config.port, timeout=self.timeout,
                                    context=ssl.create_default_context())
        return smtplib.SMTP(self.config.host, self.config.port, timeout=self.timeout)

    def send(self, message: EmailMessage) -> None:
        try:
            with self._connect() as smtp:
                if self.config.user:
                    smtp.login(self.config.user, self.config.password or "")
                smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as error:
            # The configuration's, not the message's: every message waits until it is fixed.
            raise MailUnavailable(f"SMTP login refused ({error.smtp_code})") from None
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise (MailRefused if all(c >= 500 for c in codes) else MailUnavailable)(
                f"recipient refused: {error.recipients}") from None
        except smtplib.SMTPResponseException as error:
            text = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) \
                else str(error.smtp_error)
            kind = MailRefused if 500 <= error.smtp_code < 600 else MailUnavailable
            raise kind(f"SMTP {error.smtp_code}: {text}") from None
        except (smtplib.SMTPException, OSError) as error:
            raise MailUnavailable(f"{type(error).__name__}: {error}") from None
