"""The log's proofs for auditors: signed tree heads, the public key, inclusion and
consistency proofs (RFC 9162), and a full recomputation. Read-only; hashes are hex,
signatures and keys base64 (docs/audit.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BaseModel, Field

from subledger.audit.heads import ALGORITHM, HeadSigner, public_key_text
from subledger.contract.envelope import MAX_POSITION
from subledger.domain.errors import NoAuditKey
from subledger.projections.audit_tree import CHECKPOINT, AuditTree
from subledger.projections.audit_verify import verify

from ..deps import LedgerDep, PrincipalDep, ViewsDep
from ..json_bodies import api_router
from ..positions import reads

router = api_router(tags=["audit"])
TREE = reads(CHECKPOINT)
"""The routes that answer from the stored tree wait for its follower (its checkpoint counts
positions of the log); the key and ``verify`` (which recomputes from the log) do not."""

Size = Annotated[int, Query(ge=0, le=MAX_POSITION)]
HEX = "^[0-9a-f]{64}$"


class HeadOut(BaseModel):
    tree_size: int
    root_hash: str = Field(pattern=HEX)
    last_position: int
    timestamp: str
    signature: str | None = Field(description="base64 Ed25519 signature of the other four fields"
                                  " as sorted compact JSON; null when the ledger has no audit key")


class PublicKeyOut(BaseModel):
    algorithm: str
    public_key: str = Field(description="base64 of the 32 raw bytes")


class InclusionOut(BaseModel):
    position: int
    leaf_index: int
    tree_size: int
    leaf_hash: str = Field(pattern=HEX)
    audit_path: list[str]
    root_hash: str = Field(pattern=HEX)


class ConsistencyOut(BaseModel):
    first: int
    second: int
    first_root: str = Field(pattern=HEX)
    second_root: str = Field(pattern=HEX)
    proof: list[str]


class VerificationOut(BaseModel):
    ok: bool
    tree_size: int
    events_checked: int
    heads_checked: int
    unsigned_heads: int
    position: int | None = Field(description="the first bad position; null when all is well")
    problem: str | None


NOT_IN_TREE = {404: {"description": "No such position (or not in the tree yet), or no head at that size"}}
BEYOND = {409: {"description": "A tree size beyond the tree's current size"}}


@router.get("/audit/head", dependencies=[TREE], response_model=HeadOut, responses=NOT_IN_TREE)
def head(views: ViewsDep, _: PrincipalDep, tree_size: Annotated[int | None, Query(
        ge=0, le=MAX_POSITION, description="a past head of this size (default: the latest)")] = None,
         ) -> dict[str, Any]:
    """The latest tree head, or the one made at `tree_size`, with its signature."""
    found, signature = AuditTree(views).head(tree_size)
    return {**found.fields(), "signature": signature}


@router.get("/audit/public-key", response_model=PublicKeyOut,
            responses={404: {"description": "The ledger has no audit key: heads are unsigned"}})
def public_key(request: Request, _: PrincipalDep) -> dict[str, Any]:
    """The Ed25519 key that verifies the heads' signatures."""
    seed = request.app.state.settings.audit_key
    if seed is None:
        raise NoAuditKey("SUBLEDGER_AUDIT_KEY is unset: this ledger's tree heads are unsigned")
    return {"algorithm": ALGORITHM, "public_key": public_key_text(HeadSigner(seed).public_key)}


@router.get("/audit/proof/inclusion", dependencies=[TREE], response_model=InclusionOut, responses={**NOT_IN_TREE, **BEYOND})
def inclusion(views: ViewsDep, _: PrincipalDep,
              position: Annotated[int, Query(ge=1, le=MAX_POSITION, description="the event's position")],
              tree_size: Annotated[int | None, Query(
                  ge=1, le=MAX_POSITION, description="the tree to prove against (default: the latest head's)")] = None,
              ) -> dict[str, Any]:
    """The audit path of the event at `position` in the tree of `tree_size` leaves."""
    return AuditTree(views).inclusion(position, tree_size)


@router.get("/audit/proof/consistency", dependencies=[TREE], response_model=ConsistencyOut, responses=BEYOND)
def consistency(views: ViewsDep, _: PrincipalDep, first: Size, second: Size) -> dict[str, Any]:
    """The proof that the tree of `second` leaves extends the tree of `first` leaves. A
    `first` larger than `second` is refused (422 invalid-tree-sizes); a `second` beyond the
    tree's size is a 409."""
    return AuditTree(views).consistency(first, second)


@router.get("/audit/verify", response_model=VerificationOut)
def verify_tree(request: Request, ledger: LedgerDep, views: ViewsDep, _: PrincipalDep) -> dict[str, Any]:
    """The tree recomputed from the stored events and compared with every stored leaf,
    subtree and head (a full pass over the log: slow on a large one)."""
    seed = request.app.state.settings.audit_key
    key = None if seed is None else HeadSigner(seed).public_key
    return verify(ledger.event_log, views, key).as_dict()
