"""What the package installs beside its code: the templates the API renders documents and
pages with, and the pages' assets (a file pyproject.toml does not name as package data would
be missing from a wheel and the Docker image, though present in a checkout)."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

from subledger.api.pages import STATIC, TEMPLATES

ROOT = Path(__file__).resolve().parents[2]


def test_every_template_and_asset_of_the_api_is_package_data() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    package = ROOT / setuptools["package-dir"]["subledger.api"]
    globs = setuptools["package-data"]["subledger.api"]
    files = [p.relative_to(package).as_posix() for folder in ("templates", "static")
             for p in (package / folder).rglob("*") if p.is_file()]
    assert {"templates/document.html", "templates/base.html", "static/site.css"} <= set(files)
    assert [f for f in files if not any(fnmatch(f, g) for g in globs)] == []
    assert (TEMPLATES, STATIC) == (package / "templates", package / "static")


def test_every_template_of_the_messages_is_package_data() -> None:
    from subledger.messages.compose import TEMPLATES as MESSAGES
    from subledger.messages.kinds import KINDS

    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    package = ROOT / setuptools["package-dir"]["subledger.messages"]
    globs = setuptools["package-data"]["subledger.messages"]
    templates = [p.relative_to(package).as_posix() for p in (package / "templates").rglob("*") if p.is_file()]
    assert sorted(templates) == sorted(f"templates/{kind}.txt" for kind in KINDS)
    assert [t for t in templates if not any(fnmatch(t, g) for g in globs)] == []
    assert package / "templates" == MESSAGES
