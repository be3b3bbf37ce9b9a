"""The library's PostgreSQL persistence, made to answer within the store timeout.

``ledger_env`` names :class:`LedgerPostgresFactory` as the persistence module. Unchanged,
the library waited far longer than a client does while the database was unreachable: its
pool connected without a connect timeout (psycopg's default: 130 s), handed out pooled
connections without asking whether they still answered, and its recorders retried a failed
call ten times, each attempt waiting for a connection again.
"""

from __future__ import annotations

import inspect
from functools import partial
from typing import Any

from eventsourcing.postgres import (
    ConnectionPool,
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresFactory,
)
from eventsourcing.utils import Environment, EnvType

from .timeouts import connection_params, ping

STORE_TIMEOUT = "POSTGRES_STORE_TIMEOUT"
"""The ``ledger_env`` key of the store timeout, in seconds."""

RECONNECT_FOR = 10.0
"""Seconds the pool keeps retrying (1 s, 2 s, 4 s, ... apart) to replace a connection it lost.
psycopg_pool's default, 5 minutes, lets those waits grow to minutes, so a database that came
back stays unused until the next attempt; given up sooner, the slot is opened again at the
next request, and the server recovers within seconds of the database."""


class LedgerPostgresFactory(PostgresFactory):
    """The library's factory, whose pool bounds every wait by the store timeout."""

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        timeout = self.env.get(STORE_TIMEOUT)
        if timeout is None:
            raise OSError(f"the store timeout is not set: '{STORE_TIMEOUT}'")
        self.datastore.pool = bounded_pool(self.datastore, float(timeout))


def bounded_pool(datastore: PostgresDatastore, timeout: float) -> ConnectionPool[Any]:
    """The datastore's pool (not opened yet) again, with the library's settings and:

    - the connection parameters of :func:`connection_params` (connect timeout, TCP);
    - a :func:`ping` bounded by ``timeout`` before a connection is handed out: a connection
      that broke while it sat in the pool (the server restarted, the network went) is
      replaced instead of failing the request, and one that went silent costs ``timeout``;
    - ``timeout`` as the longest wait for a connection, so that a request answers within it
      while no connection can be made (and while every connection is busy, rather than
      queueing without end).
    """
    library = datastore.pool
    return ConnectionPool(
        connection_class=library.connection_class,
        kwargs={**(library.kwargs or {}), **connection_params(timeout)},
        min_size=library.min_size,
        max_size=library.max_size,
        open=False,
        configure=datastore.after_connect_func(),
        check=partial(ping, timeout=timeout),
        timeout=timeout,
        max_waiting=library.max_waiting,
        max_lifetime=library.max_lifetime,
        reconnect_timeout=RECONNECT_FOR,
    )


class OneAttempt:
    """The library's recorder methods without their retry (ten attempts, 0.2 s apart).

    Each attempt waits up to the store timeout for a connection, so while the database was
    unreachable a request waited ten timeouts for its 503; and a write retried after its
    commit went through unanswered was refused as a conflict with itself. Stale pooled connections, what the
    retry was for, are replaced by the pool's ping before use; a statement that fails
    otherwise (a lock timeout, a deadlock) fails the command, whose caller retries it.
    Put first among a recorder's bases."""

    insert_events = inspect.unwrap(PostgresApplicationRecorder.insert_events)
    select_events = inspect.unwrap(PostgresApplicationRecorder.select_events)
    select_notifications = inspect.unwrap(PostgresApplicationRecorder.select_notifications)
    max_notification_id = inspect.unwrap(PostgresApplicationRecorder.max_notification_id)
