"""How long the ledger waits for PostgreSQL before it counts the database as unavailable.

A database that stopped refuses connections at once, but one that vanished (a network cut,
a host down, a proxy whose server went away) leaves a connection attempt or a statement
waiting for an answer that never comes: until the kernel gives up, minutes later, or for
ever when something in between still answers TCP. Every connection the ledger opens to
PostgreSQL takes :func:`connection_params`, and a connection that sat idle is :func:`ping`-ed
before it is used again; both are bounded by the store timeout (``SUBLEDGER_STORE_TIMEOUT``).
"""

from __future__ import annotations

import math
import selectors
import time
from typing import Any

import psycopg
from psycopg import pq


def connection_params(timeout: float) -> dict[str, int]:
    """libpq parameters that bound connecting and notice a peer that went silent.

    - ``connect_timeout``: psycopg otherwise waits 130 s for a server that does not answer
      (libpq takes whole seconds, at least 2).
    - ``tcp_user_timeout``: the kernel drops the connection when data it sent stays
      unacknowledged that long, so a statement sent to a vanished host fails instead of
      waiting for the retransmissions to run out (about 15 minutes on Linux).
    - ``keepalives``: an idle pooled connection to a vanished host is found dead by the
      kernel's probes (given up after ``tcp_user_timeout``) rather than by the next request.

    No ``statement_timeout``: a server that is not there cannot apply it, and a slow but
    healthy statement is not an outage.
    """
    seconds = max(2, math.ceil(timeout))
    return {
        "connect_timeout": seconds,
        "tcp_user_timeout": seconds * 1000,
        "keepalives": 1,
        "keepalives_idle": seconds,
        "keepalives_interval": 1,
        "keepalives_count": 3,
    }


def ping(conn: psycopg.Connection[Any], timeout: float) -> None:
    """Raise ``psycopg.OperationalError`` unless the server answers an empty query within
    ``timeout`` seconds. A connection that did not answer is closed: what it still waits for
    is unknown, so nothing may use it again (a pool then replaces it).

    psycopg bounds no statement on the client's side, and the kernel cannot tell a server
    that went silent behind a live TCP peer (a proxy, a load balancer) from a slow one; so
    the ping speaks to libpq (``psycopg.pq``) and waits on the socket with a deadline.
    """
    pgconn = conn.pgconn
    deadline = time.monotonic() + timeout
    with conn.lock:
        try:
            pgconn.send_query(b"")
            while pgconn.flush():  # psycopg's connections are non-blocking: 1 = more to send
                _wait(pgconn.socket, selectors.EVENT_WRITE, deadline)
            pgconn.consume_input()
            while pgconn.is_busy():
                _wait(pgconn.socket, selectors.EVENT_READ, deadline)
                pgconn.consume_input()
            while (result := pgconn.get_result()) is not None:
                if result.status != pq.ExecStatus.EMPTY_QUERY:
                    raise psycopg.OperationalError(result.get_error_message())
        except (psycopg.Error, OSError) as error:
            conn.close()
            raise psycopg.OperationalError(f"the database did not answer: {error}") from None


def _wait(fileno: int, event: int, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    with selectors.DefaultSelector() as selector:
        selector.register(fileno, event)
        if remaining <= 0 or not selector.select(remaining):
            raise TimeoutError("no answer within the store timeout")
