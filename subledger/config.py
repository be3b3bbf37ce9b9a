"""The configuration: read once from the environment, validated, passed down.

No other module reads the environment. A bad value is refused at start-up with one line
naming the variable and what was expected (:class:`ConfigError`). What each variable may hold
is read by :mod:`.config_values` (the database URL by :mod:`.database_url`, e-mail by
:mod:`.mail_config`); ``Settings`` puts them together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from subledger.domain.charges import DUNNING, Dunning

from .config_values import (
    API_ROLES,
    DEFAULT_BILLING_INTERVAL,
    DEFAULT_PORTAL_TTL,
    DEFAULT_SELLER,
    DEFAULT_SETTLEMENT_DAYS,
    GATEWAY_CREDENTIALS,
    ConfigError,
    GatewayCredentials,
    parse_api_keys,
    parse_audit_seed,
    parse_billing_interval,
    parse_bootstrap,
    parse_count,
    parse_dunning,
    parse_gateway,
    parse_http_url,
    parse_key,
    parse_portal_ttl,
    parse_previous_key,
    parse_seconds,
    parse_seller,
    parse_session_secret,
    parse_settlement_days,
    parse_topic_prefix,
)
from .database_url import DEFAULT_DATABASE_URL, PostgresConfig, SQLiteConfig, parse_database_url
from .mail_config import MailSettings, parse_mail

__all__ = [
    "API_ROLES", "DEFAULT_BILLING_INTERVAL", "DEFAULT_DATABASE_URL", "DEFAULT_PORTAL_TTL", "DEFAULT_SELLER",
    "ConfigError",
    "GatewayCredentials", "PostgresConfig", "SQLiteConfig", "Settings", "parse_database_url",
]

DEFAULT_AUDIT_HEAD_EVENTS = 1000
DEFAULT_AUDIT_HEAD_SECONDS = 60


@dataclass(frozen=True)
class Settings:
    database: PostgresConfig | SQLiteConfig
    database_url: str = DEFAULT_DATABASE_URL
    kafka_bootstrap: tuple[str, ...] | None = None
    topic_prefix: str = "subledger"
    kafka_partitions: int = 3
    kafka_replication_factor: int = 1
    kafka_timeout: float = 10.0
    projector_group: str | None = None
    """The Kafka consumer group of the projector members (docs/scaling.md); when set, the
    partitioned read models are theirs and the log-following projector skips them."""
    api_keys: Mapping[str, str] = field(default_factory=dict)
    cipher_key: bytes | None = None
    """The key-encryption key that wraps every subscriber's data key (docs/privacy.md)."""
    cipher_key_previous: bytes | None = None
    """The key-encryption key being rotated away from: only unwraps (``subledger keys rotate``)."""
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
    read_wait: float = 5.0
    """Seconds a read sent with ``Subledger-Min-Position`` waits for the read models to reach
    that position before it answers 503 ``read-model-behind`` (a bound, so a stalled projector
    holds no request for long)."""
    stripe_api_key: str | None = None
    stripe_api_base: str = "https://api.stripe.com"
    stripe_webhook_secret: str | None = None
    """The signing secret of Stripe's webhook endpoint (``whsec_...``); None: Stripe's events
    are not received."""
    mail: MailSettings = field(default_factory=MailSettings)
    """E-mails to subscribers (``SUBLEDGER_SMTP_URL`` and the rest: docs/messages.md)."""
    paypal: GatewayCredentials | None = None
    paypal_webhook_id: str | None = None
    """The id of PayPal's webhook whose events this ledger receives (the listener URL's id in
    the app's settings); None: PayPal's events are not received."""
    razorpay: GatewayCredentials | None = None
    authorizenet: GatewayCredentials | None = None
    billing_interval: int = DEFAULT_BILLING_INTERVAL
    """Seconds between runs of the billing clock inside ``serve`` and ``billing follow``;
    0: off."""
    settlement_days: int = DEFAULT_SETTLEMENT_DAYS
    """Days of settlements the billing clock asks a gateway about (hourly) for payments that
    did not settle after all (``SUBLEDGER_SETTLEMENT_DAYS``); 0: it does not ask."""
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
        names.update(name for name in GATEWAY_CREDENTIALS if getattr(self, name) is not None)
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
            kafka_bootstrap=parse_bootstrap(get("SUBLEDGER_KAFKA_BOOTSTRAP")),
            topic_prefix=parse_topic_prefix(get("SUBLEDGER_TOPIC_PREFIX") or "subledger"),
            kafka_partitions=parse_count("SUBLEDGER_KAFKA_PARTITIONS",
                                          get("SUBLEDGER_KAFKA_PARTITIONS"), 3, 1000),
            kafka_replication_factor=parse_count("SUBLEDGER_KAFKA_REPLICATION_FACTOR",
                                                  get("SUBLEDGER_KAFKA_REPLICATION_FACTOR"), 1, 32),
            kafka_timeout=float(parse_count("SUBLEDGER_KAFKA_TIMEOUT",
                                             get("SUBLEDGER_KAFKA_TIMEOUT"), 10, 300)),
            projector_group=(None if get("SUBLEDGER_PROJECTOR_GROUP") is None else
                             parse_topic_prefix(get("SUBLEDGER_PROJECTOR_GROUP"), "SUBLEDGER_PROJECTOR_GROUP")),
            api_keys=parse_api_keys(get("SUBLEDGER_API_KEYS")),
            cipher_key=parse_key("SUBLEDGER_CIPHER_KEY", get("SUBLEDGER_CIPHER_KEY"), (16, 24, 32)),
            cipher_key_previous=parse_previous_key(get("SUBLEDGER_CIPHER_KEY_PREVIOUS"),
                                                    get("SUBLEDGER_CIPHER_KEY")),
            audit_key=parse_audit_seed(get("SUBLEDGER_AUDIT_KEY")),
            audit_head_events=parse_count("SUBLEDGER_AUDIT_HEAD_EVENTS", get("SUBLEDGER_AUDIT_HEAD_EVENTS"),
                                           DEFAULT_AUDIT_HEAD_EVENTS, 1_000_000),
            audit_head_seconds=parse_count("SUBLEDGER_AUDIT_HEAD_SECONDS", get("SUBLEDGER_AUDIT_HEAD_SECONDS"),
                                            DEFAULT_AUDIT_HEAD_SECONDS, 86_400),
            webhook_timeout=parse_seconds("SUBLEDGER_WEBHOOK_TIMEOUT", get("SUBLEDGER_WEBHOOK_TIMEOUT") or "10"),
            store_timeout=parse_seconds("SUBLEDGER_STORE_TIMEOUT", get("SUBLEDGER_STORE_TIMEOUT") or "2"),
            read_wait=parse_seconds("SUBLEDGER_READ_WAIT", get("SUBLEDGER_READ_WAIT") or "5"),
            stripe_api_key=get("SUBLEDGER_STRIPE_API_KEY"),
            stripe_api_base=parse_http_url(
                "SUBLEDGER_STRIPE_API_BASE", get("SUBLEDGER_STRIPE_API_BASE") or "https://api.stripe.com"
            ),
            paypal=parse_gateway("paypal", get),
            razorpay=parse_gateway("razorpay", get),
            authorizenet=parse_gateway("authorizenet", get),
            billing_interval=parse_billing_interval(get("SUBLEDGER_BILLING_INTERVAL")),
            settlement_days=parse_settlement_days(get("SUBLEDGER_SETTLEMENT_DAYS")),
            dunning=parse_dunning(get("SUBLEDGER_DUNNING")),
            seller=parse_seller(get("SUBLEDGER_SELLER")),
            stripe_webhook_secret=get("SUBLEDGER_STRIPE_WEBHOOK_SECRET"),
            paypal_webhook_id=get("SUBLEDGER_PAYPAL_WEBHOOK_ID"),
            mail=parse_mail(get),
            session_secret=parse_session_secret(get("SUBLEDGER_SESSION_SECRET")),
            portal_ttl=parse_portal_ttl(get("SUBLEDGER_PORTAL_TTL")),
        )
