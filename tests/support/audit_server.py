"""A ledger with an audit key, its Merkle follower and a live API over them, for the proof
and tamper tests."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from subledger.bootstrap import build_api, build_ledger, build_merkle_follower
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.projections.audit_follower import MerkleFollower
from subledger.projections.store import ViewStore

from .live import LiveServer

SEED = bytes(range(32))


def audit_settings(database_url: str, **extra: str) -> Settings:
    return Settings.from_env({"SUBLEDGER_DATABASE_URL": database_url,
                              "SUBLEDGER_AUDIT_KEY": base64.b64encode(SEED).decode(), **extra})


@dataclass
class AuditedLedger:
    settings: Settings
    ledger: Ledger
    follower: MerkleFollower
    views: ViewStore
    http: httpx.Client
    url: str

    def catch_up(self) -> int:
        added = total = self.follower.run_once()
        while added:
            added = self.follower.run_once()
            total += added
        return total


@contextmanager
def audited(settings: Settings) -> Iterator[AuditedLedger]:
    ledger = build_ledger(settings)
    follower = build_merkle_follower(settings, ledger)
    views = ViewStore(settings)
    try:
        with LiveServer(build_api(settings, ledger=ledger)) as server, \
                httpx.Client(base_url=server.url, timeout=60) as client:
            yield AuditedLedger(settings, ledger, follower, views, client, server.url)
    finally:
        follower.close()
        views.close()
        ledger.close()
