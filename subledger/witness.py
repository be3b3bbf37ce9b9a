"""``subledger audit witness``: a check, from outside the ledger, that it never rewrites
its past.

The state file keeps the ledger's public key (fetched once, then pinned) and the last head
the witness accepted. Each run fetches the newest head, checks its signature with the
pinned key, and a consistency proof from the accepted head to it: a ledger that changed
anything the accepted head covers cannot answer one, even if it re-signed the new tree
with its real key. Only then is the new head accepted.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from subledger.audit import merkle
from subledger.audit.heads import TreeHead, signature_valid

DEFAULT_URL = "http://127.0.0.1:8000"


class WitnessError(Exception):
    """The witness could not run (state file, network, answers); exit 2."""


class PastRewritten(Exception):
    """The ledger's new head does not extend the accepted one, or is not signed by the
    pinned key; exit 1."""


@dataclass(frozen=True)
class Accepted:
    head: TreeHead
    previous_size: int | None


class _Api:
    def __init__(self, url: str, api_key: str | None, timeout: float = 30.0) -> None:
        self.url, self.api_key, self.timeout = url.rstrip("/"), api_key, timeout

    def get(self, path: str, **params: int) -> dict[str, Any]:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        request = urllib.request.Request(self.url + path + query, headers={"Accept": "application/json"})
        if self.api_key:
            request.add_header("Authorization", f"Bearer {self.api_key}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - the operator's URL
                body: dict[str, Any] = json.loads(response.read())
                return body
        except urllib.error.HTTPError as error:
            detail = error.read(2000).decode("utf-8", "replace")
            raise WitnessError(f"GET {path} answered {error.code}: {detail}") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise WitnessError(f"GET {self.url}{path} failed: {error}") from None


def _load(state: Path) -> dict[str, Any]:
    if not state.exists():
        return {}
    try:
        loaded = json.loads(state.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise WitnessError(f"cannot read the state file {state}: {error}") from None
    if not isinstance(loaded, dict):
        raise WitnessError(f"the state file {state} is not a witness's state")
    return loaded


def _save(state: Path, content: dict[str, Any]) -> None:
    partial = state.with_name(state.name + ".partial")
    partial.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(partial, state)  # the accepted head changes all at once, or not at all


def witness(state_file: Path, url: str | None, api_key: str | None) -> Accepted:
    """One run (see the module's documentation); the head accepted."""
    state = _load(state_file)
    api = _Api(url or state.get("url") or DEFAULT_URL, api_key)
    if "public_key" not in state:
        state["public_key"] = api.get("/audit/public-key")["public_key"]
    try:
        public_key = base64.b64decode(state["public_key"], validate=True)
        previous = TreeHead.from_fields(state["head"]) if "head" in state else None
    except (TypeError, ValueError) as error:  # a key that is no text is damage too
        raise WitnessError(f"the state file {state_file} is damaged: {error}") from None
    answer = api.get("/audit/head")
    try:
        head = TreeHead.from_fields(answer)
    except ValueError as error:
        raise WitnessError(f"GET /audit/head: {error}") from None
    if not signature_valid(public_key, head, answer.get("signature")):
        raise PastRewritten(f"the head of tree size {head.tree_size} is not signed by the pinned key")
    if previous is not None:
        _extends(api, previous, head)
    state.update(url=api.url, head={**head.fields(), "signature": answer.get("signature")})
    _save(state_file, state)
    return Accepted(head, None if previous is None else previous.tree_size)


def _extends(api: _Api, old: TreeHead, new: TreeHead) -> None:
    if new.tree_size < old.tree_size:
        raise PastRewritten(f"the tree shrank from {old.tree_size} to {new.tree_size} leaves")
    if new.tree_size == old.tree_size:
        if new.root_hash != old.root_hash:
            raise PastRewritten(f"the tree of size {old.tree_size} has another root now")
        return
    answer = api.get("/audit/proof/consistency", first=old.tree_size, second=new.tree_size)
    try:
        proof = [bytes.fromhex(h) for h in answer["proof"]]
        roots = bytes.fromhex(answer["first_root"]), bytes.fromhex(answer["second_root"])
    except (KeyError, TypeError, ValueError) as error:
        raise WitnessError(f"GET /audit/proof/consistency: malformed answer ({error})") from None
    old_root, new_root = bytes.fromhex(old.root_hash), bytes.fromhex(new.root_hash)
    if roots != (old_root, new_root) or not merkle.verify_consistency(
            old.tree_size, new.tree_size, old_root, new_root, proof):
        raise PastRewritten(f"the tree of size {new.tree_size} does not extend the accepted tree of"
                            f" size {old.tree_size}: the ledger rewrote its past")
