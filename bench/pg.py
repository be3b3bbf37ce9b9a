"""A throwaway PostgreSQL database for a benchmark run."""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parent.parent


def admin_url() -> str:
    url = os.environ.get("SUBLEDGER_TEST_PG_ADMIN_URL")
    if url:
        return url
    out = subprocess.run(["bash", str(REPO / "scripts" / "ensure-postgres.sh")], check=True,
                         capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new database; yields its URL and drops it afterwards."""
    admin = admin_url()
    name = f"subledger_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urlsplit(admin)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
