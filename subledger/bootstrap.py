"""The composition root: builds the configured ledger (and API) for every entry point.

The API, the CLI, the workers, the tests and the benchmarks all call these functions;
nothing is created at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from subledger.commands.gateways import PaymentGateway
from subledger.commands.gateways.sandbox import SandboxGateway
from subledger.commands.ledger import Ledger
from subledger.commands.store import Clock, system_clock

from .config import PostgresConfig, Settings, SQLiteConfig
from .store.data_keys import KeyRing
from .store.postgres import STORE_TIMEOUT

if TYPE_CHECKING:
    from fastapi import FastAPI

    from subledger.messages.worker import MailWorker
    from subledger.projections.audit_follower import MerkleFollower
    from subledger.projections.audit_publisher import HeadPublisher
    from subledger.projections.group_member import GroupMember
    from subledger.projections.relay import Relay
    from subledger.projections.runner import ProjectionRunner, ReadModel
    from subledger.projections.webhook_dispatcher import WebhookDispatcher

_RECORDERS = "subledger.store.recorders"


def ledger_env(settings: Settings) -> dict[str, str]:
    """The ``eventsourcing`` environment for the configured store."""
    db = settings.database
    if isinstance(db, PostgresConfig):
        env = {
            "PERSISTENCE_MODULE": "subledger.store.postgres:LedgerPostgresFactory",
            "APPLICATION_RECORDER_TOPIC": f"{_RECORDERS}:LedgerPostgresRecorder",
            "POSTGRES_DBNAME": db.dbname,
            "POSTGRES_HOST": db.host,
            "POSTGRES_PORT": str(db.port),
            "POSTGRES_USER": db.user,
            "POSTGRES_PASSWORD": db.password,
            "POSTGRES_POOL_SIZE": "10",
            "POSTGRES_MAX_OVERFLOW": "20",
            STORE_TIMEOUT: str(settings.store_timeout),
            "POSTGRES_LOCK_TIMEOUT": "10",
            # Never POSTGRES_ENABLE_DB_FUNCTIONS: its insert skips the table lock that keeps
            # positions visible in order for readers following the log.
        }
        if db.schema:
            env["POSTGRES_SCHEMA"] = db.schema
        return env
    assert isinstance(db, SQLiteConfig)
    Path(db.path).parent.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "APPLICATION_RECORDER_TOPIC": f"{_RECORDERS}:LedgerSQLiteRecorder",
        "SQLITE_DBNAME": db.path,
        "SQLITE_LOCK_TIMEOUT": "10",
    }


def build_ledger(settings: Settings, *, clock: Clock = system_clock) -> Ledger:
    """The ledger application on the configured store (tables are created if missing),
    pursuing failed charges by the configured dunning policy."""
    return Ledger(ledger_env(settings), gateways=build_gateways(settings), clock=clock,
                  dunning=settings.dunning, keys=key_ring(settings))


def key_ring(settings: Settings) -> KeyRing | None:
    """The key-encryption keys of ``SUBLEDGER_CIPHER_KEY`` (and ``_PREVIOUS``), if set."""
    if settings.cipher_key is None:
        return None
    return KeyRing(settings.cipher_key, settings.cipher_key_previous)


def build_gateways(settings: Settings) -> dict[str, PaymentGateway]:
    """The configured payment gateways: the sandbox always, each other one when it has its
    credentials."""
    gateways: dict[str, PaymentGateway] = {"sandbox": SandboxGateway()}
    if settings.stripe_api_key:
        from subledger.commands.gateways.stripe import StripeGateway

        gateways["stripe"] = StripeGateway(settings.stripe_api_key, api_base=settings.stripe_api_base)
    if settings.paypal is not None:
        from subledger.commands.gateways.paypal import PayPalGateway

        gateways["paypal"] = PayPalGateway(settings.paypal.id, settings.paypal.secret,
                                           api_base=settings.paypal.api_base)
    if settings.razorpay is not None:
        from subledger.commands.gateways.razorpay import RazorpayGateway

        gateways["razorpay"] = RazorpayGateway(settings.razorpay.id, settings.razorpay.secret,
                                               api_base=settings.razorpay.api_base)
    if settings.authorizenet is not None:
        from subledger.commands.gateways.authorizenet import AuthorizeNetGateway

        gateways["authorizenet"] = AuthorizeNetGateway(
            settings.authorizenet.id, settings.authorizenet.secret,
            api_base=settings.authorizenet.api_base)
    return gateways


def build_projector(settings: Settings, ledger: Ledger) -> ProjectionRunner:
    """The projection runner with every read model, over the ledger's log (but those of
    the projector members, when ``SUBLEDGER_PROJECTOR_GROUP`` names their group)."""
    from subledger.projections.group_member import PARTITIONED
    from subledger.projections.runner import ProjectionRunner
    from subledger.projections.store import ViewStore

    models = [m for m in read_models(ledger)
              if settings.projector_group is None or m.name not in PARTITIONED]
    return ProjectionRunner(ledger.event_log, ViewStore(settings), models)


def build_group_member(settings: Settings, ledger: Ledger, *,
                       session_timeout_ms: int = 10_000, max_records: int = 2000) -> GroupMember:
    """A projector member of ``SUBLEDGER_PROJECTOR_GROUP`` over ``<prefix>.events`` (needs
    ``SUBLEDGER_KAFKA_BOOTSTRAP`` too), building the partitioned read models."""
    from subledger.projections.group_member import PARTITIONED, GroupMember, kafka_consumer
    from subledger.projections.store import ViewStore

    if not settings.kafka_bootstrap or not settings.projector_group:
        raise ValueError("SUBLEDGER_KAFKA_BOOTSTRAP and SUBLEDGER_PROJECTOR_GROUP must be set"
                         " for a projector member")
    prefix, group = settings.topic_prefix, settings.projector_group
    consumer = kafka_consumer(settings.kafka_bootstrap, f"{prefix}.events", group,
                              session_timeout_ms=session_timeout_ms)
    return GroupMember(ViewStore(settings), [m for m in read_models(ledger) if m.name in PARTITIONED],
                       group=group, prefix=prefix, consumer=consumer, max_records=max_records)


def build_relay(settings: Settings, ledger: Ledger) -> Relay:
    """The Kafka relay over the ledger's log and read models (needs
    ``SUBLEDGER_KAFKA_BOOTSTRAP``)."""
    from subledger.projections.kafka_publisher import KafkaPublisher, topic_specs
    from subledger.projections.relay import Relay
    from subledger.projections.store import ViewStore

    if not settings.kafka_bootstrap:
        raise ValueError("SUBLEDGER_KAFKA_BOOTSTRAP is not set: there is no broker to relay to")
    return Relay(
        ledger.event_log, ViewStore(settings), KafkaPublisher(settings.kafka_bootstrap, timeout=settings.kafka_timeout),
        prefix=settings.topic_prefix,
        topics=topic_specs(settings.topic_prefix, settings.kafka_partitions,
                           settings.kafka_replication_factor),
    )


def build_webhooks(settings: Settings, ledger: Ledger) -> WebhookDispatcher:
    """The webhook dispatcher over the ledger's log, with its own connection to the views'
    database. A claim on an endpoint outlives three HTTP timeouts, so a dispatcher that died
    leaves its endpoints to the others soon after."""
    from subledger.projections.store import ViewStore
    from subledger.projections.webhook_dispatcher import UrllibSender, WebhookDispatcher

    timeout = settings.webhook_timeout
    return WebhookDispatcher(ledger.event_log, ViewStore(settings), UrllibSender(),
                             timeout=timeout, lease=3 * timeout + 1)


def build_mail(settings: Settings, ledger: Ledger) -> MailWorker:
    """The mail worker over the ledger's log, sending through ``SUBLEDGER_SMTP_URL`` (which
    must be set), with its own connection to the views' database."""
    from subledger.messages.smtp import SmtpSender
    from subledger.messages.worker import MailWorker
    from subledger.projections.store import ViewStore

    if settings.mail.smtp is None:
        raise ValueError("SUBLEDGER_SMTP_URL is not set: there is no mail server to send to")
    return MailWorker(ledger, ViewStore(settings), SmtpSender(settings.mail.smtp), settings.mail,
                      settings.seller)


