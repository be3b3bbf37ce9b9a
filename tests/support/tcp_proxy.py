"""A TCP proxy on a free loopback port in front of a real server, that plays the two ways a
database goes away without touching the server itself (the test PostgreSQL is shared by the
whole suite):

- :meth:`TcpProxy.refuse`: a stopped server. New connections are refused (nothing listens
  on the port) and the open ones are reset.
- :meth:`TcpProxy.blackhole`: a host that vanished (a network cut, a dead host behind a
  proxy that still answers TCP). Connections are accepted and kept, but nothing is forwarded
  either way: every request waits for an answer that never comes.

:meth:`TcpProxy.restore` forwards again; the connections cut meanwhile are reset, as their
peers would have lost them, and new ones reach the server.
"""

from __future__ import annotations

import socket
import threading
from typing import Literal

from .live import free_port

Mode = Literal["open", "refuse", "blackhole"]


class _Link:
    """One client connection and, unless it was accepted while blackholed, its upstream."""

    def __init__(self, client: socket.socket, upstream: socket.socket | None) -> None:
        self.client = client
        self.upstream = upstream
        self.cut = upstream is None
        """Forward nothing more on this link (it lived through a blackhole)."""

    def sockets(self) -> list[socket.socket]:
        return [s for s in (self.client, self.upstream) if s is not None]

    def reset(self) -> None:
        """Reset both ends: a zero linger makes the close send RST; the shutdown wakes the
        pump threads blocked in ``recv``, which then close the sockets."""
        for sock in self.sockets():
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by its pump


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to ``upstream_host:upstream_port`` until closed."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self.mode: Mode = "open"
        self._lock = threading.Lock()
        self._links: set[_Link] = set()
        self._listener: socket.socket | None = None
        self._closed = False

    def __enter__(self) -> TcpProxy:
        self._listen()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._closed = True
        self.refuse()

    def refuse(self) -> None:
        """Like a stopped server: refuse new connections, reset the open ones."""
        with self._lock:
            self.mode = "refuse"
            self._stop_listening()
            links, self._links = list(self._links), set()
        for link in links:
            link.reset()

    def blackhole(self) -> None:
        """Like a vanished host: accept and keep connections, forward nothing."""
        with self._lock:
            self.mode = "blackhole"
            for link in self._links:
                link.cut = True
        self._listen()

    def restore(self) -> None:
        """Forward again; the links cut by a blackhole are reset."""
        with self._lock:
            self.mode = "open"
            cut = [link for link in self._links if link.cut]
            self._links.difference_update(cut)
        for link in cut:
            link.reset()
        self._listen()

    def _listen(self) -> None:
        with self._lock:
            if self._listener is not None or self._closed:
                return
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            # The same port again after refuse(): the clients' configuration names it.
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(64)
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True,
                         name=f"proxy-accept-{self.port}").start()

    def _stop_listening(self) -> None:
        """Close the listening socket (the caller holds the lock): connecting is then
        refused by the kernel at once, as to a stopped server."""
        if self._listener is not None:
            # shutdown() wakes the accept() blocked in the acceptor thread.
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed
            upstream = None
            if self.mode == "open":
                try:
                    upstream = socket.create_connection(self.upstream, timeout=5)
                    upstream.settimeout(None)
                except OSError:
                    client.close()
                    continue
            link = _Link(client, upstream)
            with self._lock:
                if self._listener is not listener:  # refused meanwhile
                    link.reset()
                    client.close()
                    if upstream is not None:
                        upstream.close()
                    continue
                self._links.add(link)
            self._pump(link, client, upstream)
            if upstream is not None:
                self._pump(link, upstream, client)

    def _pump(self, link: _Link, source: socket.socket, target: socket.socket | None) -> None:
        threading.Thread(target=self._forward, args=(link, source, target), daemon=True,
                         name=f"proxy-pump-{self.port}").start()

    def _forward(self, link: _Link, source: socket.socket, target: socket.socket | None) -> None:
        """Copy ``source`` to ``target`` until either end goes; while the link is cut, read
        and drop (the peer's sends succeed, its answers never come)."""
        try:
            while data := source.recv(65536):
                if not link.cut and target is not None:
                    target.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._links.discard(link)
            link.reset()
            source.close()
