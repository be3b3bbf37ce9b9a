"""Shared test fixtures.

Sections:
  1. Databases: PostgreSQL (a throwaway database per session, a schema per test, emptied
     after it and handed on)
     and SQLite (a file per test), and `database_url` running a test on both.
  2. Application fixtures (below).
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from psycopg import sql
from support.broker import TansuBroker
from support.live import LiveServer
from support.receiver import Receiver
from support.schemas import SchemaPool

from subledger.bootstrap import build_api, build_ledger, build_projector
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.projections.store import ViewStore
from subledger.projections.webhook_dispatcher import UrllibSender, WebhookDispatcher

# ---------------------------------------------------------------------------
# 1. Databases
# ---------------------------------------------------------------------------

REPO_ROOT = Path(__file__).resolve().parent.parent
ENSURE_POSTGRES = REPO_ROOT / "scripts" / "ensure-postgres.sh"
PG_ADMIN_URL_ENV = "SUBLEDGER_TEST_PG_ADMIN_URL"

# Fixtures whose users need PostgreSQL; such tests (and the `postgres` case of
# `database_url`) get the `postgres` marker, so `-m "not postgres"` works.
_PG_FIXTURES = {"pg_admin_url", "pg_database_url", "pg_schema_url"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if _PG_FIXTURES.intersection(getattr(item, "fixturenames", ())) or (
            callspec is not None and callspec.params.get("database_url") == "postgres"
        ):
            item.add_marker(pytest.mark.postgres)


def _with_dbname(url: str, dbname: str) -> str:
    """The same server URL (credentials, host, port) with another database name."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, "", ""))


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """URL of the `postgres` database as the test role (may create databases).

    From $SUBLEDGER_TEST_PG_ADMIN_URL (set by `make test`), else from
    scripts/ensure-postgres.sh. Never skips: PostgreSQL tests must not vanish.
    """
    url = os.environ.get(PG_ADMIN_URL_ENV, "").strip()
    if url:
        return url
    try:
        proc = subprocess.run(
            ["bash", str(ENSURE_POSTGRES)],
            check=False,
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"PostgreSQL is needed: could not run {ENSURE_POSTGRES}: {exc}", pytrace=False)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines or not lines[-1].startswith("postgresql://"):
        pytest.fail(
            f"PostgreSQL is needed: set {PG_ADMIN_URL_ENV} or run `make test`. "
            f"{ENSURE_POSTGRES.name} exited {proc.returncode}: "
            f"{(proc.stderr or proc.stdout).strip()}",
            pytrace=False,
        )
    return lines[-1]


@pytest.fixture(scope="session")
def pg_database_url(pg_admin_url: str) -> Iterator[str]:
    """A throwaway database for this test session, dropped at the end."""
    dbname = f"subledger_test_{secrets.token_hex(6)}"
    try:
        admin = psycopg.connect(pg_admin_url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        pytest.fail(f"PostgreSQL is needed: cannot connect to {pg_admin_url}: {exc}", pytrace=False)
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    try:
        yield _with_dbname(pg_admin_url, dbname)
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True, connect_timeout=10) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
            )


@pytest.fixture(scope="session")
def _pg_database_conn(pg_database_url: str) -> Iterator[psycopg.Connection]:
    """One autocommit connection to the session's database, to create and drop schemas."""
    with psycopg.connect(pg_database_url, autocommit=True, connect_timeout=10) as conn:
        # A test that leaks a transaction holding locks fails its teardown
        # instead of hanging the suite.
        conn.execute("SET lock_timeout = '10s'")
        yield conn


def _build_the_product(schema_url: str) -> None:
    """Everything the ledger, the projector and the API create in a schema of their own."""
    settings = Settings.from_env({"SUBLEDGER_DATABASE_URL": schema_url})
    ledger = build_ledger(settings)
    try:
        runner = build_projector(settings, ledger)
        runner.close()
        runner.store.close()
        build_api(settings, ledger=ledger).state.views.close()
    finally:
        ledger.close()


_SCHEMAS = pytest.StashKey[SchemaPool]()


@pytest.fixture(scope="session")
def _pg_schemas(pg_database_url: str, _pg_database_conn: psycopg.Connection,
                pytestconfig: pytest.Config) -> Iterator[SchemaPool]:
    pool = SchemaPool(_pg_database_conn,
                      lambda schema: _build_the_product(f"{pg_database_url}?schema={schema}"))
    pytestconfig.stash[_SCHEMAS] = pool
    yield pool
    pool.close()


_SCHEMA_COUNTS = pytest.StashKey[list[int]]()
"""Schemas created and handed on, added up over the suite's worker processes."""


def pytest_sessionfinish(session: pytest.Session) -> None:
    pool = session.config.stash.get(_SCHEMAS, None)
    to_controller = getattr(session.config, "workeroutput", None)  # set in an xdist worker
    if pool is not None and to_controller is not None:
        to_controller["schemas"] = [pool.created, pool.handed_on]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """An xdist worker is done: its schema counts join the controller's."""
    counts = node.config.stash.setdefault(_SCHEMA_COUNTS, [0, 0])
    for index, count in enumerate(getattr(node, "workeroutput", {}).get("schemas", [0, 0])):
        counts[index] += count


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    pool = config.stash.get(_SCHEMAS, None)
    created, handed_on = (pool.created, pool.handed_on) if pool is not None \
        else config.stash.get(_SCHEMA_COUNTS, [0, 0])
    if created or handed_on:
        terminalreporter.write_line(f"PostgreSQL schemas: {created} created,"
                                    f" {handed_on} emptied and handed on")


