"""Tampering with the stored log or its heads, on both stores, is found by ``subledger audit
verify`` at the right position; a history rewritten and re-signed with the real key is
refused by ``subledger audit witness``."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from support.audit import events_table, position_column, sql
from support.audit_server import SEED, AuditedLedger, audit_settings, audited

from subledger.cli import main
from subledger.commands.demo import generate

Cli = Callable[..., tuple[int, str, str]]
GAP = 5


@pytest.fixture
def book(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AuditedLedger]:
    """A small book whose last event was moved GAP positions up before the tree was built
    (positions may skip numbers), so a row can be slipped into the gap later."""
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("SUBLEDGER_AUDIT_KEY", base64.b64encode(SEED).decode())
    with audited(audit_settings(database_url)) as running:
        generate(running.ledger, subscribers=3, months=2, seed=2)
        table, pos = events_table(running.ledger), position_column(running.views)
        sql(running.views, f"UPDATE {table} SET {pos} = {pos} + {GAP} WHERE {pos} = (SELECT MAX({pos}) FROM {table})")
        if pos == "notification_id":
            # PostgreSQL's next position goes past the moved row, as SQLite's rowid does: else
            # a later save collides with it (one command made one by one was then refused).
            sql(running.views, f"SELECT setval(pg_get_serial_sequence('{table}', '{pos}'),"
                               f" (SELECT MAX({pos}) FROM {table}))")
        running.catch_up()
        yield running


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _positions(book: AuditedLedger) -> list[int]:
    pos = position_column(book.views)
    return [int(r[0]) for r in sql(book.views, f"SELECT {pos} FROM {events_table(book.ledger)} ORDER BY {pos}")]


def _state(book: AuditedLedger, position: int) -> tuple[str, bytes]:
    pos = position_column(book.views)
    topic, state = sql(book.views, f"SELECT topic, state FROM {events_table(book.ledger)} WHERE {pos} = ?",
                       (position,))[0]
    return topic, bytes(state)


def _set(book: AuditedLedger, position: int, topic: str, state: bytes) -> None:
    pos = position_column(book.views)
    sql(book.views, f"UPDATE {events_table(book.ledger)} SET topic = ?, state = ? WHERE {pos} = ?",
        (topic, state, position))


def _broken_at(cli: Cli) -> int:
    code, out, err = cli("audit", "verify")
    assert code == 1, err
    assert err.startswith("subledger: the log's Merkle tree is broken at position ") and err.count("\n") == 1
    return int(json.loads(out)["position"])


def test_an_untouched_log_verifies(book: AuditedLedger, cli: Cli) -> None:
    code, out, err = cli("audit", "verify")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["ok"] and summary["events_checked"] == len(_positions(book))


def test_a_byte_flipped_in_a_stored_event_is_found_at_its_position(book: AuditedLedger, cli: Cli) -> None:
    victim = _positions(book)[7]
    topic, state = _state(book, victim)
    _set(book, victim, topic, bytes([state[0] ^ 1]) + state[1:])
    assert _broken_at(cli) == victim


def test_a_deleted_row_is_found_at_its_position(book: AuditedLedger, cli: Cli) -> None:
    victim = _positions(book)[4]
    sql(book.views, f"DELETE FROM {events_table(book.ledger)} WHERE {position_column(book.views)} = ?", (victim,))
    assert _broken_at(cli) == victim


def test_two_rows_swapped_are_found_at_the_first(book: AuditedLedger, cli: Cli) -> None:
    first, second = _positions(book)[3], _positions(book)[9]
    a, b = _state(book, first), _state(book, second)
    _set(book, first, *b)
    _set(book, second, *a)
    assert _broken_at(cli) == first


def test_a_row_slipped_into_a_gap_is_found_at_its_position(book: AuditedLedger, cli: Cli) -> None:
    positions = _positions(book)
    gap = positions[-1] - 1
    topic, state = _state(book, positions[0])
    table, pos = events_table(book.ledger), position_column(book.views)
    aggregate = uuid4() if book.views.postgres else str(uuid4())
    sql(book.views, f"INSERT INTO {table} (originator_id, originator_version, topic, state, {pos})"
        " VALUES (?, 1, ?, ?, ?)", (aggregate, topic, state, gap))
    assert _broken_at(cli) == gap


def test_an_altered_head_signature_is_found_at_the_heads_last_position(book: AuditedLedger, cli: Cli) -> None:
    size, last, signature = sql(book.views, "SELECT tree_size, last_position, signature FROM subledger_audit_heads"
                                " ORDER BY tree_size DESC LIMIT 1")[0]
    raw = bytearray(base64.b64decode(signature))
    raw[10] ^= 0x20
    sql(book.views, "UPDATE subledger_audit_heads SET signature = ? WHERE tree_size = ?",
        (base64.b64encode(bytes(raw)).decode(), size))
    assert _broken_at(cli) == int(last)


def _rebuild_tree(book: AuditedLedger) -> None:
    """What a forger with the database and the real key does: the tree rebuilt from the
    tampered log, and new heads signed."""
    for table in ("subledger_audit_leaves", "subledger_audit_nodes", "subledger_audit_heads"):
        sql(book.views, f"DELETE FROM {table}")
    sql(book.views, "UPDATE subledger_projections SET position = 0 WHERE name = 'audit'")
    book.catch_up()


def test_the_witness_accepts_growth_and_refuses_a_rewritten_past_even_re_signed(
        book: AuditedLedger, cli: Cli, tmp_path: Path) -> None:
    state = tmp_path / "witness.json"
    code, out, err = cli("audit", "witness", "--state", str(state), "--url", book.url)
    assert code == 0, err
    accepted = json.loads(out)["accepted"]
    generate(book.ledger, subscribers=1, months=1, seed=9)
    book.catch_up()
    code, out, err = cli("audit", "witness", "--state", str(state))
    assert code == 0, err
    assert json.loads(out)["previous_tree_size"] == accepted["tree_size"]

    victim = _positions(book)[2]
    topic, state_bytes = _state(book, victim)
    _set(book, victim, topic, state_bytes.replace(b"a", b"b", 1) if b"a" in state_bytes else state_bytes + b" ")
    generate(book.ledger, subscribers=1, months=1, seed=10)
    _rebuild_tree(book)
    code, out, err = cli("audit", "witness", "--state", str(state))
    assert code == 1
    assert "rewrote its past" in err and err.count("\n") == 1
    assert json.loads(state.read_text())["head"]["tree_size"] < len(_positions(book))


def test_the_witness_refuses_a_head_signed_by_another_key(book: AuditedLedger, cli: Cli, tmp_path: Path) -> None:
    state = tmp_path / "witness.json"
    assert cli("audit", "witness", "--state", str(state), "--url", book.url)[0] == 0
    pinned = json.loads(state.read_text())
    pinned["public_key"] = base64.b64encode(bytes(32)).decode()
    state.write_text(json.dumps(pinned))
    code, _, err = cli("audit", "witness", "--state", str(state))
    assert code == 1 and "not signed by the pinned key" in err


def test_a_witness_that_cannot_reach_the_ledger_exits_2(cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli("audit", "witness", "--state", str(tmp_path / "w.json"), "--url", "http://127.0.0.1:9")
    assert code == 2 and err.startswith("subledger: GET http://127.0.0.1:9/audit/public-key failed")


@pytest.mark.parametrize("damage", [{"public_key": 5}, {"public_key": "AAAA", "head": [1]},
                                    {"public_key": None}, {"public_key": "AAAA", "head": "x"}])
def test_a_witness_whose_state_file_is_damaged_exits_2_in_one_line(
        cli: Cli, tmp_path: Path, damage: dict[str, object]) -> None:
    state = tmp_path / "w.json"
    state.write_text(json.dumps({"url": "http://127.0.0.1:9", **damage}))

    code, _, err = cli("audit", "witness", "--state", str(state))

    assert code == 2 and err.startswith(f"subledger: the state file {state} is damaged") and err.count("\n") == 1
