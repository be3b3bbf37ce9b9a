"""The configuration: read once from the environment, validated, passed down.

No other module reads the environment. A bad value is refused at start-up with one line
naming the variable and what was expected (:class:`ConfigError`).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from subledger.domain.charges import DUNNING, FINAL_ACTIONS, MAX_RETRY_DAY, Dunning
from subledger.domain.portal_session import MAX_TTL_SECONDS, MIN_TTL_SECONDS

from .mail_config import MailSettings, parse_mail

DEFAULT_DATABASE_URL = "sqlite:///./subledger.db"
API_ROLES = ("admin", "writer", "reader")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_HOSTPORT = re.compile(r"^[A-Za-z0-9.\-\[\]:]+:\d{1,5}$")
_TOPIC_PREFIX = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_DUNNING = re.compile(r"([0-9]{1,3}(?:,[0-9]{1,3})*):([a-z]+)")
DEFAULT_BILLING_INTERVAL = 60
MAX_BILLING_INTERVAL = 86_400
_SELLER_LINE = re.compile(r"^[^\x00-\x1f\x7f-\x9f|]*[^\s\x00-\x1f\x7f-\x9f|][^\x00-\x1f\x7f-\x9f|]*$")
DEFAULT_SELLER = ("subledger",)
MAX_SELLER_LINES = 8
MAX_SELLER_LINE = 100
DEFAULT_PORTAL_TTL = 3600
DEFAULT_AUDIT_HEAD_EVENTS = 1000
DEFAULT_AUDIT_HEAD_SECONDS = 60


class ConfigError(ValueError):
    """A configuration value is invalid; the message is one line for the operator."""

    def __init__(self, variable: str, expected: str) -> None:
        super().__init__(f"{variable}: expected {expected}")
        self.variable = variable


@dataclass(frozen=True)
class PostgresConfig:
    host: str
    port: int
    user: str
    password: str
    dbname: str
    schema: str | None = None

    def conninfo(self) -> str:
        """A libpq connection string (for tools and benchmarks that use psycopg directly)."""
        from psycopg.conninfo import make_conninfo

        return make_conninfo(
            host=self.host, port=self.port, user=self.user, password=self.password,
            dbname=self.dbname,
        )


@dataclass(frozen=True)
class SQLiteConfig:
    path: str


@dataclass(frozen=True)
class GatewayCredentials:
    """A payment gateway's credentials (an id and its secret) and API base."""

    id: str
    secret: str
    api_base: str


_GATEWAY_CREDENTIALS = {
    # gateway: (variable prefix, id suffix, secret suffix, default API base)
    "paypal": ("SUBLEDGER_PAYPAL", "CLIENT_ID", "CLIENT_SECRET", "https://api-m.paypal.com"),
    "razorpay": ("SUBLEDGER_RAZORPAY", "KEY_ID", "KEY_SECRET", "https://api.razorpay.com"),
    "authorizenet": ("SUBLEDGER_AUTHORIZENET", "LOGIN_ID", "TRANSACTION_KEY", "https://api.authorize.net"),
}


