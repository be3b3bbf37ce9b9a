"""A broker that is down (a frozen Tansu: SIGSTOP, then SIGCONT) never blocks commands; the
relay reports it in ``/readyz``, retries with backoff and catches up alone."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from support.broker import read_topic
from support.http import api_plan, api_subscriber, api_subscription
from support.live import LiveServer

from subledger.bootstrap import build_api
from subledger.commands.demo import generate
from subledger.config import Settings
from subledger.projections.follow import follow
from subledger.projections.kafka_publisher import BrokerUnavailable, KafkaPublisher, topic_specs
from subledger.projections.relay import LOG_STREAM, Relay
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
    worker = threading.Thread(target=follow, args=(relay.follower(idle=0.1), stop),
                              kwargs={"max_backoff": 1.0}, daemon=True)
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


class _Outage:
    """A publisher whose broker is unreachable, then broken otherwise, then back; it notes
    the relay's status for ``/readyz`` each time the relay tries again."""

    def __init__(self, relay_store: ViewStore, stop: threading.Event) -> None:
        self.store = relay_store
        self.stop = stop
        self.statuses: list[str | None] = []

    def ensure_topics(self, specs: Any) -> None:
        self.statuses.append(self.store.workers().get("relay", {}).get("status"))
        if len(self.statuses) == 1:
            raise BrokerUnavailable("no broker at 127.0.0.1:1")
        if len(self.statuses) == 2:
            raise RuntimeError("disk full")
        self.stop.set()

    def publish(self, messages: Any) -> None:
        pass

    def close(self) -> None:
        pass


def test_the_relay_reports_an_unreachable_broker_apart_from_other_failures_and_ok_once_back(
        settings: Settings, ledger: Any, caplog: pytest.LogCaptureFixture) -> None:
    store, stop = ViewStore(settings), threading.Event()
    outage = _Outage(store, stop)
    relay = Relay(ledger.event_log, store, outage, prefix="ledger", topics=topic_specs("ledger", 1, 1))
    try:
        with caplog.at_level(logging.INFO, logger="subledger.projections.relay"):
            follow(relay.follower(), stop, first_backoff=0.01)
        assert outage.statuses == [None, "broker_unavailable", "error"]
        back = store.workers()["relay"]
        assert (back["status"], back["detail"]) == ("ok", None)
    finally:
        relay.close()
        store.close()
    unavailable, failed = (r for r in caplog.records if "retrying" in r.getMessage())
    assert unavailable.levelno == logging.WARNING and unavailable.exc_info is None
    assert unavailable.getMessage() == "Kafka unavailable (no broker at 127.0.0.1:1); retrying in 0.0s"
    assert failed.levelno == logging.ERROR and failed.getMessage() == "relay failed; retrying in 0.0s"
    assert failed.exc_info is not None and str(failed.exc_info[1]) == "disk full"


class _BackAfterOneOutage:
    """A publisher whose first batch finds the broker down and whose later ones are
    acknowledged; at each batch it notes the relay's checkpoint and status as another
    session reads them."""

    def __init__(self, watch: ViewStore) -> None:
        self.watch = watch
        self.seen: list[tuple[int, str | None]] = []

    def ensure_topics(self, specs: Any) -> None:
        pass

    def publish(self, messages: Any) -> None:
        checkpoint = self.watch.checkpoint(LOG_STREAM)
        status = self.watch.workers().get("relay", {}).get("status")
        self.seen.append((0 if checkpoint is None else checkpoint[0], status))
        if len(self.seen) == 1:
            raise BrokerUnavailable("no broker at 127.0.0.1:1")

    def close(self) -> None:
        pass


def test_a_relay_whose_broker_came_back_is_never_seen_caught_up_and_unavailable(
        settings: Settings, ledger: Any) -> None:
    generate(ledger, subscribers=2, months=2, seed=5)
    store, watch, stop = ViewStore(settings), ViewStore(settings), threading.Event()
    publisher = _BackAfterOneOutage(watch)
    relay = Relay(ledger.event_log, store, publisher, prefix="ledger",
                  topics=topic_specs("ledger", 1, 1), page_size=5)
    worker = threading.Thread(target=follow, args=(relay.follower(idle=0.05), stop),
                              kwargs={"first_backoff": 0.01}, daemon=True)
    worker.start()
    try:
        head = ledger.event_log.max_position()
        _wait_for(lambda: (watch.checkpoint(LOG_STREAM) or (0,))[0] == head, "the relay caught up")
        assert watch.workers()["relay"]["status"] == "ok"
    finally:
        stop.set()
        worker.join(timeout=30)
        store.close()
        watch.close()
    assert publisher.seen[:2] == [(0, None), (0, "broker_unavailable")]
    moved = [status for checkpoint, status in publisher.seen if checkpoint > 0]
    assert len(moved) >= 2 and set(moved) == {"ok"}
