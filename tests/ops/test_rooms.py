"""The rooms of the code import only the rooms below them (docs/code-map.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {
    "domain": set(),
    "audit": set(),
    "contract": {"domain"},
    "commands": {"domain", "contract", "store"},
    "projections": {"domain", "contract", "store", "config", "audit"},
    "replay": {"domain", "contract", "store", "config", "projections", "audit"},
}


def _rooms_imported(room: str) -> dict[str, set[str]]:
    """For each module of ``room``, the rooms of ``subledger`` it imports (at any depth)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / room).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {node.module for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
        names |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                  for alias in node.names}
        rooms = {name.split(".")[1] for name in names
                 if name.startswith("subledger.") and name.count(".") >= 1}
        found[str(path.relative_to(ROOT))] = rooms - {room}
    return found


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_a_room_imports_only_the_rooms_below_it(room: str) -> None:
    modules = _rooms_imported(room)
    assert modules, f"no modules found in {room}/"
    strays = {module: sorted(rooms - ALLOWED[room]) for module, rooms in modules.items()
              if rooms - ALLOWED[room]}
    assert strays == {}