@dataclass(frozen=True)
class Settings:
    database: PostgresConfig | SQLiteConfig
    database_url: str = DEFAULT_DATABASE_URL
    kafka_bootstrap: tuple[str, ...] | None = None
    topic_prefix: str = "subledger"
    kafka_partitions: int = 3
    kafka_replication_factor: int = 1
    kafka_timeout: float = 10.0
    api_keys: Mapping[str, str] = field(default_factory=dict)
    cipher_key: bytes | None = None
    audit_key: bytes | None = None
    """The 32-byte Ed25519 seed that signs the Merkle tree heads (None: heads unsigned)."""
    audit_head_events: int = DEFAULT_AUDIT_HEAD_EVENTS
    audit_head_seconds: int = DEFAULT_AUDIT_HEAD_SECONDS
    """A tree head is made once this many events joined the tree since the last head, or
    this many seconds after it when any did."""
    webhook_timeout: float = 10.0
    """Seconds a webhook endpoint has to answer one delivery."""
    store_timeout: float = 2.0
    """Seconds PostgreSQL has to answer (to connect, to hand out a pooled connection, to answer
    the ping before a connection is used) before the store counts as unavailable."""
    stripe_api_key: str | None = None
    stripe_api_base: str = "https://api.stripe.com"
    stripe_webhook_secret: str | None = None
    """The signing secret of Stripe's webhook endpoint (``whsec_...``); None: Stripe's events
    are not received."""
    mail: MailSettings = field(default_factory=MailSettings)
    """E-mails to subscribers (``SUBLEDGER_SMTP_URL`` and the rest: docs/messages.md)."""
    paypal: GatewayCredentials | None = None
    razorpay: GatewayCredentials | None = None
    authorizenet: GatewayCredentials | None = None
    billing_interval: int = DEFAULT_BILLING_INTERVAL
    """Seconds between runs of the billing clock inside ``serve`` and ``billing follow``;
    0: off."""
    dunning: Dunning = DUNNING
    """How the ledger pursues a failed charge, for every charge it records."""
    seller: tuple[str, ...] = DEFAULT_SELLER
    """The seller's name, then address lines, as invoices and credit notes show them."""
    session_secret: bytes | None = None
    """What the pages sign their session cookies and the CSRF tokens of their forms with,
    and portal links and their forms' CSRF tokens too; unset: derived from the API keys
    (see ``api/sessions.py``), so every process of a deployment signs alike."""
    portal_ttl: int = DEFAULT_PORTAL_TTL
    """Seconds a portal session lasts unless its opening asks for another length."""

    @property
    def gateways(self) -> frozenset[str]:
        """The payment gateways a payment method may name."""
        names = {"sandbox"}
        if self.stripe_api_key:
            names.add("stripe")
        names.update(name for name in _GATEWAY_CREDENTIALS if getattr(self, name) is not None)
        return frozenset(names)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        def get(name: str) -> str | None:
            value = environ.get(name)
            return value if value not in (None, "") else None

        url = get("SUBLEDGER_DATABASE_URL") or DEFAULT_DATABASE_URL
        return cls(
            database=parse_database_url(url),
            database_url=url,
            kafka_bootstrap=_parse_bootstrap(get("SUBLEDGER_KAFKA_BOOTSTRAP")),
            topic_prefix=_parse_topic_prefix(get("SUBLEDGER_TOPIC_PREFIX") or "subledger"),
            kafka_partitions=_parse_count("SUBLEDGER_KAFKA_PARTITIONS",
                                          get("SUBLEDGER_KAFKA_PARTITIONS"), 3, 1000),
            kafka_replication_factor=_parse_count("SUBLEDGER_KAFKA_REPLICATION_FACTOR",
                                                  get("SUBLEDGER_KAFKA_REPLICATION_FACTOR"), 1, 32),
            kafka_timeout=float(_parse_count("SUBLEDGER_KAFKA_TIMEOUT",
                                             get("SUBLEDGER_KAFKA_TIMEOUT"), 10, 300)),
            api_keys=_parse_api_keys(get("SUBLEDGER_API_KEYS")),
            cipher_key=_parse_key("SUBLEDGER_CIPHER_KEY", get("SUBLEDGER_CIPHER_KEY"), (16, 24, 32)),
            audit_key=_parse_audit_key(get("SUBLEDGER_AUDIT_KEY")),
            audit_head_events=_parse_count("SUBLEDGER_AUDIT_HEAD_EVENTS", get("SUBLEDGER_AUDIT_HEAD_EVENTS"),
                                           DEFAULT_AUDIT_HEAD_EVENTS, 1_000_000),
            audit_head_seconds=_parse_count("SUBLEDGER_AUDIT_HEAD_SECONDS", get("SUBLEDGER_AUDIT_HEAD_SECONDS"),
                                            DEFAULT_AUDIT_HEAD_SECONDS, 86_400),
            webhook_timeout=_parse_seconds("SUBLEDGER_WEBHOOK_TIMEOUT", get("SUBLEDGER_WEBHOOK_TIMEOUT") or "10"),
            store_timeout=_parse_seconds("SUBLEDGER_STORE_TIMEOUT", get("SUBLEDGER_STORE_TIMEOUT") or "2"),
            stripe_api_key=get("SUBLEDGER_STRIPE_API_KEY"),
            stripe_api_base=_parse_http_url(
                "SUBLEDGER_STRIPE_API_BASE", get("SUBLEDGER_STRIPE_API_BASE") or "https://api.stripe.com"
            ),
            paypal=_parse_gateway("paypal", get),
            razorpay=_parse_gateway("razorpay", get),
            authorizenet=_parse_gateway("authorizenet", get),
            billing_interval=_parse_billing_interval(get("SUBLEDGER_BILLING_INTERVAL")),
            dunning=_parse_dunning(get("SUBLEDGER_DUNNING")),
            seller=_parse_seller(get("SUBLEDGER_SELLER")),
            stripe_webhook_secret=get("SUBLEDGER_STRIPE_WEBHOOK_SECRET"),
            mail=parse_mail(get),
            session_secret=_parse_session_secret(get("SUBLEDGER_SESSION_SECRET")),
            portal_ttl=_parse_portal_ttl(get("SUBLEDGER_PORTAL_TTL")),
        )


