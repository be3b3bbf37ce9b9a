"""The e-mail part of the configuration: the SMTP server, the sender, and the timing of the
messages that wait for a date (docs/messages.md). Read by :mod:`.config`, validated once."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from .config_values import ConfigError

DEFAULT_FROM = "subledger <billing@localhost>"
DEFAULT_RENEWAL_DAYS = 7
DEFAULT_WINBACK_DAYS = 30
MAX_DAYS = 365
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
_NAMED = re.compile(r"^([^<>\x00-\x1f]*)<([^@\s<>]+@[^@\s<>]+)>$")
_COUPON = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    tls: bool
    """``smtps://``: TLS from the first byte (port 465 by default); ``smtp://``: plain."""
    user: str | None = None
    password: str | None = None


@dataclass(frozen=True)
class MailSettings:
    smtp: SmtpConfig | None = None
    """None: no e-mails are sent (the mail worker does not run)."""
    sender: str = DEFAULT_FROM
    """The From of every message: ``name <address>`` or an address."""
    renewal_days: int = DEFAULT_RENEWAL_DAYS
    """Days before a renewal that the reminder is sent; 0: no reminder."""
    winback_coupon: str | None = None
    """The coupon a win-back offer gives; None: no win-back offer."""
    winback_days: int = DEFAULT_WINBACK_DAYS
    """Days after a voluntary cancellation that the win-back offer is sent."""


def parse_mail(get: Callable[[str], str | None]) -> MailSettings:
    return MailSettings(
        smtp=parse_smtp_url(get("SUBLEDGER_SMTP_URL")),
        sender=_parse_sender(get("SUBLEDGER_MAIL_FROM")),
        renewal_days=_days("SUBLEDGER_RENEWAL_REMINDER_DAYS", get("SUBLEDGER_RENEWAL_REMINDER_DAYS"),
                           DEFAULT_RENEWAL_DAYS, least=0),
        winback_coupon=_coupon(get("SUBLEDGER_WINBACK_COUPON")),
        winback_days=_days("SUBLEDGER_WINBACK_DAYS", get("SUBLEDGER_WINBACK_DAYS"),
                           DEFAULT_WINBACK_DAYS, least=1),
    )


def parse_smtp_url(value: str | None) -> SmtpConfig | None:
    if value is None:
        return None
    expected = "smtp://[user:pass@]host[:port] or smtps://[user:pass@]host[:port]"
    parts = urlsplit(value)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname or parts.path not in ("", "/") \
            or parts.query or parts.fragment:
        raise ConfigError("SUBLEDGER_SMTP_URL", expected)
    try:
        port = parts.port
    except ValueError:
        raise ConfigError("SUBLEDGER_SMTP_URL", expected) from None
    tls = parts.scheme == "smtps"
    return SmtpConfig(
        host=parts.hostname, port=port or (465 if tls else 25), tls=tls,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None)


def _parse_sender(value: str | None) -> str:
    if value is None:
        return DEFAULT_FROM
    value = value.strip()
    if not (_ADDRESS.match(value) or _NAMED.match(value)):
        raise ConfigError("SUBLEDGER_MAIL_FROM", "an e-mail address, or 'Name <address>'")
    return value


def _days(variable: str, value: str | None, default: int, *, least: int) -> int:
    if value is None:
        return default
    if not (value.isascii() and value.isdigit()) or not least <= int(value) <= MAX_DAYS:
        raise ConfigError(variable, f"a whole number of days from {least} to {MAX_DAYS}")
    return int(value)


def _coupon(value: str | None) -> str | None:
    if value is not None and not _COUPON.match(value):
        raise ConfigError("SUBLEDGER_WINBACK_COUPON", "a coupon id (letters, digits, '.', '_', '-')")
    return value
