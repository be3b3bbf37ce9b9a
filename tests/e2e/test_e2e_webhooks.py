"""Webhooks end to end: endpoints registered over real HTTP, commands written over HTTP, a
real receiver; the dispatcher in a thread or as a `subledger webhooks` process killed and
started again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.http import api_plan, api_subscriber
from support.ledger import add_subscriber, public_envelopes
from support.receiver import Receiver, eventually

from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.projections.follow import follow
from subledger.projections.store import ViewStore
from subledger.projections.webhook_endpoints import WebhookEndpoints

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def following(dispatchers: Any) -> Iterator[Any]:
    """A dispatcher following the log in a thread, as `subledger serve` runs it."""
    dispatcher = dispatchers(poll_interval=0.05)
    stop = threading.Event()
    worker = threading.Thread(target=follow, args=(dispatcher.follower(), stop), daemon=True)
    worker.start()
    yield dispatcher
    stop.set()
    worker.join(timeout=10)


def test_commands_complete_while_a_webhook_endpoint_hangs(
        http: httpx.Client, following: Any, receiver: Receiver) -> None:
    endpoint = http.post("/webhooks", json={"url": receiver.url, "personal_data": True}).json()
    assert endpoint["personal_data"] is True
    receiver.hold()
    api_plan(http)
    eventually(lambda: receiver.in_flight == 1, what="the first delivery to hang")
    subscribers = [api_subscriber(http, email=f"s{i}@example.com") for i in range(5)]
    # every command answered while the endpoint still holds its first delivery
    assert len(subscribers) == 5 and receiver.in_flight == 1 and receiver.requests == []
    receiver.release()
    events = http.get("/events", params={"after": endpoint["position"]}).json()["items"]
    eventually(lambda: receiver.delivered() == events, what="every delivery once released")
    for request in receiver.requests:
        request.verify(endpoint["secret"])


def test_answers_of_500_are_retried_and_each_attempt_is_in_the_delivery_log(
        http: httpx.Client, following: Any, receiver: Receiver) -> None:
    endpoint = http.post("/webhooks", json={"url": receiver.url,
                                            "event_types": ["SubscriberRegistered"]}).json()
    receiver.fail_next(3)
    subscriber = api_subscriber(http)
    [delivered] = eventually(receiver.delivered, what="the delivery after three 500s")
    assert delivered["subscriber_id"] == subscriber["subscriber_id"]
    assert [r.status for r in receiver.requests] == [500, 500, 500, 204]
    assert len({r.headers["subledger-delivery-id"] for r in receiver.requests}) == 4
    assert {r.headers["subledger-event-id"] for r in receiver.requests} == {delivered["event_id"]}
    log = http.get(f"/webhooks/{endpoint['endpoint_id']}/deliveries").json()["items"]
    assert [(d["attempt"], d["status_code"], d["outcome"]) for d in log] == [
        (1, 500, "failed"), (2, 500, "failed"), (3, 500, "failed"), (4, 204, "delivered")]
    receiver.requests[-1].verify(endpoint["secret"])


def _command(settings: Settings) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "SUBLEDGER_DATABASE_URL": settings.database_url,
           "SUBLEDGER_WEBHOOK_TIMEOUT": "0.5"}
    return [sys.executable, "-m", "subledger.cli", "webhooks"], env


def test_a_killed_webhooks_process_restarted_loses_nothing(
        settings: Settings, ledger: Ledger, receiver: Receiver, tmp_path: Path) -> None:
    store = ViewStore(settings)
    try:
        _, secret = WebhookEndpoints(store, ledger.event_log).register(receiver.url, [], None, 0)
    finally:
        store.close()
    command, env = _command(settings)
    receiver.delay = 0.02
    written = 0
    for run in range(4):
        for _ in range(8):
            add_subscriber(ledger, f"s{written}@example.com", token="tok_visa")
            written += 1
        seen = len(receiver.delivered())
        with (tmp_path / f"webhooks-{run}.log").open("w") as output:
            process = subprocess.Popen(command, env=env, cwd=REPO, stdout=output, stderr=output)
            try:
                eventually(lambda seen=seen: len(receiver.delivered()) > seen + 3, what="some progress")
            finally:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
    log = public_envelopes(ledger)
    with (tmp_path / "webhooks-last.log").open("w") as output:
        process = subprocess.Popen(command, env=env, cwd=REPO, stdout=output, stderr=output)
        try:
            eventually(lambda: {e["event_id"] for e in receiver.delivered()} >= {e["event_id"] for e in log},
                       timeout=60, what="every event after the restarts")
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=20) == 0
    received = receiver.delivered()
    first_seen: dict[str, dict[str, Any]] = {}
    for envelope in received:
        first_seen.setdefault(envelope["event_id"], envelope)
    assert list(first_seen.values()) == log  # in order, nothing missing
    assert len(received) - len(log) <= 4  # at most one duplicate per kill
    for request in receiver.requests:
        request.verify(secret)


def test_webhooks_once_delivers_what_is_due_and_exits(
        settings: Settings, ledger: Ledger, receiver: Receiver) -> None:
    store = ViewStore(settings)
    try:
        WebhookEndpoints(store, ledger.event_log).register(receiver.url, ["PaymentMethodSet"], None, 0)
    finally:
        store.close()
    for i in range(3):
        add_subscriber(ledger, f"s{i}@example.com", token="tok_visa")
    command, env = _command(settings)
    done = subprocess.run([*command, "--once"], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"delivered": 3}
    assert receiver.delivered() == public_envelopes(ledger, types=("PaymentMethodSet",))
