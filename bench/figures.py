"""Every figure a benchmark run measured, with its baseline, gathered for one table.

Each benchmark still prints its own lines as it goes; it also hands each figure here
(:func:`record`), and ``python -m bench`` prints them all at the end (:func:`table`): the
figure, its value, the baseline measured in the same run and the ratio between them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    benchmark: str
    name: str
    value: float
    unit: str
    baseline: str
    """What the figure is measured against (empty: a figure with no baseline)."""
    baseline_value: float | None = None
    ratio: float | None = None
    """``value / baseline_value``, or a ratio the benchmark computed itself (a growth)."""


_FIGURES: list[Figure] = []


def record(benchmark: str, name: str, value: float, unit: str, baseline: str = "",
           baseline_value: float | None = None, ratio: float | None = None) -> None:
    """Keep a figure for the table; the ratio is ``value / baseline_value`` unless given."""
    if ratio is None and baseline_value:
        ratio = value / baseline_value
    _FIGURES.append(Figure(benchmark, name, value, unit, baseline, baseline_value, ratio))


def figures() -> list[Figure]:
    return list(_FIGURES)


def table(found: list[Figure]) -> str:
    """One text table: benchmark, figure, value, baseline (name and value), ratio."""
    head = ("benchmark", "figure", "value", "baseline", "baseline value", "ratio")
    rows = [head] + [
        (f.benchmark, f.name, f"{f.value:,.1f} {f.unit}", f.baseline or "-",
         "-" if f.baseline_value is None else f"{f.baseline_value:,.1f} {f.unit}",
         "-" if f.ratio is None else f"{f.ratio:.3f}x")
        for f in found
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
