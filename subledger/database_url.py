"""Where the ledger's database is: ``SUBLEDGER_DATABASE_URL`` read into a PostgreSQL or a
SQLite configuration (part of :mod:`subledger.config`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from .config_values import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///./subledger.db"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


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
