"""RFC 9162 section 2.1 Merkle trees: hashes, roots, inclusion and consistency proofs.

Trees are read through a lookup of the hashes of *complete* subtrees, ``lookup(level,
index)``: the subtree of ``2**level`` leaves starting at leaf ``index * 2**level`` (level 0:
the leaf hashes). Every hash the RFC defines, MTH of any range the proofs need, is a fold
of at most ``2 * log2(n)`` such subtrees, so a store that keeps them answers any root or
proof in O(log n) lookups. :func:`lookups` lists those keys first, so a store can fetch
them in one query.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

Lookup = Callable[[int, int], bytes]
"""``lookup(level, index)``: the hash of a complete subtree."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH of the empty tree."""


class ProofError(ValueError):
    """Arguments no proof exists for (an index or size beyond the tree)."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_root(lookup: Lookup, start: int, size: int) -> bytes:
    """MTH(D[start:start+size]) where ``start`` is a multiple of the smallest power of two
    at least ``size`` (every range the RFC's recursion reaches is)."""
    if size == 0:
        return EMPTY_ROOT
    if size & (size - 1) == 0:
        level = size.bit_length() - 1
        return lookup(level, start >> level)
    k = _split(size)
    return node_hash(lookup(k.bit_length() - 1, start // k), subtree_root(lookup, start + k, size - k))


def root(lookup: Lookup, size: int) -> bytes:
    """MTH of the first ``size`` leaves."""
    return subtree_root(lookup, 0, size)


def inclusion_proof(lookup: Lookup, index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 section 2.1.3.1, deepest sibling first."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    path: list[bytes] = []
    start = 0
    while size > 1:
        k = _split(size)
        if index < k:
            path.append(subtree_root(lookup, start + k, size - k))
            size = k
        else:
            path.append(subtree_root(lookup, start, k))
            start, index, size = start + k, index - k, size - k
    return path[::-1]


def consistency_proof(lookup: Lookup, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[second]) of RFC 9162 section 2.1.4.1 (empty when ``first`` is 0 or
    equal to ``second``)."""
    if not 0 <= first <= second:
        raise ProofError(f"no consistency proof from {first} to {second} leaves")
    if first in (0, second):
        return []
    proof: list[bytes] = []
    start, m, n, whole = 0, first, second, True
    while m != n:
        k = _split(n)
        if m <= k:
            proof.append(subtree_root(lookup, start + k, n - k))
            n = k
        else:
            proof.append(subtree_root(lookup, start, k))
            start, m, n, whole = start + k, m - k, n - k, False
    if not whole:
        proof.append(subtree_root(lookup, start, m))
    return proof[::-1]


def lookups(compute: Callable[[Lookup], object]) -> list[tuple[int, int]]:
    """The keys ``compute(lookup)`` looks up, in order (which keys a root or proof needs
    never depends on the hashes found)."""
    keys: list[tuple[int, int]] = []

    def record(level: int, index: int) -> bytes:
        keys.append((level, index))
        return bytes(32)

    compute(record)
    return keys


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes],
                     root_hash: bytes) -> bool:
    """RFC 9162 section 2.1.3.2: is the leaf hash ``leaf`` at ``index`` of the tree of
    ``size`` leaves whose root is ``root_hash``?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root_hash


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2: does the tree of ``second`` leaves extend the tree of
    ``first`` leaves (the empty tree is extended by every tree)?"""
    if not 0 <= first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof and first_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0


def decomposition(size: int) -> list[tuple[int, int]]:
    """The complete subtrees a tree of ``size`` leaves is made of, left to right, as
    ``(level, index)``: one per bit set in ``size``."""
    keys, start = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            keys.append((level, start >> level))
            start += 1 << level
    return keys


class Frontier:
    """The right edge of a growing tree: the complete subtrees of :func:`decomposition`,
    enough to append leaves and know the root without the rest of the tree."""

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        keys = decomposition(size)
        if len(keys) != len(hashes):
            raise ValueError(f"a tree of {size} leaves has {len(keys)} edge subtrees")
        self.size = size
        self._edge = [(level, index, h) for (level, index), h in zip(keys, hashes, strict=True)]

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add the leaf hash ``leaf``; returns the subtrees above the leaves it completed,
        ``(level, index, hash)``, lowest first."""
        made = []
        level, index, h = 0, self.size, leaf
        while self._edge and self._edge[-1][0] == level:
            _, left_index, left = self._edge.pop()
            level, index, h = level + 1, left_index >> 1, node_hash(left, h)
            made.append((level, index, h))
        self._edge.append((level, index, h))
        self.size += 1
        return made

    def root(self) -> bytes:
        if not self._edge:
            return EMPTY_ROOT
        r = self._edge[-1][2]
        for _, _, h in reversed(self._edge[:-1]):
            r = node_hash(h, r)
        return r
