"""The Merkle follower: the log's tree, grown one page of events at a time.

Each round reads the events after the ``audit`` checkpoint, hashes each as a leaf
(:mod:`subledger.audit.leaf`: its place and its exact stored bytes), and writes the leaves,
the complete subtrees they finish and, when one is due, a tree head, all in the one
transaction that moves the checkpoint (``ViewStore.advance``): a kill at any point leaves
the tree and its checkpoint in step, and a second follower on the same store only ever
applies a page once.

A head is made when ``head_events`` events joined the tree since the last head, or
``head_seconds`` after it when any did (checked on idle rounds too), and once at the start
for an empty log. It is signed when the ledger has a key; heads are never rewritten.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from subledger.audit.heads import HeadSigner, TreeHead
from subledger.domain.time import isoformat, parse_instant
from subledger.store.log import EventLog

from .audit_tree import (
    CHECKPOINT,
    HEAD_COLUMNS,
    HEADS,
    LEAVES,
    NODES,
    VERSION,
    create_tables,
    event_leaf_hash,
    frontier,
    head_from_row,
    tree_size,
)
from .follow import Follower
from .store import CHECKPOINTS, ViewCursor, ViewStore

logger = logging.getLogger(__name__)

PAGE_SIZE = 2000
IDLE_WAIT = 1.0
UNSIGNED = ("SUBLEDGER_AUDIT_KEY is unset: Merkle tree heads are made UNSIGNED; anyone who"
            " can write to the database can rewrite them. Set an Ed25519 key to sign them.")


class MerkleFollower:
    """Keeps the log's Merkle tree and its heads (see the module's documentation)."""

    def __init__(self, log: EventLog, store: ViewStore, signer: HeadSigner | None, *,
                 head_events: int = 1000, head_seconds: float = 60.0, page_size: int = PAGE_SIZE,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.log, self.store, self.signer = log, store, signer
        self.head_events, self.head_seconds = head_events, head_seconds
        self.page_size, self.clock = page_size, clock
        if signer is None:
            logger.warning("%s", UNSIGNED)
        create_tables(store)
        with store.transaction() as tx:
            if tx.execute(f"SELECT 1 FROM {CHECKPOINTS} WHERE name = ?",
                          (CHECKPOINT,)).fetchone() is None:
                store.set_checkpoint(tx, CHECKPOINT, 0, VERSION)

    def follower(self, *, idle: float = IDLE_WAIT) -> Follower:
        return Follower("Merkle follower", self.run_once, idle=idle, log=logger)

    def run_once(self) -> int:
        """One page of events into the tree (and a head when due); the events added."""
        with self.store.transaction() as tx:
            after = int(tx.execute(f"SELECT position FROM {CHECKPOINTS} WHERE name = ?",
                                   (CHECKPOINT,)).fetchone()[0])  # type: ignore[index]
            size = tree_size(tx)
            edge = frontier(tx, size)
            last = self._last_head(tx)
        page = self.log.recorder.select_notifications(start=after, limit=self.page_size,
                                                      inclusive_of_start=False)
        if not page:
            if self._due(last, size, size):
                self.store.advance(CHECKPOINT, after, after, VERSION,
                                   lambda tx: self._write_head(tx, edge.root(), size, after))
            return 0
        leaves, nodes = [], []
        for notification in page:
            h = event_leaf_hash(notification)
            leaves.append((edge.size, int(notification.id), h))
            nodes.extend(edge.append(h))
        position = int(page[-1].id)
        due = self._due(last, size, edge.size)

        def write(tx: ViewCursor) -> None:
            tx.insert(LEAVES, ("leaf_index", "position", "hash"), leaves)
            tx.insert(NODES, ("level", "idx", "hash"), nodes)
            if due:
                self._write_head(tx, edge.root(), edge.size, position)

        return len(page) if self.store.advance(CHECKPOINT, after, position, VERSION, write) else 0

    def _last_head(self, tx: ViewCursor) -> TreeHead | None:
        row = tx.execute(f"SELECT {HEAD_COLUMNS} FROM {HEADS} ORDER BY tree_size DESC LIMIT 1").fetchone()
        return None if row is None else head_from_row(row)[0]

    def _due(self, last: TreeHead | None, size: int, grown: int) -> bool:
        if last is None:
            return True
        if grown == last.tree_size:
            return False
        elapsed = (self.clock() - parse_instant(last.timestamp)).total_seconds()
        return grown - last.tree_size >= self.head_events or elapsed >= self.head_seconds

    def _write_head(self, tx: ViewCursor, root: bytes, size: int, last_position: int) -> None:
        head = TreeHead(size, root.hex(), last_position, isoformat(self.clock()))
        signature = None if self.signer is None else self.signer.sign(head)
        tx.execute(f"INSERT INTO {HEADS} ({HEAD_COLUMNS}) VALUES (?, ?, ?, ?, ?)"
                   " ON CONFLICT (tree_size) DO NOTHING",
                   (head.tree_size, head.root_hash, head.last_position, head.timestamp, signature))

    def close(self) -> None:
        self.store.close()
