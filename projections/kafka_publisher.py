"""The relay's one I/O edge: where its messages go (:class:`Publisher`), the topics it
writes (:func:`topic_specs`), and Kafka through kafka-python (:class:`KafkaPublisher`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from subledger.contract.messages import COMPACTED, TOPIC_SUFFIXES, Message, topic_name

logger = logging.getLogger(__name__)


class BrokerUnavailable(RuntimeError):
    """The broker did not acknowledge a batch (or could not be reached) in time."""


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int
    compacted: bool

    def configs(self) -> dict[str, str]:
        # A topic that is not compacted is a copy of the log (projector members rebuild from
        # it), so nothing in it expires: the broker's default retention would drop a week.
        return {"cleanup.policy": "compact"} if self.compacted else {"retention.ms": "-1"}


def topic_specs(prefix: str, partitions: int, replication_factor: int) -> list[TopicSpec]:
    """The relay's four topics; ``subscriptions`` and ``subscribers`` are compacted, the
    others kept forever (``retention.ms=-1``)."""
    return [TopicSpec(topic_name(prefix, suffix), partitions, replication_factor,
                      suffix in COMPACTED) for suffix in TOPIC_SUFFIXES]


class Publisher(Protocol):
    """Where the relay's messages go: the one I/O edge of the relay."""

    def ensure_topics(self, specs: Sequence[TopicSpec]) -> None:
        """Create the topics that do not exist yet."""

    def publish(self, messages: Sequence[Message]) -> None:
        """Send in order; return once the broker acknowledged every message, else raise
        :class:`BrokerUnavailable`."""

    def close(self) -> None: ...


class KafkaPublisher:
    """kafka-python: ``acks=all`` and the idempotent producer (kafka-python's defaults),
    one producer for every topic so order holds per partition. A producer that failed is
    thrown away, so a batch sent again never races the old one's retries."""

    def __init__(self, bootstrap: Sequence[str], *, timeout: float = 10.0,
                 client_id: str = "subledger-relay") -> None:
        self.bootstrap = list(bootstrap)
        self.timeout = timeout
        self.client_id = client_id
        self._producer: Any = None

    def _connect(self) -> Any:
        from kafka import KafkaProducer
        from kafka.errors import KafkaError

        if self._producer is None:
            try:
                self._producer = KafkaProducer(
                    bootstrap_servers=self.bootstrap, client_id=self.client_id, acks="all",
                    enable_idempotence=True, linger_ms=5, batch_size=256 * 1024,
                    max_in_flight_requests_per_connection=5,
                    request_timeout_ms=int(self.timeout * 1000),
                    max_block_ms=int(self.timeout * 1000),
                    delivery_timeout_ms=int(self.timeout * 1000) + 1000,
                    retry_backoff_ms=200, reconnect_backoff_max_ms=2000,
                )
            except KafkaError as error:
                raise BrokerUnavailable(f"cannot reach {','.join(self.bootstrap)}: {error}") from error
        return self._producer

    def ensure_topics(self, specs: Sequence[TopicSpec]) -> None:
        from kafka import KafkaAdminClient
        from kafka.admin import NewTopic
        from kafka.errors import KafkaError, TopicAlreadyExistsError

        try:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, client_id=self.client_id,
                                     request_timeout_ms=int(self.timeout * 1000),
                                     bootstrap_timeout_ms=int(self.timeout * 1000))
        except KafkaError as error:
            raise BrokerUnavailable(f"cannot reach {','.join(self.bootstrap)}: {error}") from error
        try:
            existing = set(admin.list_topics())
            missing = [s for s in specs if s.name not in existing]
            for spec in missing:
                try:
                    admin.create_topics([NewTopic(spec.name, spec.partitions, spec.replication_factor,
                                                  topic_configs=spec.configs())])
                    logger.info("created topic %s (%d partitions, replication %d%s)", spec.name,
                                spec.partitions, spec.replication_factor,
                                ", compacted" if spec.compacted else "")
                except TopicAlreadyExistsError:
                    pass  # another relay made it meanwhile
        except KafkaError as error:
            raise BrokerUnavailable(f"cannot create topics: {error}") from error
        finally:
            admin.close()

    def publish(self, messages: Sequence[Message]) -> None:
        from kafka.errors import KafkaError

        if not messages:
            return
        producer = self._connect()
        try:
            futures = []
            for message in messages:
                key, value, headers = message.encoded()
                futures.append(producer.send(message.topic, key=key, value=value, headers=headers))
            producer.flush(timeout=self.timeout + 2)
            for future in futures:
                future.get(timeout=0)
        except (KafkaError, AssertionError) as error:
            self._discard()
            raise BrokerUnavailable(f"{type(error).__name__}: {error}") from error

    def _discard(self) -> None:
        producer, self._producer = self._producer, None
        if producer is None:
            return
        try:
            producer.close(timeout=0)
        except Exception:  # noqa: BLE001 - its batches are still pending: abort them, then close
            # kafka-python's close() flushes first, so a dead broker makes it raise; forcing
            # the sender closed fails the pending batches (this relay will send them again).
            sender = getattr(producer, "_sender", None)
            if sender is not None:
                sender.force_close()
            try:
                producer.close(timeout=0)
            except Exception:  # noqa: BLE001 - dropped anyway
                logger.debug("closing a failed producer", exc_info=True)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=self.timeout)
            self._producer = None