@pytest.fixture
def pg_schema_url(pg_database_url: str, _pg_schemas: SchemaPool,
                  request: pytest.FixtureRequest) -> Iterator[str]:
    """A schema for one test, as a product started once on an empty database leaves it (see
    ``support/schemas.py``); one with nothing in it for a test marked ``fresh_schema``. The
    database URL with ``?schema=t_<hex>``."""
    schema = _pg_schemas.take(fresh=request.node.get_closest_marker("fresh_schema") is not None)
    try:
        yield f"{pg_database_url}?schema={schema}"
    finally:
        _pg_schemas.give_back(schema)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file per test; absolute, so four slashes: sqlite:////tmp/.../ledger.db."""
    path = tmp_path / "ledger.db"
    return "sqlite:///" + str(path)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Runs the test once on SQLite and once on PostgreSQL (ids `sqlite`, `postgres`).

    The PostgreSQL database is only created when the `postgres` case runs.
    """
    if request.param == "postgres":
        return request.getfixturevalue("pg_schema_url")
    return request.getfixturevalue("sqlite_url")


# ---------------------------------------------------------------------------
# 2. Application fixtures
# ---------------------------------------------------------------------------




@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for the store under test (SQLite or PostgreSQL), API open. The store timeout
    is 10 s, not 2: on a loaded machine a request may wait seconds for a pooled connection,
    and only the tests of an unreachable store are about that wait (they set their own)."""
    return Settings.from_env({"SUBLEDGER_DATABASE_URL": database_url, "SUBLEDGER_STORE_TIMEOUT": "10"})


@pytest.fixture
def ledger_on(settings: Settings) -> Iterator[Callable[..., Ledger]]:
    """Makes ledgers on the store under test (``ledger_on(clock=...)`` for another server
    clock), each closed at the end of the test."""
    made: list[Ledger] = []

    def make(**options: Any) -> Ledger:
        made.append(build_ledger(settings, **options))
        return made[-1]

    yield make
    for app in made:
        app.close()


@pytest.fixture
def ledger(ledger_on: Callable[..., Ledger]) -> Ledger:
    """The ledger application on a fresh store."""
    return ledger_on()


@pytest.fixture
def projector(settings: Settings, ledger: Ledger) -> Iterator[Any]:
    """The projection runner (every read model) over the ledger under test; tests run it
    with ``projector.run_once()``."""
    runner = build_projector(settings, ledger)
    yield runner
    runner.close()
    runner.store.close()


@pytest.fixture
def api_url(settings: Settings, ledger: Ledger) -> Iterator[str]:
    """Base URL of a live HTTP server over the ledger under test."""
    with LiveServer(build_api(settings, ledger=ledger)) as server:
        yield server.url


@pytest.fixture
def http(api_url: str) -> Iterator[httpx.Client]:
    """An HTTP client bound to the live server."""
    with httpx.Client(base_url=api_url, timeout=30) as client:
        yield client


# ---------------------------------------------------------------------------
# 3. The Kafka-protocol broker (Tansu, one per test)
# ---------------------------------------------------------------------------


@pytest.fixture
def broker() -> Iterator[TansuBroker]:
    """A fresh, empty Tansu broker on a free loopback port, stopped afterwards."""
    running = TansuBroker()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real webhook receiver on a free loopback port (see ``webhook_receiver.py``)."""
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def dispatchers(settings: Settings, ledger: Ledger) -> Iterator[Any]:
    """Makes webhook dispatchers over the ledger under test, each with its own connection to
    the views and short retry delays (``dispatchers(batch=2)``: other options)."""
    made: list[WebhookDispatcher] = []

    def make(**options: Any) -> WebhookDispatcher:
        options = {"retry_base": 0.05, "retry_cap": 0.2, "timeout": 5.0, **options}
        dispatcher = WebhookDispatcher(ledger.event_log, ViewStore(settings), UrllibSender(), **options)
        made.append(dispatcher)
        return dispatcher

    yield make
    for dispatcher in made:
        dispatcher.close()
        dispatcher.store.close()


@pytest.fixture(autouse=True)
def _what_a_test_opens_is_closed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every ledger and read-model connection opened while a test runs (an app built with
    ``build_api`` opens both, and a ``TestClient`` never shuts it down) is closed when the
    test ends, so the suite's connections stay those of the test running, not the sum of
    every test so far. Those of wider-scoped fixtures are opened before this one and left."""
    opened: list[Any] = []
    for kind in (Ledger, ViewStore):
        original = kind.__init__

        def remembered(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> None:
            __original(self, *args, **kwargs)
            opened.append(self)

        monkeypatch.setattr(kind, "__init__", remembered)
    yield
    for thing in reversed(opened):
        try:
            thing.close()
        except Exception:  # noqa: BLE001, S110 - closed already, or its database is gone
            pass


# ---------------------------------------------------------------------------
# 4. A real SMTP server (aiosmtpd, one per test)
# ---------------------------------------------------------------------------


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    """A real SMTP server on a free loopback port that keeps what it accepted."""
    from support.smtp import SmtpServer

    server = SmtpServer()
    yield server
    server.close()
