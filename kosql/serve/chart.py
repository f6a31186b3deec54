"""A declarative chart spec for a query result: which column is the axis, which the value.

The page draws the chart itself from this spec and the rows (never code from the model). A result
gets a chart when one column holds categories or dates and another holds numbers:

* ``line`` when the axis column holds dates (``2024``, ``2024-03``, ``2024-03-05 ...``), points in
  axis order; ``bar`` for categories (at most ``MAX_BARS`` of them);
* otherwise (one column, no number column, only numbers, too many bars) ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

MAX_BARS = 40
MAX_POINTS = 500
_DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?)?)?$")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _kind_of(values: list[Any]) -> str | None:
    """'number', 'date', 'category' or None (mixed / empty) for one column's non-null values."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    if all(_is_number(v) for v in present):
        return "number"
    if all(isinstance(v, str) for v in present):
        if all(_DATE_RE.match(v.strip()) for v in present):
            return "date"
        return "category"
    return None


def chart_spec(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> dict[str, Any] | None:
    """``{"kind", "x", "y", "x_type", "title"}`` naming columns of the result, or None."""
    if len(columns) < 2 or not rows or len(rows) > MAX_POINTS:
        return None
    kinds = [_kind_of([row[i] if i < len(row) else None for row in rows]) for i in range(len(columns))]
    axis = next((i for i, k in enumerate(kinds) if k == "date"), None)
    if axis is None:
        axis = next((i for i, k in enumerate(kinds) if k == "category"), None)
    value = next((i for i, k in enumerate(kinds) if k == "number" and i != axis), None)
    if axis is None or value is None:
        return None
    x_type = kinds[axis]
    if x_type == "category" and len(rows) > MAX_BARS:
        return None
    return {"kind": "line" if x_type == "date" else "bar", "x": columns[axis], "y": columns[value],
            "x_index": axis, "y_index": value, "x_type": x_type,
            "title": f"{columns[value]} / {columns[axis]}"}