def parse_database_url(url: str) -> PostgresConfig | SQLiteConfig:
    var = "SUBLEDGER_DATABASE_URL"
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if not path or path.endswith("/"):
            raise ConfigError(var, "sqlite:///relative/path.db or sqlite:////absolute/path.db")
        return SQLiteConfig(path=str(Path(path)))
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConfigError(
            var, "postgresql://user:pass@host:port/db or sqlite:///path (got scheme "
            f"{parts.scheme or 'none'!r})"
        )
    dbname = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not dbname or not parts.username:
        raise ConfigError(var, "postgresql://user:pass@host:port/db with a user, host and database")
    try:
        port = 5432 if parts.port is None else parts.port
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise ConfigError(var, "a port from 1 to 65535 in postgresql://user:pass@host:port/db")
    query = parse_qs(parts.query)
    unknown = set(query) - {"schema"}
    if unknown:
        raise ConfigError(var, f"only the 'schema' query parameter (got {', '.join(sorted(unknown))})")
    schema = query.get("schema", [None])[-1]
    if schema is not None and not _IDENT.match(schema):
        raise ConfigError(var, "a schema name of letters, digits and '_'")
    return PostgresConfig(
        host=parts.hostname,
        port=port,
        user=unquote(parts.username),
        password=unquote(parts.password or ""),
        dbname=dbname,
        schema=schema,
    )


