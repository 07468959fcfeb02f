"""CSV text of a table, byte for byte as pandas' ``DataFrame.to_csv(float_format=...)`` writes it,
without importing pandas: ``sim run`` paid that import with every run folder (its data files
after a 10,000-run karabakh run took 0.26-0.30 s of CPU, now 0.02 s).

A table is an ordered mapping of column names to columns (lists or 1-D numpy arrays of one
length). A column is written as pandas would type it:

* a float array, or a list of numbers with at least one float or missing value (None, NaN):
  each number through ``float_format`` (``"%.6g"``), a missing one as an empty cell;
* an integer array, or a list of integers only: ``str`` of each;
* a bool array, or a list of bools only: ``True``/``False``;
* anything else (text, text with missing values): ``str`` of each, a missing value empty.

Cells are quoted as the standard library's :mod:`csv` quotes them by default (only where
they hold a comma, a quote or a line break), lines end with ``\\n``.
tests/test_csvtext.py checks it against pandas itself on random tables.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float | np.floating) and math.isnan(v))


def _kind(column: Sequence[Any]) -> str:
    """``f`` (floats), ``i`` (integers), ``b`` (bools) or ``O`` (anything else), as pandas
    would type the column."""
    if isinstance(column, np.ndarray):
        return column.dtype.kind if column.dtype.kind in "fiub" else "O"
    if not column:
        return "O"
    if all(isinstance(v, bool | np.bool_) for v in column):
        return "b"
    if all(isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_) for v in column):
        return "i"
    if all(v is None or (isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_))
           for v in column):
        return "f"
    return "O"


def _cells(column: Sequence[Any], float_format: str) -> list[str]:
    kind = _kind(column)
    values = column.tolist() if isinstance(column, np.ndarray) else list(column)
    if kind == "f":
        return ["" if _missing(v) else float_format % float(v) for v in values]
    if kind in "iub":
        return [str(v) for v in values]
    return ["" if _missing(v) else str(v) for v in values]


def to_csv(columns: Mapping[str, Sequence[Any]], *, index: str | None = None, float_format: str = "%.6g") -> str:
    """The CSV text of ``columns``: a header line of their names, then a line per row.

    ``index`` names the column that ``DataFrame.set_index`` would have made the index (it is
    written first, as ``to_csv`` writes an index); without it every column is written in
    order, as ``to_csv(index=False)``. Every column must have the same length.
    """
    names = list(columns)
    if index is not None:
        names.remove(index)
        names.insert(0, index)
    cells = [_cells(columns[n], float_format) for n in names]
    lengths = {len(c) for c in cells}
    if len(lengths) > 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(names)
    w.writerows(zip(*cells, strict=True))
    return buf.getvalue()


def rows_to_columns(rows: Sequence[Mapping[str, Any]], names: Sequence[str] | None = None) -> dict[str, list[Any]]:
    """Rows (dicts with the same keys) as columns: ``names`` (default: the first row's keys),
    each the list of the rows' values."""
    names = list(names) if names is not None else list(rows[0]) if rows else []
    return {n: [r[n] for r in rows] for n in names}
