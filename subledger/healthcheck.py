"""``python -m subledger.healthcheck CHECK...``: a container's health check, stdlib only.

Each CHECK is one of:

- an ``http://`` or ``https://`` URL: it answers 2xx (the API's ``/healthz``);
- ``store``: the configured event store (``SUBLEDGER_DATABASE_URL``) answers a query;
- ``kafka``: a server of ``SUBLEDGER_KAFKA_BOOTSTRAP`` accepts a TCP connection.

Exit 0 when every check passes, 1 naming the first that failed, 2 for bad usage or a bad
configuration (one line on stderr, as the ``subledger`` command). The projector and the relay
serve no HTTP: their containers check what they cannot work without (see docker-compose.yml).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import sys
import urllib.request
from collections.abc import Mapping, Sequence

from .config import ConfigError, PostgresConfig, Settings

TIMEOUT = 3.0


class CheckFailed(Exception):
    pass


def check_http(url: str) -> None:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:  # noqa: S310 - operator's URL
            status = response.status
    except OSError as error:
        raise CheckFailed(f"{url}: {error}") from None
    if not 200 <= status < 300:
        raise CheckFailed(f"{url}: HTTP {status}")


def check_store(settings: Settings) -> None:
    database = settings.database
    try:
        if isinstance(database, PostgresConfig):
            import psycopg

            from .store.timeouts import connection_params, ping

            with psycopg.connect(database.conninfo(), **connection_params(TIMEOUT)) as conn:
                ping(conn, TIMEOUT)
        else:
            with sqlite3.connect(f"file:{database.path}?mode=ro", uri=True, timeout=TIMEOUT) as conn:
                conn.execute("SELECT 1")
    except Exception as error:  # noqa: BLE001 - any failure to reach the store is unhealthy
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CheckFailed(f"store: {first_line}") from None


def check_kafka(settings: Settings) -> None:
    if not settings.kafka_bootstrap:
        raise CheckFailed("kafka: SUBLEDGER_KAFKA_BOOTSTRAP is not set")
    errors = []
    for server in settings.kafka_bootstrap:
        host, _, port = server.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=TIMEOUT):
                return
        except OSError as error:
            errors.append(f"{server}: {error}")
    raise CheckFailed("kafka: " + "; ".join(errors))


def run(checks: Sequence[str], environ: Mapping[str, str]) -> None:
    """Run every check in order; raise :class:`CheckFailed` at the first that fails."""
    settings = Settings.from_env(environ)
    for check in checks:
        if check.startswith(("http://", "https://")):
            check_http(check)
        elif check == "store":
            check_store(settings)
        elif check == "kafka":
            check_kafka(settings)


def main(argv: Sequence[str] | None = None) -> int:
    checks = list(sys.argv[1:] if argv is None else argv)
    unknown = [c for c in checks if c not in ("store", "kafka") and not c.startswith(("http://", "https://"))]
    if not checks or unknown:
        print("usage: python -m subledger.healthcheck (URL | store | kafka)...", file=sys.stderr)
        return 2
    try:
        run(checks, os.environ)
    except ConfigError as error:
        print(f"subledger healthcheck: {error}", file=sys.stderr)
        return 2
    except CheckFailed as error:
        print(f"subledger healthcheck: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
