"""What each environment variable may hold: one reader per variable (or family of
variables), each refusing a bad value with :class:`ConfigError`, one line naming the variable
and what was expected. :mod:`subledger.config` assembles them into ``Settings``."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from subledger.domain.charges import DUNNING, FINAL_ACTIONS, MAX_RETRY_DAY, Dunning
from subledger.domain.portal_session import MAX_TTL_SECONDS, MIN_TTL_SECONDS

API_ROLES = ("admin", "writer", "reader")
HOSTPORT = re.compile(r"^[A-Za-z0-9.\-\[\]:]+:\d{1,5}$")
TOPIC_PREFIX_FORM = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
DUNNING_NOTATION = re.compile(r"([0-9]{1,3}(?:,[0-9]{1,3})*):([a-z_]+)")
DEFAULT_BILLING_INTERVAL = 60
MAX_BILLING_INTERVAL = 86_400
DEFAULT_SETTLEMENT_DAYS = 62
"""ACH's window for an unauthorized return (60 days), and two to spare."""
MAX_SETTLEMENT_DAYS = 365
SELLER_LINE = re.compile(r"^[^\x00-\x1f\x7f-\x9f|]*[^\s\x00-\x1f\x7f-\x9f|][^\x00-\x1f\x7f-\x9f|]*$")
DEFAULT_SELLER = ("subledger",)
MAX_SELLER_LINES = 8
MAX_SELLER_LINE = 100
MIN_SESSION_SECRET = 32
DEFAULT_PORTAL_TTL = 3600


class ConfigError(ValueError):
    """A configuration value is invalid; the message is one line for the operator."""

    def __init__(self, variable: str, expected: str) -> None:
        super().__init__(f"{variable}: expected {expected}")
        self.variable = variable


@dataclass(frozen=True)
class GatewayCredentials:
    """A payment gateway's credentials (an id and its secret) and API base."""

    id: str
    secret: str
    api_base: str


GATEWAY_CREDENTIALS = {
    # gateway: (variable prefix, id suffix, secret suffix, default API base)
    "paypal": ("SUBLEDGER_PAYPAL", "CLIENT_ID", "CLIENT_SECRET", "https://api-m.paypal.com"),
    "razorpay": ("SUBLEDGER_RAZORPAY", "KEY_ID", "KEY_SECRET", "https://api.razorpay.com"),
    "authorizenet": ("SUBLEDGER_AUTHORIZENET", "LOGIN_ID", "TRANSACTION_KEY", "https://api.authorize.net"),
}