def build_merkle_follower(settings: Settings, ledger: Ledger) -> MerkleFollower:
    """The Merkle follower over the ledger's log, with its own connection to the views'
    database, signing heads with ``SUBLEDGER_AUDIT_KEY`` (unsigned without one)."""
    from subledger.audit.heads import HeadSigner
    from subledger.projections.audit_follower import MerkleFollower
    from subledger.projections.store import ViewStore

    signer = None if settings.audit_key is None else HeadSigner(settings.audit_key)
    return MerkleFollower(ledger.event_log, ViewStore(settings), signer,
                          head_events=settings.audit_head_events,
                          head_seconds=settings.audit_head_seconds)


def build_head_publisher(settings: Settings) -> HeadPublisher:
    """The tree heads' publisher to ``<prefix>.audit`` (needs ``SUBLEDGER_KAFKA_BOOTSTRAP``)."""
    from subledger.projections.audit_publisher import HeadPublisher
    from subledger.projections.kafka_publisher import KafkaPublisher
    from subledger.projections.store import ViewStore

    if not settings.kafka_bootstrap:
        raise ValueError("SUBLEDGER_KAFKA_BOOTSTRAP is not set: there is no broker to publish to")
    return HeadPublisher(ViewStore(settings), KafkaPublisher(
        settings.kafka_bootstrap, timeout=settings.kafka_timeout, client_id="subledger-audit"),
        prefix=settings.topic_prefix, replication_factor=settings.kafka_replication_factor)


