"""/audit/*: heads, the public key and RFC 9162 proofs over real HTTP on both stores, each
checked with the public key alone by the independent verifier of tests/support/rfc9162.py;
bad parameters are problem documents."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from subledger.commands.demo import generate
from tests.support import rfc9162
from tests.support.audit import documented_leaf, documented_root, events_table, stored_events
from tests.support.audit_server import AuditedLedger, audit_settings, audited
from tests.support.http import assert_problem


@pytest.fixture
def book(database_url: str) -> Iterator[AuditedLedger]:
    with audited(audit_settings(database_url, SUBLEDGER_AUDIT_HEAD_EVENTS="20")) as running:
        running.catch_up()  # the empty tree's head
        generate(running.ledger, subscribers=4, months=2, seed=11)
        running.catch_up()
        yield running


def _signed_by(public_key: str, head: dict) -> bool:
    fields = {k: head[k] for k in ("tree_size", "root_hash", "last_position", "timestamp")}
    message = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key))
    key.verify(base64.b64decode(head["signature"]), message)  # raises when it does not
    return True


def test_the_head_is_signed_and_its_root_is_the_logs(book: AuditedLedger) -> None:
    key = book.http.get("/audit/public-key").json()
    assert key["algorithm"] == "Ed25519" and len(base64.b64decode(key["public_key"])) == 32
    head = book.http.get("/audit/head").json()
    assert _signed_by(key["public_key"], head)
    table = events_table(book.ledger)
    assert head["root_hash"] == documented_root(book.views, table, head["tree_size"]).hex()
    first = book.http.get("/audit/head", params={"tree_size": 0}).json()
    assert first["tree_size"] == 0 and _signed_by(key["public_key"], first)


def test_every_inclusion_proof_verifies_with_the_head_alone(book: AuditedLedger) -> None:
    head = book.http.get("/audit/head").json()
    events = stored_events(book.views, events_table(book.ledger))[:head["tree_size"]]
    for index, row in enumerate(events):
        proof = book.http.get("/audit/proof/inclusion", params={"position": row[0]}).json()
        leaf = rfc9162.leaf(documented_leaf(*row))
        assert (proof["leaf_index"], proof["tree_size"], proof["leaf_hash"]) == (index, head["tree_size"], leaf.hex())
        assert proof["root_hash"] == head["root_hash"]
        assert rfc9162.inclusion_ok(index, head["tree_size"], leaf,
                                    [bytes.fromhex(h) for h in proof["audit_path"]],
                                    bytes.fromhex(head["root_hash"]))


def test_consistency_proofs_between_every_pair_of_heads_verify(book: AuditedLedger) -> None:
    sizes = [0, 1, 2, 20, 21, 33]
    grown = book.ledger.event_log.max_position()
    sizes = [s for s in sizes if s <= grown] + [grown]
    roots = {s: documented_root(book.views, events_table(book.ledger), s) for s in sizes}
    for first in sizes:
        for second in (s for s in sizes if s >= first):
            proof = book.http.get("/audit/proof/consistency", params={"first": first, "second": second}).json()
            assert (proof["first_root"], proof["second_root"]) == (roots[first].hex(), roots[second].hex())
            if first:
                assert rfc9162.consistency_ok(first, second, roots[first], roots[second],
                                              [bytes.fromhex(h) for h in proof["proof"]])


def test_bad_parameters_are_problems(book: AuditedLedger) -> None:
    grown = book.ledger.event_log.max_position()
    assert_problem(book.http.get("/audit/proof/inclusion", params={"position": grown + 50}), 404, "not-in-the-tree")
    assert_problem(book.http.get("/audit/proof/inclusion", params={"position": 1, "tree_size": grown + 1}),
                   409, "beyond-the-tree")
    assert_problem(book.http.get("/audit/proof/inclusion", params={"position": grown, "tree_size": 1}),
                   409, "beyond-the-tree")
    assert_problem(book.http.get("/audit/proof/inclusion", params={"position": 0}), 422)
    assert_problem(book.http.get("/audit/proof/consistency", params={"first": 3, "second": 2}), 422, "invalid-tree-sizes")
    assert_problem(book.http.get("/audit/proof/consistency", params={"first": 1, "second": grown + 1}),
                   409, "beyond-the-tree")
    assert_problem(book.http.get("/audit/head", params={"tree_size": 3}), 404, "not-in-the-tree")


def test_verify_over_http_finds_the_tree_whole(book: AuditedLedger) -> None:
    answer = book.http.get("/audit/verify").json()
    assert answer["ok"] is True and answer["position"] is None
    assert answer["tree_size"] == answer["events_checked"] == book.ledger.event_log.max_position()
    assert answer["heads_checked"] >= 2 and answer["unsigned_heads"] == 0


def test_without_a_key_heads_are_unsigned_and_there_is_no_public_key(database_url: str) -> None:
    from subledger.config import Settings

    settings = Settings.from_env({"SUBLEDGER_DATABASE_URL": database_url})
    with audited(settings) as running:
        running.catch_up()
        assert running.http.get("/audit/head").json()["signature"] is None
        assert_problem(running.http.get("/audit/public-key"), 404, "no-audit-key")
