"""`subledger serve` as a real process (the API with its workers), for tests of what only the
whole server shows."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from .live import free_port

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def served(environ: Mapping[str, str], log: Path, *, start_within: float = 60) -> Iterator[str]:
    """Run `subledger serve` on a free loopback port with ``environ`` added to this process's
    environment (the API open: no API keys) until the block ends; yields its base URL once
    ``/healthz`` answers. The server's output goes to ``log``, quoted if it does not start."""
    port = free_port()
    env = {**os.environ, **environ}
    env.pop("SUBLEDGER_API_KEYS", None)
    with log.open("w") as output:
        server = subprocess.Popen([sys.executable, "-m", "subledger.cli", "serve", "--port", str(port)],
                                  env=env, cwd=REPO, stdout=output, stderr=output)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_for_health(url, server, log, time.monotonic() + start_within)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()  # stuck (a worker waiting on a dead connection): not left behind
                server.wait()


def _wait_for_health(url: str, server: subprocess.Popen[bytes], log: Path, deadline: float) -> None:
    with httpx.Client(base_url=url, timeout=5) as http:
        while True:
            try:
                if http.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
