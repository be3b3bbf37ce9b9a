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


def to_pandas(table: Any) -> Any:
    """A ``pyarrow.Table`` as a ``pandas.DataFrame`` whose integer columns stay integers.

    pandas' own conversion turns an integer column holding a null (an ``amount`` of an
    event without one) into float64: minor units would become floats. Integers become
    pandas' nullable integer types instead (``Int64``: exact, nulls as ``pd.NA``)."""
    import pandas as pd

    pa = pyarrow()
    nullable = {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(),
                pa.int64(): pd.Int64Dtype(), pa.uint8(): pd.UInt8Dtype(), pa.uint16(): pd.UInt16Dtype(),
                pa.uint32(): pd.UInt32Dtype(), pa.uint64(): pd.UInt64Dtype()}
    return table.to_pandas(types_mapper=nullable.get)
