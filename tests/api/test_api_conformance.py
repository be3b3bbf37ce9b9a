"""schemathesis (pinned) against a running server: every operation of the OpenAPI document,
with generated valid and invalid requests and sequences of them, and every check on (no 500,
documented statuses, content types and headers, valid responses, schema-valid data accepted
and schema-violating data refused, authentication enforced). The run must find nothing.

`make test` runs a bounded budget on SQLite with a fixed seed (about a minute); `make
conformance` runs a longer one, the stateful phase included, on both stores. The hooks in
``schemathesis/hooks.py`` drop only the refusals no schema can foresee (they depend on the
ledger's state or clock), and say which.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from subledger.config import Settings

HOOKS = Path(__file__).resolve().parent / "schemathesis"
KEY = "conformance-admin"
LONG = os.environ.get("SUBLEDGER_CONFORMANCE") == "long"


@pytest.fixture(params=["sqlite", "postgres"] if LONG else ["sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue("pg_schema_url" if request.param == "postgres" else "sqlite_url")


@pytest.fixture
def settings(database_url: str) -> Settings:
    """A server with an API key, so the document declares security and the checks of
    authentication run; a read waits a tenth of a second for a position its read models
    (never caught up here: no projector runs) have not applied."""
    return Settings.from_env({"SUBLEDGER_DATABASE_URL": database_url,
                              "SUBLEDGER_API_KEYS": f"{KEY}:admin", "SUBLEDGER_READ_WAIT": "0.1"})


def run_schemathesis(url: str, workdir: Path, *, seed: int, examples: int) -> tuple[int, str]:
    """Run schemathesis's CLI (one worker: CPython 3.11's parser is not thread-safe, which
    the generator's lambdas meet); its exit code and its summary."""
    command = [sys.executable, "-m", "schemathesis.cli", "run", f"{url}/openapi.json",
               "--checks", "all", "--seed", str(seed), "--max-examples", str(examples),
               "--workers", "1", "--no-color", "-H", f"Authorization: Bearer {KEY}"]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "hooks", "PYTHONPATH": str(HOOKS)}
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=3600, stdin=subprocess.DEVNULL, check=False)
    output = done.stdout + done.stderr
    return done.returncode, output[output.find("SUMMARY") - 36:] if "SUMMARY" in output else output


def test_schemathesis_finds_no_failure_in_any_phase(api_url: str, tmp_path: Path) -> None:
    code, summary = run_schemathesis(api_url, tmp_path, seed=1, examples=300 if LONG else 30)
    print(summary)
    assert code == 0, summary
    generated, passed = map(int, re.search(r"(\d+) generated, (\d+) passed", summary).groups())  # type: ignore[union-attr]
    assert generated == passed and generated > 1000, summary
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert re.search(rf"✅ {phase}", summary), f"{phase} did not pass:\n{summary}"
