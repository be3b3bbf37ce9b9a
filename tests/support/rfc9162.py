"""A minimal RFC 9162 (section 2.1) verifier written from the RFC's definitions alone, to
check the code under test from outside: it imports nothing of subledger.

Proofs are checked by rebuilding the roots they imply with the RFC's own recursion (PATH
and SUBPROOF read backwards), not with the iterative algorithms the code uses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of leaf *hashes*, as section 2.1.1 defines it."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = split(len(leaves))
    return node(mth(leaves[:k]), mth(leaves[k:]))


def root_from_path(index: int, size: int, leaf_hash: bytes, path: Sequence[bytes]) -> bytes | None:
    """The root PATH(index, D[size]) = ``path`` implies for ``leaf_hash``, or None when
    ``path`` has the wrong length for that place."""
    if not 0 <= index < size:
        return None
    if size == 1:
        return leaf_hash if not path else None
    if not path:
        return None
    k = split(size)
    sibling = path[-1]
    if index < k:
        inner = root_from_path(index, k, leaf_hash, path[:-1])
        return None if inner is None else node(inner, sibling)
    inner = root_from_path(index - k, size - k, leaf_hash, path[:-1])
    return None if inner is None else node(sibling, inner)


def inclusion_ok(index: int, size: int, leaf_hash: bytes, path: Sequence[bytes], root: bytes) -> bool:
    return root_from_path(index, size, leaf_hash, path) == root


def _subproof_roots(m: int, n: int, whole: bool, proof: list[bytes],
                    first_root: bytes) -> tuple[bytes, bytes] | None:
    """(MTH(D[0:m]) or the known old subtree, MTH(D[n])) implied by SUBPROOF(m, D[n], whole)
    = ``proof``, consuming it from the end."""
    if m == n:
        if whole:
            return (first_root, first_root) if not proof else None
        return (proof[0], proof[0]) if len(proof) == 1 else None
    if not proof:
        return None
    k = split(n)
    last = proof[-1]
    if m <= k:
        inner = _subproof_roots(m, k, whole, proof[:-1], first_root)
        if inner is None:
            return None
        old, new = inner
        return old, node(new, last)
    inner = _subproof_roots(m - k, n - k, False, proof[:-1], first_root)
    if inner is None:
        return None
    old, new = inner
    return node(last, old), node(last, new)


def consistency_ok(first: int, second: int, first_root: bytes, second_root: bytes,
                   proof: Sequence[bytes]) -> bool:
    if not 0 < first <= second:
        return False
    implied = _subproof_roots(first, second, True, list(proof), first_root)
    return implied == (first_root, second_root)
