"""`subledger serve` with SUBLEDGER_KAFKA_BOOTSTRAP set: a real server process streams what
its commands append, and `/readyz` shows the relay following."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from support.broker import read_topic
from support.http import api_subscription
from support.live import free_port

REPO = Path(__file__).resolve().parents[2]


def test_serve_runs_the_relay_and_streams_what_commands_append(database_url: str, broker: Any, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "SUBLEDGER_DATABASE_URL": database_url,
           "SUBLEDGER_KAFKA_BOOTSTRAP": broker.bootstrap, "SUBLEDGER_TOPIC_PREFIX": "served"}
    env.pop("SUBLEDGER_API_KEYS", None)
    with (tmp_path / "serve.log").open("w") as log:
        server = subprocess.Popen([sys.executable, "-m", "subledger.cli", "serve", "--port", str(port)],
                                  env=env, cwd=REPO, stdout=log, stderr=log)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        if http.get("/healthz").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                    time.sleep(0.1)
                subscription = api_subscription(http)
                positions = [e["position"] for e in http.get("/events", params={"limit": 1000}).json()["items"]]
                while (ready := http.get("/readyz").json())["lag"].get("relay") != 0:
                    assert time.monotonic() < deadline, ready
                    time.sleep(0.1)
                assert ready["workers"]["relay"]["status"] == "ok"
                state = http.get(f"/subscriptions/{subscription['subscription_id']}").json()
        finally:
            server.terminate()
            server.wait(timeout=30)

    events = [json.loads(r.value) for r in read_topic(broker.bootstrap, "served.events",
                                                      at_least=len(positions))]
    assert sorted(e["position"] for e in events) == positions
    states = [json.loads(r.value) for r in read_topic(broker.bootstrap, "served.subscriptions")]
    assert states[-1] == {"position": states[-1]["position"], **state}