def parse_bootstrap(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    servers = tuple(s.strip() for s in value.split(","))
    if not all(HOSTPORT.match(s) and 0 < int(s.rsplit(":", 1)[1]) < 65536 for s in servers):
        raise ConfigError("SUBLEDGER_KAFKA_BOOTSTRAP", "host:port[,host:port]")
    return servers


def parse_topic_prefix(value: str, variable: str = "SUBLEDGER_TOPIC_PREFIX") -> str:
    """A topic prefix, or a consumer group's name (the same form)."""
    if not TOPIC_PREFIX_FORM.match(value):
        raise ConfigError(variable, "1-100 characters of letters, digits, '.', '_', '-'")
    return value


def parse_count(variable: str, value: str | None, default: int, most: int) -> int:
    if value is None:
        return default
    if not value.isdigit() or not 1 <= int(value) <= most:
        raise ConfigError(variable, f"an integer from 1 to {most}")
    return int(value)


def parse_api_keys(value: str | None) -> dict[str, str]:
    if value is None:
        return {}
    keys: dict[str, str] = {}
    for entry in value.split(","):
        key, sep, role = entry.strip().partition(":")
        if not sep or not key or role not in API_ROLES or key in keys:
            raise ConfigError(
                "SUBLEDGER_API_KEYS", f"key:role[,key:role] with distinct keys and roles in {', '.join(API_ROLES)}"
            )
        keys[key] = role
    return keys


def parse_key(variable: str, value: str | None, sizes: tuple[int, ...] | None) -> bytes | None:
    if value is None:
        return None
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not key or (sizes is not None and len(key) not in sizes):
        size_text = "" if sizes is None else f" of {', '.join(map(str, sizes))} bytes"
        raise ConfigError(variable, f"a base64 key{size_text}")
    return key


def parse_previous_key(value: str | None, current: str | None) -> bytes | None:
    variable = "SUBLEDGER_CIPHER_KEY_PREVIOUS"
    if value is not None and current is None:
        raise ConfigError(variable, "SUBLEDGER_CIPHER_KEY set too (the key rotated to)")
    return parse_key(variable, value, (16, 24, 32))


def parse_audit_seed(value: str | None) -> bytes | None:
    from .audit_key import EXPECTED, parse_audit_key

    if value is None:
        return None
    seed = parse_audit_key(value)
    if seed is None:
        raise ConfigError("SUBLEDGER_AUDIT_KEY", EXPECTED)
    return seed


def parse_seconds(variable: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0.1 <= seconds <= 300:
        raise ConfigError(variable, "a number of seconds from 0.1 to 300")
    return seconds


def parse_http_url(variable: str, value: str, example: str = "https://api.stripe.com") -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(variable, f"an http(s) base URL such as {example}")
    return value.rstrip("/")


def parse_gateway(gateway: str, get: Callable[[str], str | None]) -> GatewayCredentials | None:
    """A gateway is on when its id and secret are both set; one without the other is refused."""
    prefix, id_name, secret_name, default_base = GATEWAY_CREDENTIALS[gateway]
    id_var, secret_var, base_var = (f"{prefix}_{id_name}", f"{prefix}_{secret_name}",
                                    f"{prefix}_API_BASE")
    ident, secret = get(id_var), get(secret_var)
    if ident is None and secret is None:
        return None
    if ident is None or secret is None or not ident.strip() or not secret.strip():
        missing = id_var if ident is None or not ident.strip() else secret_var
        raise ConfigError(missing, f"a value: {id_var} and {secret_var} turn the {gateway} "
                                   "gateway on together")
    base = parse_http_url(base_var, get(base_var) or default_base, default_base)
    return GatewayCredentials(ident.strip(), secret.strip(), base)


def parse_billing_interval(value: str | None) -> int:
    if value is None:
        return DEFAULT_BILLING_INTERVAL
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_BILLING_INTERVAL:
        raise ConfigError("SUBLEDGER_BILLING_INTERVAL",
                          f"a whole number of seconds from 0 (off) to {MAX_BILLING_INTERVAL}")
    return int(value)


def parse_settlement_days(value: str | None) -> int:
    if value is None:
        return DEFAULT_SETTLEMENT_DAYS
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_SETTLEMENT_DAYS:
        raise ConfigError("SUBLEDGER_SETTLEMENT_DAYS",
                          f"a whole number of days from 0 (off) to {MAX_SETTLEMENT_DAYS}")
    return int(value)


def parse_dunning(value: str | None) -> Dunning:
    if value is None:
        return DUNNING
    expected = (f"retry days increasing from 1 to {MAX_RETRY_DAY}, comma-separated, then"
                f" {' or '.join(':' + action for action in FINAL_ACTIONS)}"
                f" (e.g. 3,5,7:cancel)")
    match = DUNNING_NOTATION.fullmatch(value.replace(" ", ""))
    if match is None:
        raise ConfigError("SUBLEDGER_DUNNING", expected)
    try:
        # The policy's own rule decides what is valid; this only reads its notation.
        return Dunning(tuple(int(day) for day in match[1].split(",")), match[2])
    except ValueError:
        raise ConfigError("SUBLEDGER_DUNNING", expected) from None


def parse_seller(value: str | None) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_SELLER
    lines = tuple(line.strip() for line in value.split("|"))
    if len(lines) > MAX_SELLER_LINES or not all(
        SELLER_LINE.match(line) and len(line) <= MAX_SELLER_LINE for line in lines
    ):
        raise ConfigError(
            "SUBLEDGER_SELLER", f"the seller's name and address lines separated by '|' (at most"
            f" {MAX_SELLER_LINES} lines of 1 to {MAX_SELLER_LINE} characters, no control characters)"
        )
    return lines


def parse_session_secret(value: str | None) -> bytes | None:
    if value is None:
        return None
    if len(value) < MIN_SESSION_SECRET or not value.isascii() or not value.isprintable():
        raise ConfigError("SUBLEDGER_SESSION_SECRET",
                          f"at least {MIN_SESSION_SECRET} printable ASCII characters")
    return value.encode()


def parse_portal_ttl(value: str | None) -> int:
    if value is None:
        return DEFAULT_PORTAL_TTL
    if not (value.isascii() and value.isdigit()) or not MIN_TTL_SECONDS <= int(value) <= MAX_TTL_SECONDS:
        raise ConfigError("SUBLEDGER_PORTAL_TTL",
                          f"a whole number of seconds from {MIN_TTL_SECONDS} to {MAX_TTL_SECONDS}")
    return int(value)
