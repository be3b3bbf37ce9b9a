"""``python -m subledger.schemas [DIR]``: write the JSON Schema of every event type
(``subledger.contract.schemas``) to ``DIR/<Type>.json`` (default ``schemas/``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from subledger.contract.schemas import all_schemas


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in all_schemas().items():
        path = directory / f"{name}.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover
    for path in write(Path(sys.argv[1] if len(sys.argv) > 1 else "schemas")):
        print(path)
