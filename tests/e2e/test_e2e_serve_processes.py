"""`subledger serve --processes N`: the API answered by several processes of its own, the
workers once in the process started, one secret for the sessions every process signs."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support.http import api_subscriber
from support.live import free_port
from support.processes import processes, subledger_env, wait_for

from subledger.cli import main
from subledger.config import Settings
from subledger.http_processes import serve, share_session_secret


def _ready_and_caught_up(http: httpx.Client) -> bool:
    try:
        answer = http.get("/readyz")
    except httpx.TransportError:
        return False
    return answer.status_code == 200 and bool(answer.json()["lag"]) and \
        not any(answer.json()["lag"].values())


def test_two_serving_processes_share_the_sessions_and_the_workers_run_once(
        pg_schema_url: str, tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = subledger_env(SUBLEDGER_DATABASE_URL=pg_schema_url, SUBLEDGER_BILLING_INTERVAL="0")
    with processes() as start, httpx.Client(base_url=base, timeout=30) as http:
        server = start(["serve", "--port", str(port), "--processes", "2"], env, tmp_path / "serve.log")
        wait_for(lambda: _ready_and_caught_up(http), timeout=90, what=server.text)
        ada = api_subscriber(http)["subscriber_id"]
        # The projector, in the process started, reads what a serving process appended.
        wait_for(lambda: _ready_and_caught_up(http), timeout=30, what=server.text)
        link = http.post(f"/subscribers/{ada}/portal-session").json()["url"]
        with httpx.Client(timeout=30) as browser:
            assert browser.get(link).status_code == 303
            cookies = dict(browser.cookies)
        # Each request on a connection of its own, which either process may accept: the
        # session signed by one is good in every one.
        pages = []
        for _ in range(16):
            with httpx.Client(base_url=base, cookies=cookies, timeout=30) as fresh:
                pages.append(fresh.get("/portal"))
        assert server.stop(signal.SIGTERM) == 0, server.text()
    log = server.text()
    assert len(set(re.findall(r"Started server process \[(\d+)\]", log))) == 2, log
    assert [page.status_code for page in pages] == [200] * 16
    assert all("Hello, Ada" in page.text for page in pages)
    assert "Traceback" not in log


@pytest.fixture
def _signal_handlers_restored() -> Iterator[None]:
    """uvicorn's supervisor sets its own handlers in the process that runs it: this one."""
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    saved = {sig: signal.getsignal(sig) for sig in signals}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.mark.usefixtures("_signal_handlers_restored")
def test_serving_processes_that_cannot_reach_their_store_stop_instead_of_restarting(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The store went away after the supervising process opened it: each serving process
    # fails to build its app, and the supervisor stops them all and says so.
    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", f"postgresql://nobody:x@127.0.0.1:{free_port()}/gone")
    monkeypatch.setenv("SUBLEDGER_STORE_TIMEOUT", "1")

    assert serve("127.0.0.1", free_port(), 2) is False


def test_an_open_servers_processes_are_given_one_session_secret() -> None:
    environ: dict[str, str] = {}
    share_session_secret(Settings.from_env(environ), environ)

    first, second = Settings.from_env(environ), Settings.from_env(dict(environ))
    assert first.session_secret is not None and first.session_secret == second.session_secret


def test_a_deployments_own_secret_or_keys_are_left_to_sign() -> None:
    with_secret = {"SUBLEDGER_SESSION_SECRET": "s" * 40}
    with_keys = {"SUBLEDGER_API_KEYS": "k" * 32 + ":admin"}
    for environ in (with_secret, with_keys):
        before = dict(environ)
        share_session_secret(Settings.from_env(environ), environ)
        assert environ == before


@pytest.mark.parametrize(("processes_arg", "message"), [
    ("2", "needs PostgreSQL"), ("65", "--processes must be from 1 to 64"), ("0", "--processes"),
])
def test_serving_from_several_processes_is_refused_where_it_cannot_be(
        capsys, monkeypatch, tmp_path: Path, processes_arg: str, message: str) -> None:  # type: ignore[no-untyped-def]
    import uvicorn

    def must_not_start(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the server must not start")

    monkeypatch.setenv("SUBLEDGER_DATABASE_URL", f"sqlite:///{tmp_path}/ledger.db")
    monkeypatch.setattr(uvicorn, "run", must_not_start)

    assert main(["serve", "--processes", processes_arg]) == 2

    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert message in err
    assert not (tmp_path / "ledger.db").exists()