def _parse_bootstrap(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    servers = tuple(s.strip() for s in value.split(","))
    if not all(_HOSTPORT.match(s) and 0 < int(s.rsplit(":", 1)[1]) < 65536 for s in servers):
        raise ConfigError("SUBLEDGER_KAFKA_BOOTSTRAP", "host:port[,host:port]")
    return servers


def _parse_topic_prefix(value: str) -> str:
    if not _TOPIC_PREFIX.match(value):
        raise ConfigError("SUBLEDGER_TOPIC_PREFIX", "1-100 characters of letters, digits, '.', '_', '-'")
    return value


def _parse_count(variable: str, value: str | None, default: int, most: int) -> int:
    if value is None:
        return default
    if not value.isdigit() or not 1 <= int(value) <= most:
        raise ConfigError(variable, f"an integer from 1 to {most}")
    return int(value)


def _parse_api_keys(value: str | None) -> dict[str, str]:
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


def _parse_key(variable: str, value: str | None, sizes: tuple[int, ...] | None) -> bytes | None:
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


def _parse_audit_key(value: str | None) -> bytes | None:
    from .audit_key import EXPECTED, parse_audit_key

    if value is None:
        return None
    seed = parse_audit_key(value)
    if seed is None:
        raise ConfigError("SUBLEDGER_AUDIT_KEY", EXPECTED)
    return seed


def _parse_seconds(variable: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0.1 <= seconds <= 300:
        raise ConfigError(variable, "a number of seconds from 0.1 to 300")
    return seconds


def _parse_http_url(variable: str, value: str, example: str = "https://api.stripe.com") -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(variable, f"an http(s) base URL such as {example}")
    return value.rstrip("/")


def _parse_gateway(gateway: str, get: Callable[[str], str | None]) -> GatewayCredentials | None:
    """A gateway is on when its id and secret are both set; one without the other is refused."""
    prefix, id_name, secret_name, default_base = _GATEWAY_CREDENTIALS[gateway]
    id_var, secret_var, base_var = (f"{prefix}_{id_name}", f"{prefix}_{secret_name}",
                                    f"{prefix}_API_BASE")
    ident, secret = get(id_var), get(secret_var)
    if ident is None and secret is None:
        return None
    if ident is None or secret is None or not ident.strip() or not secret.strip():
        missing = id_var if ident is None or not ident.strip() else secret_var
        raise ConfigError(missing, f"a value: {id_var} and {secret_var} turn the {gateway} "
                                   "gateway on together")
    base = _parse_http_url(base_var, get(base_var) or default_base, default_base)
    return GatewayCredentials(ident.strip(), secret.strip(), base)


def _parse_billing_interval(value: str | None) -> int:
    if value is None:
        return DEFAULT_BILLING_INTERVAL
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_BILLING_INTERVAL:
        raise ConfigError("SUBLEDGER_BILLING_INTERVAL",
                          f"a whole number of seconds from 0 (off) to {MAX_BILLING_INTERVAL}")
    return int(value)


def _parse_dunning(value: str | None) -> Dunning:
    if value is None:
        return DUNNING
    expected = (f"retry days increasing from 1 to {MAX_RETRY_DAY}, comma-separated, then"
                f" {' or '.join(':' + action for action in FINAL_ACTIONS)}"
                f" (e.g. 3,5,7:cancel)")
    match = _DUNNING.fullmatch(value.replace(" ", ""))
    if match is None:
        raise ConfigError("SUBLEDGER_DUNNING", expected)
    try:
        # The policy's own rule decides what is valid; this only reads its notation.
        return Dunning(tuple(int(day) for day in match[1].split(",")), match[2])
    except ValueError:
        raise ConfigError("SUBLEDGER_DUNNING", expected) from None
def _parse_seller(value: str | None) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_SELLER
    lines = tuple(line.strip() for line in value.split("|"))
    if len(lines) > MAX_SELLER_LINES or not all(
        _SELLER_LINE.match(line) and len(line) <= MAX_SELLER_LINE for line in lines
    ):
        raise ConfigError(
            "SUBLEDGER_SELLER", f"the seller's name and address lines separated by '|' (at most"
            f" {MAX_SELLER_LINES} lines of 1 to {MAX_SELLER_LINE} characters, no control characters)"
        )
    return lines


MIN_SESSION_SECRET = 32


def _parse_session_secret(value: str | None) -> bytes | None:
    if value is None:
        return None
    if len(value) < MIN_SESSION_SECRET or not value.isascii() or not value.isprintable():
        raise ConfigError("SUBLEDGER_SESSION_SECRET",
                          f"at least {MIN_SESSION_SECRET} printable ASCII characters")
    return value.encode()


def _parse_portal_ttl(value: str | None) -> int:
    if value is None:
        return DEFAULT_PORTAL_TTL
    if not (value.isascii() and value.isdigit()) or not MIN_TTL_SECONDS <= int(value) <= MAX_TTL_SECONDS:
        raise ConfigError("SUBLEDGER_PORTAL_TTL",
                          f"a whole number of seconds from {MIN_TTL_SECONDS} to {MAX_TTL_SECONDS}")
    return int(value)
