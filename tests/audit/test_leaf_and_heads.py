"""The leaf encoding (version 1, length-prefixed, unambiguous) and the signed heads."""

from __future__ import annotations

import base64
import json
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from subledger.audit.heads import HeadSigner, TreeHead, public_key_text, signature_valid
from subledger.audit.leaf import StoredRow, decode_leaf, leaf_bytes

ROW = StoredRow(7, UUID(int=1), UUID(int=2), 3, "subledger.domain.subscription_events:Started", b"{}")


def test_the_leaf_is_a_version_byte_then_six_length_prefixed_fields() -> None:
    data = leaf_bytes(ROW)
    assert data[0] == 1
    assert data[1:5] == (8).to_bytes(4, "big") and data[5:13] == (7).to_bytes(8, "big")
    assert data.endswith((2).to_bytes(4, "big") + b"{}")
    assert decode_leaf(data) == ROW


rows = st.builds(StoredRow, st.integers(0, 2**63), st.uuids(), st.uuids(), st.integers(1, 2**40),
                 st.text(max_size=30), st.binary(max_size=40))


@given(a=rows, b=rows)
def test_two_different_rows_never_share_a_leaf(a: StoredRow, b: StoredRow) -> None:
    assert (leaf_bytes(a) == leaf_bytes(b)) == (a == b)
    assert decode_leaf(leaf_bytes(a)) == a


def test_bytes_moved_between_topic_and_state_make_another_leaf() -> None:
    moved = StoredRow(ROW.position, ROW.event_id, ROW.aggregate_id, ROW.aggregate_version,
                      ROW.topic + "{", b"}")
    assert leaf_bytes(moved) != leaf_bytes(ROW)


def test_a_truncated_or_foreign_leaf_is_refused() -> None:
    for data in (b"", b"\x02" + leaf_bytes(ROW)[1:], leaf_bytes(ROW)[:-1]):
        with pytest.raises(ValueError):
            decode_leaf(data)


def test_the_signature_covers_the_sorted_compact_json_of_the_four_fields() -> None:
    signer = HeadSigner(bytes(range(32)))
    head = TreeHead(5, "ab" * 32, 9, "2026-01-01T00:00:00Z")
    signature = signer.sign(head)
    message = json.dumps(head.fields(), sort_keys=True, separators=(",", ":")).encode()
    assert message == (b'{"last_position":9,"root_hash":"' + b"ab" * 32
                       + b'","timestamp":"2026-01-01T00:00:00Z","tree_size":5}')
    Ed25519PublicKey.from_public_bytes(signer.public_key).verify(base64.b64decode(signature), message)
    assert signature_valid(signer.public_key, head, signature)
    assert base64.b64decode(public_key_text(signer.public_key)) == signer.public_key


def test_a_changed_head_or_signature_or_key_does_not_verify() -> None:
    signer, other = HeadSigner(bytes(32)), HeadSigner(bytes([1]) * 32)
    head = TreeHead(5, "ab" * 32, 9, "2026-01-01T00:00:00Z")
    signature = signer.sign(head)
    assert not signature_valid(signer.public_key, TreeHead(6, head.root_hash, 9, head.timestamp), signature)
    assert not signature_valid(other.public_key, head, signature)
    assert not signature_valid(signer.public_key, head, "not base64!")
    assert not signature_valid(signer.public_key, head, None)
    flipped = bytearray(base64.b64decode(signature))
    flipped[0] ^= 1
    assert not signature_valid(signer.public_key, head, base64.b64encode(bytes(flipped)).decode())


def test_a_head_is_read_back_from_its_json_and_a_malformed_one_refused() -> None:
    head = TreeHead(5, "ab" * 32, 9, "2026-01-01T00:00:00Z")
    assert TreeHead.from_fields(json.loads(json.dumps(head.fields()))) == head
    for body in ({}, {**head.fields(), "tree_size": "5"}):
        with pytest.raises(ValueError):
            TreeHead.from_fields(body)
