"""A broker that is down (a frozen Tansu: SIGSTOP, then SIGCONT) never blocks commands; the
relay reports it in ``/readyz``, retries with backoff and catches up alone."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from factories import api_plan, api_subscriber, api_subscription
from live import LiveServer
from tansu import read_topic

from subledger.bootstrap import build_api
from subledger.projections.relay import KafkaPublisher, Relay, topic_specs
from subledger.projections.store import ViewStore


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.1)


def _frozen(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "T"


def test_a_frozen_broker_never_blocks_commands_and_the_relay_catches_up(relay_settings, ledger, broker) -> None:  # type: ignore[no-untyped-def]
    relay = Relay(ledger.event_log, ViewStore(relay_settings),
                  KafkaPublisher(relay_settings.kafka_bootstrap, timeout=2.0),
                  prefix="ledger", topics=topic_specs("ledger", 3, 1))
    stop = threading.Event()
    worker = threading.Thread(target=relay.run_forever, args=(stop,),
                              kwargs={"idle_wait": 0.1, "max_backoff": 1.0}, daemon=True)
    worker.start()
    try:
        with LiveServer(build_api(relay_settings, ledger=ledger)) as server, \
                httpx.Client(base_url=server.url, timeout=60) as http:

            def readiness() -> dict[str, Any]:
                return http.get("/readyz").json()  # type: ignore[no-any-return]

            api_plan(http)
            _wait_for(lambda: readiness()["lag"].get("relay") == 0, "the relay caught up")
            assert readiness()["workers"]["relay"]["status"] == "ok"

            broker.freeze()
            subscribers = [api_subscriber(http, f"frozen{i}@example.com", token="tok_visa") for i in range(8)]
            for subscriber in subscribers:
                api_subscription(http, subscriber_id=subscriber["subscriber_id"])
            assert _frozen(broker.process.pid), "the commands waited for the broker to come back"
            _wait_for(lambda: readiness()["workers"]["relay"]["status"] == "broker_unavailable",
                      "/readyz showed the broker down")
            down = readiness()
            assert down["status"] == "ready" and down["lag"]["relay"] > 0
            api_subscriber(http, email="still-writing@example.com")  # still answered
            assert _frozen(broker.process.pid)

            broker.thaw()
            _wait_for(lambda: readiness()["lag"].get("relay") == 0, "the relay caught up again")
            assert readiness()["workers"]["relay"]["status"] == "ok"
    finally:
        stop.set()
        worker.join(timeout=30)
        relay.close()
        relay.store.close()

    positions = [e["position"] for e in ledger.event_log.read(0, 10_000).items]
    records = read_topic(broker.bootstrap, "ledger.events", at_least=len(positions))
    assert sorted({json.loads(r.value)["position"] for r in records}) == positions
