"""The Merkle tree of the log as the views' database keeps it, and what it answers.

Three tables next to the read models:

- ``subledger_audit_leaves``: one row per event in the tree, ``(leaf_index, position,
  hash)``: the leaf hash of the event at that rank of the log;
- ``subledger_audit_nodes``: the hash of every complete subtree above the leaves,
  ``(level, idx, hash)`` (the ``2**level`` leaves from ``idx * 2**level``), so any root or
  proof is a fold of O(log n) rows fetched in one query;
- ``subledger_audit_heads``: every tree head made, signed or not.

The Merkle follower (:mod:`.audit_follower`) writes them with its checkpoint ``audit``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from subledger.audit import merkle
from subledger.audit.heads import TreeHead
from subledger.audit.leaf import StoredRow, leaf_bytes
from subledger.contract.envelope import event_id
from subledger.domain.errors import BeyondTheTree, InvalidTreeSizes, NotInTheTree

from .store import ViewCursor, ViewStore

CHECKPOINT = "audit"
VERSION = 1
LEAVES = "subledger_audit_leaves"
NODES = "subledger_audit_nodes"
HEADS = "subledger_audit_heads"
HEAD_COLUMNS = "tree_size, root_hash, last_position, timestamp, signature"


def create_tables(store: ViewStore) -> None:
    blob = "BYTEA" if store.postgres else "BLOB"
    with store.creating_tables() as tx:
        tx.execute(f"CREATE TABLE IF NOT EXISTS {LEAVES} (leaf_index BIGINT PRIMARY KEY,"
                   f" position BIGINT NOT NULL UNIQUE, hash {blob} NOT NULL)")
        tx.execute(f"CREATE TABLE IF NOT EXISTS {NODES} (level INTEGER NOT NULL, idx BIGINT NOT NULL,"
                   f" hash {blob} NOT NULL, PRIMARY KEY (level, idx))")
        tx.execute(f"CREATE TABLE IF NOT EXISTS {HEADS} (tree_size BIGINT PRIMARY KEY,"
                   " root_hash TEXT NOT NULL, last_position BIGINT NOT NULL, timestamp TEXT NOT NULL,"
                   " signature TEXT)")


def stored_row(notification: Notification) -> StoredRow:
    """What a leaf covers of one stored event: its place and its exact stored bytes."""
    aggregate_id = UUID(str(notification.originator_id))
    version = int(notification.originator_version)
    return StoredRow(int(notification.id), event_id(aggregate_id, version), aggregate_id, version,
                     notification.topic, bytes(notification.state))


def event_leaf_hash(notification: Notification) -> bytes:
    return merkle.leaf_hash(leaf_bytes(stored_row(notification)))


def tree_size(tx: ViewCursor) -> int:
    row = tx.execute(f"SELECT MAX(leaf_index) FROM {LEAVES}").fetchone()
    return 0 if row is None or row[0] is None else int(row[0]) + 1


def fetch_nodes(tx: ViewCursor, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """The hashes of the complete subtrees ``keys`` (level 0: the leaves): the leaves read
    back by ``select_in``, the inner nodes in one query."""
    wanted = sorted(set(keys))
    found: dict[tuple[int, int], bytes] = {}
    leaves = [index for level, index in wanted if level == 0]
    inner = [key for key in wanted if key[0] > 0]
    for index, h in tx.select_in(f"SELECT leaf_index, hash FROM {LEAVES} WHERE leaf_index IN ({{marks}})",
                                 leaves):
        found[(0, int(index))] = bytes(h)
    if inner:
        marks = " OR ".join(["(level = ? AND idx = ?)"] * len(inner))
        for level, index, h in tx.execute(f"SELECT level, idx, hash FROM {NODES} WHERE {marks}",
                                          [v for key in inner for v in key]).fetchall():
            found[(int(level), int(index))] = bytes(h)
    return found


def computed(tx: ViewCursor, compute: Callable[[merkle.Lookup], Any]) -> Any:
    """``compute(lookup)`` over the stored tree, its subtrees fetched at once first."""
    nodes = fetch_nodes(tx, merkle.lookups(compute))

    def lookup(level: int, index: int) -> bytes:
        try:
            return nodes[(level, index)]
        except KeyError:
            raise RuntimeError(f"the audit tree has no node ({level}, {index})") from None

    return compute(lookup)


def frontier(tx: ViewCursor, size: int) -> merkle.Frontier:
    """The right edge of the stored tree of ``size`` leaves."""
    keys = merkle.decomposition(size)
    nodes = fetch_nodes(tx, keys)
    return merkle.Frontier(size, [nodes[key] for key in keys])


def head_from_row(row: Sequence[Any]) -> tuple[TreeHead, str | None]:
    size, root_hash, last_position, timestamp, signature = row
    return TreeHead(int(size), str(root_hash), int(last_position), str(timestamp)), signature


class AuditTree:
    """What the stored tree answers: heads, roots and proofs (read-only)."""

    def __init__(self, store: ViewStore) -> None:
        self.store = store

    def head(self, size: int | None = None) -> tuple[TreeHead, str | None]:
        """The latest head, or the one made at ``size``; with its signature."""
        where, params = ("WHERE tree_size = ?", (size,)) if size is not None else ("", ())
        with self.store.transaction() as tx:
            row = tx.execute(f"SELECT {HEAD_COLUMNS} FROM {HEADS} {where}"
                             " ORDER BY tree_size DESC LIMIT 1", params).fetchone()
        if row is None:
            raise NotInTheTree("no tree head yet" if size is None else f"no tree head was made at tree size {size}")
        return head_from_row(row)

    def inclusion(self, position: int, size: int | None) -> dict[str, Any]:
        with self.store.transaction() as tx:
            size = self._size(tx, size)
            row = tx.execute(f"SELECT leaf_index, hash FROM {LEAVES} WHERE position = ?",
                             (position,)).fetchone()
            if row is None:
                raise NotInTheTree(f"no event at position {position} is in the tree")
            index = int(row[0])
            if index >= size:
                raise BeyondTheTree(f"position {position} is leaf {index}: it joined the tree after size {size}")
            path = computed(tx, lambda lookup: merkle.inclusion_proof(lookup, index, size))
            root = computed(tx, lambda lookup: merkle.root(lookup, size))
        return {"position": position, "leaf_index": index, "tree_size": size,
                "leaf_hash": bytes(row[1]).hex(), "audit_path": [h.hex() for h in path],
                "root_hash": root.hex()}

    def consistency(self, first: int, second: int) -> dict[str, Any]:
        if first > second:
            raise InvalidTreeSizes(f"first ({first}) must not be larger than second ({second})")
        with self.store.transaction() as tx:
            self._size(tx, second)
            proof = computed(tx, lambda lookup: merkle.consistency_proof(lookup, first, second))
            roots = computed(tx, lambda lookup: (merkle.root(lookup, first), merkle.root(lookup, second)))
        return {"first": first, "second": second, "first_root": roots[0].hex(),
                "second_root": roots[1].hex(), "proof": [h.hex() for h in proof]}

    def _size(self, tx: ViewCursor, size: int | None) -> int:
        """``size``, or the latest head's, checked against the tree's size."""
        grown = tree_size(tx)
        if size is None:
            row = tx.execute(f"SELECT MAX(tree_size) FROM {HEADS}").fetchone()
            if row is None or row[0] is None:
                raise NotInTheTree("no tree head yet")
            return int(row[0])
        if size > grown:
            raise BeyondTheTree(f"the tree has {grown} leaves; tree size {size} is beyond it")
        return size
