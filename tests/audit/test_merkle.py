"""The tree math of subledger.audit.merkle against RFC 9162: the published test vectors of
the Certificate Transparency reference implementation, and random trees checked by an
independent verifier (tests/support/rfc9162.py)."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from subledger.audit import merkle
from tests.support import rfc9162

# transparency-dev/merkle testonly: leaf inputs, every complete subtree, roots by size.
INPUTS = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243",
                                     "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
ROOTS = [bytes.fromhex(h) for h in (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]
H = bytes.fromhex
INCLUSION = [  # (leaf index, tree size, path) from transparency-dev/merkle proof/verify_test.go
    (0, 8, [H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]),
    (5, 8, [H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
    (2, 3, [H("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (1, 5, [H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")]),
]
CONSISTENCY = [  # (first, second, proof), same source
    (1, 8, [H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]),
    (6, 8, [H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
    (2, 5, [H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")]),
    (6, 7, [H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            H("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
]


def _complete_subtrees(leaf_hashes: list[bytes]) -> merkle.Lookup:
    """The store's view of a tree: every complete subtree, by (level, index)."""
    table = {(0, i): h for i, h in enumerate(leaf_hashes)}
    level = 0
    while len([k for k in table if k[0] == level]) > 1:
        count = len([k for k in table if k[0] == level])
        for i in range(count // 2):
            table[(level + 1, i)] = merkle.node_hash(table[(level, 2 * i)], table[(level, 2 * i + 1)])
        level += 1
    return lambda lvl, idx: table[(lvl, idx)]


LOOKUP = _complete_subtrees([merkle.leaf_hash(d) for d in INPUTS])


def test_the_root_of_every_size_is_the_published_one() -> None:
    assert [merkle.root(LOOKUP, size) for size in range(9)] == ROOTS


def test_the_frontier_grows_to_the_published_roots() -> None:
    frontier, roots = merkle.Frontier(), [merkle.Frontier().root()]
    for data in INPUTS:
        frontier.append(merkle.leaf_hash(data))
        roots.append(frontier.root())
    assert roots == ROOTS


def test_inclusion_proofs_are_the_published_ones_and_verify() -> None:
    for index, size, path in INCLUSION:
        assert merkle.inclusion_proof(LOOKUP, index, size) == path
        assert merkle.verify_inclusion(merkle.leaf_hash(INPUTS[index]), index, size, path, ROOTS[size])


def test_consistency_proofs_are_the_published_ones_and_verify() -> None:
    for first, second, proof in CONSISTENCY:
        assert merkle.consistency_proof(LOOKUP, first, second) == proof
        assert merkle.verify_consistency(first, second, ROOTS[first], ROOTS[second], proof)


def test_a_corrupted_proof_does_not_verify() -> None:
    for first, second, proof in CONSISTENCY:
        for i in range(len(proof)):
            bad = list(proof)
            bad[i] = bytes([bad[i][0] ^ 16]) + bad[i][1:]
            assert not merkle.verify_consistency(first, second, ROOTS[first], ROOTS[second], bad)
        assert not merkle.verify_consistency(first, second, ROOTS[first], ROOTS[second], proof[:-1])
        assert not merkle.verify_consistency(first, second, ROOTS[second], ROOTS[first], proof)
    for index, size, path in INCLUSION:
        leaf = merkle.leaf_hash(INPUTS[index])
        assert not merkle.verify_inclusion(leaf, index + 1, size, path, ROOTS[size])
        assert not merkle.verify_inclusion(leaf, index, size, path + [ROOTS[size]], ROOTS[size])


def test_the_empty_tree_is_extended_by_every_tree_and_no_tree_by_a_smaller_one() -> None:
    assert merkle.root(LOOKUP, 0) == hashlib.sha256(b"").digest()
    assert merkle.consistency_proof(LOOKUP, 0, 5) == []
    assert merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, ROOTS[5], [])
    assert not merkle.verify_consistency(5, 3, ROOTS[5], ROOTS[3], [])


def test_a_proof_beyond_the_tree_is_refused() -> None:
    for call in (lambda: merkle.inclusion_proof(LOOKUP, 3, 3),
                 lambda: merkle.consistency_proof(LOOKUP, 4, 3)):
        try:
            call()
        except merkle.ProofError:
            continue
        raise AssertionError("a proof beyond the tree was made")


def test_the_keys_a_proof_needs_are_logarithmic_and_complete() -> None:
    size = 1_000_003
    keys = merkle.lookups(lambda lookup: merkle.inclusion_proof(lookup, 777_777, size))
    assert len(keys) <= 2 * size.bit_length()
    assert all(index < size >> level for level, index in keys)


def _tree(sizes: st.SearchStrategy[int]) -> st.SearchStrategy[list[bytes]]:
    return sizes.flatmap(lambda n: st.lists(st.binary(max_size=12), min_size=n, max_size=n))


@given(leaves=_tree(st.integers(1, 70)), data=st.data())
def test_random_inclusion_proofs_verify_independently(leaves: list[bytes], data: st.DataObject) -> None:
    hashes = [rfc9162.leaf(d) for d in leaves]
    size = data.draw(st.integers(1, len(hashes)))
    index = data.draw(st.integers(0, size - 1))
    lookup = _complete_subtrees(hashes)
    path = merkle.inclusion_proof(lookup, index, size)
    assert merkle.root(lookup, size) == rfc9162.mth(hashes[:size])
    assert rfc9162.inclusion_ok(index, size, hashes[index], path, rfc9162.mth(hashes[:size]))
    assert merkle.verify_inclusion(hashes[index], index, size, path, rfc9162.mth(hashes[:size]))


@given(leaves=_tree(st.integers(1, 70)), data=st.data())
def test_random_consistency_proofs_verify_independently(leaves: list[bytes], data: st.DataObject) -> None:
    hashes = [rfc9162.leaf(d) for d in leaves]
    second = data.draw(st.integers(1, len(hashes)))
    first = data.draw(st.integers(1, second))
    proof = merkle.consistency_proof(_complete_subtrees(hashes), first, second)
    old, new = rfc9162.mth(hashes[:first]), rfc9162.mth(hashes[:second])
    assert rfc9162.consistency_ok(first, second, old, new, proof)
    assert merkle.verify_consistency(first, second, old, new, proof)
    if first < second and hashes[first - 1] != hashes[-1]:
        forged = rfc9162.mth(hashes[:first - 1] + [hashes[-1]])
        assert not merkle.verify_consistency(first, second, forged, new, proof)


@given(leaves=_tree(st.integers(0, 70)))
def test_the_frontier_yields_every_complete_subtree_and_the_root(leaves: list[bytes]) -> None:
    hashes = [rfc9162.leaf(d) for d in leaves]
    frontier, made = merkle.Frontier(), {(0, i): h for i, h in enumerate(hashes)}
    for h in hashes:
        made.update({(level, index): value for level, index, value in frontier.append(h)})
    assert frontier.root() == rfc9162.mth(hashes)
    lookup = _complete_subtrees(hashes)
    assert all(lookup(level, index) == value for (level, index), value in made.items())
    reloaded = merkle.Frontier(len(hashes), [made[k] for k in merkle.decomposition(len(hashes))])
    assert reloaded.root() == frontier.root()
