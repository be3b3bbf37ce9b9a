"""The Merkle follower on both stores: the tree it keeps is the RFC 9162 tree of the stored
events' documented leaves, page by page, with heads as configured."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from subledger.audit.heads import HeadSigner, signature_valid
from subledger.commands.demo import generate
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.projections.audit_follower import MerkleFollower
from subledger.projections.audit_tree import AuditTree
from subledger.projections.store import ViewStore
from tests.support.audit import documented_root, events_table, sql

SEED = bytes(range(32))


@pytest.fixture
def views(settings: Settings) -> Iterator[ViewStore]:
    store = ViewStore(settings)
    yield store
    store.close()


def _follower(settings: Settings, ledger: Ledger, **options: object) -> MerkleFollower:
    return MerkleFollower(ledger.event_log, ViewStore(settings), HeadSigner(SEED), **options)  # type: ignore[arg-type]


def _catch_up(follower: MerkleFollower) -> int:
    added = total = follower.run_once()
    while added:
        added = follower.run_once()
        total += added
    return total


def test_the_tree_is_the_rfc_tree_of_the_documented_leaves(settings: Settings, ledger: Ledger,
                                                           views: ViewStore) -> None:
    generate(ledger, subscribers=4, months=2, seed=3)
    follower = _follower(settings, ledger, page_size=7, head_events=10)
    try:
        assert _catch_up(follower) == ledger.event_log.max_position()
        head, signature = AuditTree(views).head()
        assert ledger.event_log.max_position() - 10 < head.tree_size <= ledger.event_log.max_position()
        assert bytes.fromhex(head.root_hash) == documented_root(views, events_table(ledger), head.tree_size)
        assert signature_valid(HeadSigner(SEED).public_key, head, signature)
        sizes = [int(r[0]) for r in sql(views, "SELECT tree_size FROM subledger_audit_heads ORDER BY tree_size")]
        assert sizes[0] == 7 and all(10 <= b - a < 17 for a, b in zip(sizes, sizes[1:], strict=False))
        for size in sizes:
            past, _ = AuditTree(views).head(size)
            assert bytes.fromhex(past.root_hash) == documented_root(views, events_table(ledger), size)
    finally:
        follower.close()


def test_a_second_follower_on_the_same_store_adds_each_event_once(settings: Settings, ledger: Ledger,
                                                                views: ViewStore) -> None:
    generate(ledger, subscribers=3, months=2, seed=5)
    first, second = _follower(settings, ledger, page_size=5), _follower(settings, ledger, page_size=5)
    try:
        while first.run_once() + second.run_once():
            pass
        count = sql(views, "SELECT COUNT(*), MAX(leaf_index) FROM subledger_audit_leaves")[0]
        assert (int(count[0]), int(count[1]) + 1) == (ledger.event_log.max_position(),) * 2
        head = AuditTree(views).head()[0]
        assert bytes.fromhex(head.root_hash) == documented_root(views, events_table(ledger), head.tree_size)
    finally:
        first.close()
        second.close()


def test_an_idle_follower_makes_a_head_once_its_interval_passed(settings: Settings, ledger: Ledger,
                                                                views: ViewStore) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    follower = _follower(settings, ledger, head_events=1000, head_seconds=60, clock=lambda: now[0])
    try:
        follower.run_once()  # the empty tree's head
        generate(ledger, subscribers=2, months=1, seed=1)
        _catch_up(follower)
        assert AuditTree(views).head()[0].tree_size == 0
        now[0] += timedelta(seconds=61)
        assert follower.run_once() == 0
        head = AuditTree(views).head()[0]
        assert head.tree_size == ledger.event_log.max_position()
        assert head.timestamp == "2026-01-01T00:01:01Z"
        assert follower.run_once() == 0
        assert len(sql(views, "SELECT tree_size FROM subledger_audit_heads")) == 2
    finally:
        follower.close()
