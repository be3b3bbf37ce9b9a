"""`subledger serve` with SUBLEDGER_KAFKA_BOOTSTRAP set: a real server process streams what
its commands append, and `/readyz` shows the relay following."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
from support.broker import read_topic
from support.http import api_subscription
from support.serve import served


def test_serve_runs_the_relay_and_streams_what_commands_append(database_url: str, broker: Any, tmp_path: Path) -> None:
    environ = {"SUBLEDGER_DATABASE_URL": database_url, "SUBLEDGER_KAFKA_BOOTSTRAP": broker.bootstrap,
               "SUBLEDGER_TOPIC_PREFIX": "served"}
    with served(environ, tmp_path / "serve.log") as url, httpx.Client(base_url=url, timeout=30) as http:
        subscription = api_subscription(http)
        positions = [e["position"] for e in http.get("/events", params={"limit": 1000}).json()["items"]]
        deadline = time.monotonic() + 60
        while (ready := http.get("/readyz").json())["lag"].get("relay") != 0:
            assert time.monotonic() < deadline, ready
            time.sleep(0.1)
        assert ready["workers"]["relay"]["status"] == "ok"
        state = http.get(f"/subscriptions/{subscription['subscription_id']}").json()

    events = [json.loads(r.value) for r in read_topic(broker.bootstrap, "served.events",
                                                      at_least=len(positions))]
    assert sorted(e["position"] for e in events) == positions
    states = [json.loads(r.value) for r in read_topic(broker.bootstrap, "served.subscriptions")]
    assert states[-1] == {"position": states[-1]["position"], **state}
