"""The API served by several processes (``subledger serve --processes N``).

One Python process answers one request at a time between its waits on PostgreSQL: its
interpreter lock was held 60% of the time under four concurrent clients. uvicorn's
supervisor binds the socket and spawns the processes, which accept from it in turn; each
builds its own app from the environment, with its own ledger and pool of connections. They
share nothing in memory, and need not: the idempotency keys, the billing clock's steps and
the read models are all in the database, and every process signs sessions and portal links
with the same secret. The background workers stay in the supervising process, once.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
from collections.abc import MutableMapping
from typing import TYPE_CHECKING

from .config import Settings
from .database_url import SQLiteConfig

if TYPE_CHECKING:
    from fastapi import FastAPI

logger = logging.getLogger(__name__)

APP_FACTORY = "subledger.http_processes:app_from_environment"
"""What each process imports and calls for its app (uvicorn's ``factory=True``)."""

MAX_PROCESSES = 64


def refusal(settings: Settings, processes: int) -> str | None:
    """Why ``processes`` cannot serve ``settings``' store, or None if they can."""
    if not 1 <= processes <= MAX_PROCESSES:
        return f"--processes must be from 1 to {MAX_PROCESSES}"
    if processes > 1 and isinstance(settings.database, SQLiteConfig):
        # SQLite serialises its writers on the file; the library's recorder keeps the
        # order of the log with a lock of one process, which other processes do not see.
        return "--processes above 1 needs PostgreSQL (SUBLEDGER_DATABASE_URL=postgresql://...)"
    return None


def share_session_secret(settings: Settings, environ: MutableMapping[str, str]) -> None:
    """Give an open server's processes one session secret. With neither
    ``SUBLEDGER_SESSION_SECRET`` nor API keys each process would draw its own at random, and
    a page's session or a portal link signed by one would be refused by the others."""
    if settings.session_secret is None and not settings.api_keys:
        environ["SUBLEDGER_SESSION_SECRET"] = secrets.token_urlsafe(32)


def serve(host: str, port: int, processes: int) -> bool:
    """The API from ``processes`` processes on ``host:port``, until SIGINT or SIGTERM.
    False if a process could not start: uvicorn's supervisor then stops the others instead
    of starting it again and again, and the exit code must say so (an orchestrator restarts
    a failed process, not one that ended well)."""
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(APP_FACTORY, factory=True, workers=processes, host=host, port=port,
                            log_level="info")
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    supervisor.run()
    return not any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes)


def app_from_environment() -> FastAPI:
    """The API of one serving process: the settings its supervisor was started with, its
    own ledger; ``/readyz`` reports the read models' lag from their stored checkpoints.
    A process that cannot build it (its store unreachable, say) exits with the code that
    tells the supervisor to stop, rather than being started again twice a second."""
    from uvicorn.config import STARTUP_FAILURE

    from .bootstrap import build_api, one_line

    try:
        return build_api(Settings.from_env(os.environ))
    except Exception as error:  # noqa: BLE001 - whatever it is, this process cannot serve
        logger.error("cannot build the API in process %d: %s", os.getpid(), one_line(error))
        sys.exit(STARTUP_FAILURE)
