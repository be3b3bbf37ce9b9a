"""The dashboard's charting library is vendored (served by the app, never from a CDN): the
committed file is the one `make vendor` pins, with its licence beside it."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from subledger.api.pages import STATIC

ROOT = Path(__file__).resolve().parents[2]


def _pin(name: str) -> str:
    match = re.search(rf"^{name}\s*:=\s*(\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert match, name
    return match[1]


def test_the_committed_chart_library_is_the_pinned_release_with_its_licence() -> None:
    library = (STATIC / "vendor" / "chart.umd.min.js").read_bytes()
    assert hashlib.sha256(library).hexdigest() == _pin("CHARTJS_SHA256")
    assert f"Chart.js v{_pin('CHARTJS_VERSION')}".encode() in library[:200]
    licence = (STATIC / "vendor" / "chart.js-LICENSE.md").read_text()
    assert "The MIT License" in licence and "Chart.js Contributors" in licence