def read_models(ledger: Ledger) -> list[ReadModel]:
    """Every read model, in the order the runner applies them."""
    from subledger.projections.invoices import InvoicesModel
    from subledger.projections.mrr import MrrModel, history_reader
    from subledger.projections.revenue import RevenueModel
    from subledger.projections.subscriptions import SubscriptionsModel

    history = history_reader(ledger.event_log)
    return [SubscriptionsModel(), MrrModel(history), RevenueModel(history), InvoicesModel()]


def build_api(
    settings: Settings, *, ledger: Ledger | None = None, projector: ProjectionRunner | None = None,
) -> FastAPI:
    """The HTTP API over a ledger (built from ``settings`` unless given); ``/readyz``
    reports the lag of ``projector``'s read models when one is given."""
    from subledger.api.app import create_app
    from subledger.projections.audit_tree import create_tables
    from subledger.projections.store import ViewStore

    ledger = ledger if ledger is not None else build_ledger(settings)
    views = ViewStore(settings)  # the reports' own connection
    # A model stored in an older form is the projector's to drop and rebuild: creating its
    # new indexes on the old table would fail.
    models = [m for m in read_models(ledger)
              if (stored := views.checkpoint(m.name)) is None or stored[1] == m.version]
    with views.creating_tables() as tx:
        for model in models:
            model.create(tx)
    create_tables(views)  # the Merkle tree's, so /audit/* answer before a follower ran
    # The models a read waits on (Subledger-Min-Position): those the log-following projector
    # builds and the Merkle tree; the projector members' checkpoints count Kafka offsets, not
    # positions of the log.
    from subledger.projections.audit_tree import CHECKPOINT as TREE
    from subledger.projections.group_member import PARTITIONED

    followed = [m.name for m in read_models(ledger)
                if settings.projector_group is None or m.name not in PARTITIONED] + [TREE]
    if projector is None:
        return create_app(settings, ledger, views=views, read_models=followed)
    return create_app(settings, ledger, views=views, projection_lag=projector.lag,
                      read_models=followed)


class StoreUnavailable(Exception):
    """The configured event store could not be opened (the reason in one line)."""


def open_ledger(settings: Settings, *, existing: bool = False) -> Ledger:
    """:func:`build_ledger`, with any failure to open the store as one line for an operator.
    ``existing``: for a command that reads a book, a SQLite file that is not there is that
    failure (opening it would make an empty book, and answer from it)."""
    db = settings.database
    if existing and isinstance(db, SQLiteConfig) and not Path(db.path).exists():
        raise StoreUnavailable(f"there is no SQLite file at {Path(db.path).absolute()}; run from"
                               " the directory that holds it, or set SUBLEDGER_DATABASE_URL")
    try:
        return build_ledger(settings)
    except Exception as error:  # noqa: BLE001 - any failure to open the store is the operator's to fix
        raise StoreUnavailable(one_line(error)) from None


def one_line(error: BaseException) -> str:
    """What went wrong, in one line for an operator: the error's first line, or its type."""
    return str(error).splitlines()[0] if str(error) else type(error).__name__
