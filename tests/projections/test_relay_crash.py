"""The relay never skips and keeps per-key order whatever crashes: a real ``subledger relay``
process killed (SIGKILL) again and again while commands are written (6 times in ``make
test``, 20 in ``make soak``), a batch that fails half-way through, and the example consumer
that drops the duplicates a re-send brings."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from support.broker import read_topic, values
from support.processes import sigkilled

from subledger.bootstrap import build_ledger, build_relay
from subledger.commands.demo import generate
from subledger.config import Settings
from subledger.contract.messages import Message
from subledger.projections.kafka_publisher import BrokerUnavailable
from subledger.projections.relay import LOG_STREAM, Relay
from subledger.projections.store import ViewStore

REPO = Path(__file__).resolve().parents[2]
KILLS = 20 if os.environ.get("SUBLEDGER_SOAK") == "1" else 6


def _assert_complete_and_ordered(records: Sequence[Any], positions: list[int]) -> int:
    """Every position is there; per partition, dropping what is at or below the last
    position seen (what a consumer does) leaves each key's events in ledger order, once.
    Returns the number of duplicates."""
    seen = [json.loads(r.value)["position"] for r in records]
    assert sorted(set(seen)) == positions
    last: dict[int, int] = defaultdict(int)
    kept: dict[bytes, list[int]] = defaultdict(list)
    for record in records:
        position = json.loads(record.value)["position"]
        if position > last[record.partition]:
            last[record.partition] = position
            kept[record.key].append(position)
    assert sorted(p for ps in kept.values() for p in ps) == positions
    assert all(ps == sorted(ps) for ps in kept.values())
    return len(seen) - len(positions)


def test_a_relay_killed_again_and_again_during_writes_misses_nothing(pg_schema_url: str, broker: Any, tmp_path: Path) -> None:
    settings = Settings.from_env({"SUBLEDGER_DATABASE_URL": pg_schema_url,
                                  "SUBLEDGER_KAFKA_BOOTSTRAP": broker.bootstrap,
                                  "SUBLEDGER_TOPIC_PREFIX": "crash"})
    ledger = build_ledger(settings)
    seed = int(os.environ.get("SUBLEDGER_CRASH_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    env = {**os.environ, "SUBLEDGER_DATABASE_URL": pg_schema_url,
           "SUBLEDGER_KAFKA_BOOTSTRAP": broker.bootstrap, "SUBLEDGER_TOPIC_PREFIX": "crash"}
    command = [sys.executable, "-m", "subledger.cli", "relay"]
    generate(ledger, subscribers=40, months=6, seed=seed)  # a backlog, so the first runs are busy
    stop = threading.Event()

    def write() -> None:
        batch = 0
        while not stop.is_set():
            batch += 1
            generate(ledger, subscribers=3, months=2, seed=seed + batch)

    writer = threading.Thread(target=write, name="writer")
    writer.start()
    kills: list[tuple[int, int]] = []  # (relay checkpoint, head) after each kill
    watch = ViewStore(settings)

    def checkpoint() -> int:
        found = watch.checkpoint(LOG_STREAM)
        return 0 if found is None else found[0]

    try:
        for kill in range(KILLS):
            before = checkpoint()
            with sigkilled(command, env, tmp_path / f"relay-{kill}.log"):
                # Once this run has moved the checkpoint (so a slow start on a busy
                # machine still gets its chance), kill it at a random moment after.
                deadline = time.monotonic() + 30
                while checkpoint() == before and time.monotonic() < deadline:
                    time.sleep(0.01)
                time.sleep(rng.uniform(0.0, 0.6))
            kills.append((checkpoint(), ledger.event_log.max_position()))
    finally:
        stop.set()
        writer.join()
        watch.close()
    head = ledger.event_log.max_position()
    print(f"seed {seed}: (relay checkpoint, head) after each kill {kills}; head {head}")
    checkpoints = [checkpoint for checkpoint, _ in kills]
    assert checkpoints == sorted(checkpoints)
    assert len(set(checkpoints)) == len(checkpoints), "a run of the relay made no progress"
    assert sum(1 for checkpoint, written in kills if 0 < checkpoint < written) > KILLS // 4, \
        "the writes did not go on while the relay was being killed"

    once = subprocess.run([*command, "--once"], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=300, check=False)
    assert once.returncode == 0, once.stderr
    assert json.loads(once.stdout)["lag"]["relay"] == 0

    positions = [e["position"] for e in ledger.event_log.read(0, head + 1).items]
    records = read_topic(broker.bootstrap, "crash.events", at_least=len(positions))
    duplicates = _assert_complete_and_ordered(records, positions)
    print(f"{len(records)} messages for {len(positions)} events ({duplicates} re-sent)")

    consumer = subprocess.run(
        [sys.executable, str(REPO / "examples" / "ledger_consumer.py"), "--bootstrap",
         broker.bootstrap, "--topic", "crash.events", "--group", f"crash-{seed}",
         "--state", str(tmp_path / "consumer.db"), "--idle-exit", "3",
         "--session-timeout-ms", "3000"],
        capture_output=True, text=True, timeout=300, check=False)
    assert consumer.returncode == 0, consumer.stderr
    handled = [int(line.split()[0]) for line in consumer.stdout.splitlines()]
    assert sorted(handled) == positions  # the example dropped every duplicate
    ledger.close()


class _FailsHalfWay:
    """A publisher that delivers the first half of one batch to the real broker, then fails
    as a broker that went away would."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.failed = False

    def ensure_topics(self, specs: Any) -> None:
        self.real.ensure_topics(specs)

    def publish(self, messages: Sequence[Message]) -> None:
        if not self.failed and len(messages) > 10:
            self.failed = True
            self.real.publish(messages[: len(messages) // 2])
            raise BrokerUnavailable("connection reset half-way through the batch")
        self.real.publish(messages)

    def close(self) -> None:
        self.real.close()


def test_a_batch_that_fails_half_way_is_sent_again_whole(settings, relay_settings, ledger, broker) -> None:  # type: ignore[no-untyped-def]
    generate(ledger, subscribers=5, months=3, seed=3)
    real = build_relay(relay_settings, ledger)
    flaky = Relay(real.log, real.store, _FailsHalfWay(real.publisher), prefix="ledger",
                  topics=real.topics)
    try:
        try:
            flaky.run_once()
            raise AssertionError("the broker failure was not raised")
        except BrokerUnavailable:
            pass
        assert flaky.store.checkpoint(LOG_STREAM)[0] == 0  # type: ignore[index]
        flaky.run_once()
    finally:
        flaky.close()
        real.store.close()

    positions = [e["position"] for e in ledger.event_log.read(0, 10_000).items]
    records = read_topic(broker.bootstrap, "ledger.events", at_least=len(positions))
    assert _assert_complete_and_ordered(records, positions) > 0
    assert len({v["position"] for v in values(records)}) == len(positions)


