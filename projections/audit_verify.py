"""``audit verify``: the log's tree recomputed from the stored events, in bounded memory,
and compared with every stored leaf, subtree and head, in log order; the first difference
is named by its position.

What a difference means: an event whose bytes no longer match its leaf was changed; a leaf
whose event is gone was deleted; an event the tree does not hold, before the tree's end,
was inserted; a subtree or head whose hash is not the recomputed one, or a signature the
key does not verify, was altered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from subledger.audit import merkle
from subledger.audit.heads import TreeHead, signature_valid
from subledger.store.log import EventLog

from .audit_tree import (
    HEAD_COLUMNS,
    HEADS,
    LEAVES,
    NODES,
    event_leaf_hash,
    head_from_row,
    tree_size,
)
from .store import ViewStore

PAGE_SIZE = 5000
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Verification:
    ok: bool
    tree_size: int
    events_checked: int
    heads_checked: int
    unsigned_heads: int
    position: int | None = None
    """The first bad position (None when nothing is wrong)."""
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Bad(Exception):
    def __init__(self, position: int, problem: str) -> None:
        super().__init__(problem)
        self.position, self.problem = position, problem


def _events(log: EventLog, page: int) -> Iterator[tuple[int, bytes]]:
    after = 0
    while batch := log.recorder.select_notifications(start=after, limit=page, inclusive_of_start=False):
        for notification in batch:
            yield int(notification.id), event_leaf_hash(notification)
        after = int(batch[-1].id)


def _rows(store: ViewStore, statement: str, page: int) -> Iterator[tuple[Any, ...]]:
    """Rows of ``statement`` (``... WHERE key > ? ORDER BY key LIMIT ?``), a page at a time."""
    after = -1
    while rows := _fetch(store, statement, (after, page)):
        yield from rows
        after = int(rows[-1][0])


def _fetch(store: ViewStore, statement: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    with store.transaction() as tx:
        return tx.execute(statement, params).fetchall()


class _Check:
    """One pass over the log, the stored tree and the heads."""

    def __init__(self, log: EventLog, store: ViewStore, public_key: bytes | None, page: int) -> None:
        self.store, self.public_key, self.page = store, public_key, page
        with store.transaction() as tx:
            self.size = tree_size(tx)
        self.events = _events(log, page)
        self.leaves = _rows(store, f"SELECT leaf_index, position, hash FROM {LEAVES}"
                            " WHERE leaf_index > ? ORDER BY leaf_index LIMIT ?", page)
        self.heads = _rows(store, f"SELECT {HEAD_COLUMNS} FROM {HEADS}"
                           " WHERE tree_size > ? ORDER BY tree_size LIMIT ?", page)
        self.frontier = merkle.Frontier()
        self.next_head = next(self.heads, None)
        self.heads_checked = self.unsigned = 0
        self.last_position = 0

    def run(self, progress: Progress | None) -> None:
        self._heads_at(0)
        made: list[tuple[int, int, bytes]] = []
        positions: dict[int, int] = {}
        for index, position, stored in self.leaves:
            event = next(self.events, None)
            if event is None or event[0] > position:
                raise _Bad(position, f"the event of leaf {index} is missing from the log (deleted)")
            if event[0] < position:
                raise _Bad(event[0], "an event the tree does not hold is inside it (inserted)")
            if event[1] != bytes(stored):
                raise _Bad(position, f"the stored event does not match leaf {index} (changed)")
            positions[index] = self.last_position = position
            made.extend(self.frontier.append(event[1]))
            if len(positions) >= self.page or self._head_due():
                self._subtrees(made, positions)
                made, positions = [], {}
                self._heads_at(self.frontier.size)
                if progress is not None:
                    progress(self.frontier.size, self.size)
        self._subtrees(made, positions)
        if self.next_head is not None:
            head, _ = head_from_row(self.next_head)
            raise _Bad(head.last_position, f"the head of tree size {head.tree_size} is beyond the tree")

    def _head_due(self) -> bool:
        return self.next_head is not None and int(self.next_head[0]) == self.frontier.size

    def _subtrees(self, made: list[tuple[int, int, bytes]], positions: dict[int, int]) -> None:
        by_level: dict[int, list[tuple[int, bytes]]] = {}
        for level, index, h in made:
            by_level.setdefault(level, []).append((index, h))
        for level, nodes in by_level.items():
            stored = {int(i): bytes(h) for i, h in _fetch(
                self.store, f"SELECT idx, hash FROM {NODES} WHERE level = ? AND idx >= ? AND idx <= ?",
                (level, nodes[0][0], nodes[-1][0]))}
            for index, h in nodes:
                if stored.get(index) != h:
                    last_leaf = ((index + 1) << level) - 1
                    raise _Bad(positions[last_leaf],
                               f"the stored subtree ({level}, {index}) is not the recomputed one (altered)")

    def _heads_at(self, size: int) -> None:
        while self.next_head is not None and int(self.next_head[0]) == size:
            head, signature = head_from_row(self.next_head)
            self._head(head, signature)
            self.next_head = next(self.heads, None)

    def _head(self, head: TreeHead, signature: str | None) -> None:
        if head.root_hash != self.frontier.root().hex() or head.last_position != self.last_position:
            raise _Bad(head.last_position, f"the head of tree size {head.tree_size} does not match the tree")
        self.heads_checked += 1
        if signature is None:
            self.unsigned += 1
        elif self.public_key is not None and not signature_valid(self.public_key, head, signature):
            raise _Bad(head.last_position, f"the signature of the head of tree size {head.tree_size}"
                       " does not verify with the audit key")


def verify(log: EventLog, store: ViewStore, public_key: bytes | None, *,
           progress: Progress | None = None, page_size: int = PAGE_SIZE) -> Verification:
    """Recompute and compare (see the module's documentation); ``public_key`` checks the
    heads' signatures (None: not checked)."""
    check = _Check(log, store, public_key, page_size)
    try:
        check.run(progress)
    except _Bad as bad:
        return Verification(False, check.size, check.frontier.size, check.heads_checked,
                            check.unsigned, bad.position, bad.problem)
    return Verification(True, check.size, check.frontier.size, check.heads_checked, check.unsigned)
