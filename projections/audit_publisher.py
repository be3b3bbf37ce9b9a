"""The tree heads to Kafka: every head of ``subledger_audit_heads``, in order, to the one
partition of ``<prefix>.audit`` (key ``tree-heads``), for witnesses outside the database.

A follower of the heads table through the one follow loop, with the relay's producer
(acknowledged by every replica before the checkpoint ``relay.audit`` moves). Its checkpoint
is one more than the size of the last head published, so the empty tree's head (size 0)
is published too. A crash between the broker's acknowledgement and the checkpoint sends
heads again; a consumer drops what it has by ``tree_size``.
"""

from __future__ import annotations

import logging

from subledger.contract.messages import AUDIT, head_message, topic_name

from .audit_tree import HEAD_COLUMNS, HEADS, create_tables, head_from_row
from .follow import Follower
from .kafka_publisher import BrokerUnavailable, Publisher, TopicSpec
from .store import ViewStore

logger = logging.getLogger(__name__)

CHECKPOINT = "relay.audit"
VERSION = 1
PAGE_SIZE = 500


class HeadPublisher:
    def __init__(self, store: ViewStore, publisher: Publisher, *, prefix: str,
                 replication_factor: int = 1) -> None:
        self.store, self.publisher, self.prefix = store, publisher, prefix
        self.topic = TopicSpec(topic_name(prefix, AUDIT), 1, replication_factor, False)
        self._topic_ready = False
        create_tables(store)

    def run_once(self) -> int:
        """Publish the heads not yet published; the number sent."""
        found = self.store.checkpoint(CHECKPOINT)
        after = 0 if found is None else found[0]
        with self.store.transaction() as tx:
            rows = tx.execute(f"SELECT {HEAD_COLUMNS} FROM {HEADS} WHERE tree_size >= ?"
                              " ORDER BY tree_size LIMIT ?", (after, PAGE_SIZE)).fetchall()
        if not rows:
            return 0
        if not self._topic_ready:
            self.publisher.ensure_topics([self.topic])
            self._topic_ready = True
        heads = [head_from_row(row) for row in rows]
        self.publisher.publish([head_message(self.prefix, {**head.fields(), "signature": signature})
                                for head, signature in heads])
        self.store.advance(CHECKPOINT, after, heads[-1][0].tree_size + 1, VERSION)
        return len(heads)

    def follower(self, *, idle: float = 1.0) -> Follower:
        return Follower("tree head publisher", self.run_once, idle=idle, failed=self._failed, log=logger)

    def _failed(self, error: Exception, retry_in: float) -> None:
        if isinstance(error, BrokerUnavailable):
            logger.warning("Kafka unavailable for the tree heads (%s); retrying in %.1fs", error, retry_in)
        else:
            logger.exception("tree head publisher failed; retrying in %.1fs", retry_in)

    def close(self) -> None:
        self.publisher.close()
        self.store.close()
