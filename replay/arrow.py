"""Arrow tables for notebooks and exports (the ``analytics`` extra: pyarrow, pandas).

pyarrow is imported only when a table is asked for, so the ledger runs without the extra;
asking without it says how to install it.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from .rows import columns


class AnalyticsUnavailable(RuntimeError):
    """pyarrow (the ``analytics`` extra) is not installed."""


def pyarrow() -> ModuleType:
    try:
        import pyarrow as pa
    except ImportError:
        raise AnalyticsUnavailable(
            "tables need pyarrow: pip install 'subledger[analytics]'") from None
    return pa


def table_of_rows(rows: list[dict[str, Any]]) -> Any:
    """Rows (as :func:`~subledger.replay.rows.rows_of` makes them) as a ``pyarrow.Table``;
    every row gets every column (None where it has none), types inferred by Arrow (a
    ``Decimal`` column is ``decimal128``, never a float)."""
    pa = pyarrow()
    names = columns(rows)
    return pa.table({name: pa.array([row.get(name) for row in rows]) for name in names})
