"""The tree heads on Kafka: every head, in order, on the one partition of
``<prefix>.audit``, each valid against the TreeHead schema and signed; published once."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

import jsonschema
from support.broker import read_topic

from subledger.audit.heads import HeadSigner, TreeHead, signature_valid
from subledger.bootstrap import build_head_publisher, build_merkle_follower
from subledger.commands.demo import generate
from subledger.contract.schemas import schema

SEED = bytes(range(32))


def test_every_head_is_published_once_in_order_and_signed(settings: Any, ledger: Any, broker: Any) -> None:
    configured = replace(settings, kafka_bootstrap=(broker.bootstrap,), topic_prefix="ledger",
                         audit_key=SEED, audit_head_events=1)
    follower = build_merkle_follower(configured, ledger)
    publisher = build_head_publisher(configured)
    try:
        follower.run_once()  # the empty tree's head
        for seed in (1, 2):
            generate(ledger, subscribers=1, months=1, seed=seed)
            while follower.run_once():
                pass
        assert publisher.run_once() == 3
        assert publisher.run_once() == 0
        records = read_topic(broker.bootstrap, "ledger.audit", at_least=3)
    finally:
        follower.close()
        publisher.close()
    validator = jsonschema.Draft202012Validator(schema("TreeHead"), format_checker=jsonschema.FormatChecker())
    values = [json.loads(r.value) for r in records]
    for value in values:
        validator.validate(value)
        assert signature_valid(HeadSigner(SEED).public_key, TreeHead.from_fields(value), value["signature"])
    assert [v["tree_size"] for v in values][0] == 0
    assert [v["tree_size"] for v in values] == sorted({v["tree_size"] for v in values})
    assert {r.key for r in records} == {b"tree-heads"} and {r.partition for r in records} == {0}
    assert base64.b64decode(values[-1]["signature"])
