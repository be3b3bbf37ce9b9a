"""The ``subledger`` command line. Exit codes: 0 ok, 1 a check failed, 2 bad usage or
bad input (one line on stderr)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from .config import ConfigError, Settings


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="subledger", description="An event-sourced subscription ledger.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = commands.add_parser("serve", help="serve the HTTP API (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-workers", action="store_true",
                       help="do not run the projector or relay in this process")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        settings = Settings.from_env(os.environ)
    except UsageError as error:
        print(str(error), file=sys.stderr)
        return 2
    except ConfigError as error:
        print(f"subledger: {error}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(settings, args.host, args.port)
    return 2  # pragma: no cover - argparse requires a known command


def _serve(settings: Settings, host: str, port: int) -> int:
    import uvicorn

    from .bootstrap import build_api

    if not 0 < port < 65536:
        print("subledger: --port must be from 1 to 65535", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        app = build_api(settings)
    except Exception as error:  # noqa: BLE001 - the store being unreachable is an operator error
        print(f"subledger: cannot open the event store: {error}".splitlines()[0], file=sys.stderr)
        return 2
    uvicorn.run(app, host=host, port=port, log_level="info")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
