"""Reading a CSV of numbers against declared columns, with one line per problem.

The dyad-year panels (:mod:`sim.analysis.panel`) and forecast tables
(:mod:`sim.analysis.forecasts`) are both tables of numbers keyed by dyad and year. This
reads one fast (pandas, every declared column as float64, only an empty cell missing)
and checks it: the header has the required columns, every line has one cell per column,
every cell is a number in its column's domain, required cells are not empty. A problem
is an :class:`~sim.scenario.errors.Problem` at ``file:line:col`` (the header is line 1,
``col`` the character where the cell starts) naming the column and what to do; when a
column has the same problem on many lines the first is named and the others counted.
"""

from __future__ import annotations

import csv
import itertools
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..scenario.errors import InputError, Mark, Problem, suggest

if TYPE_CHECKING:
    import pandas as pd

MORE_SHOWN = 3
"""How many further lines with the same problem a message lists before counting the rest."""


@dataclass(frozen=True)
class Column:
    """A column's domain (``lo`` .. ``hi``, whole numbers only, or one of ``values``),
    whether a cell may be empty, and what a value means (for messages)."""

    name: str
    lo: float | None = 0
    hi: float | None = 1
    whole: bool = True
    missing_ok: bool = False
    meaning: str = "0 or 1"
    values: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Table:
    """A CSV read and checked cell by cell: the data (float64, NaN where empty), each row's
    line in the file, and the header as written."""

    path: Path
    frame: pd.DataFrame
    lines: np.ndarray
    header: list[str]

    def problem(self, col: str, rows: np.ndarray, message: str) -> Problem:
        """One line for a problem in column ``col`` on the rows where ``rows`` (a mask) holds."""
        return problem(self.path, self.header, col, self.lines[rows], message)


def read_table(path: str | Path, columns: dict[str, Column], required: Iterable[str], what: str,
               unknown: str = "ignore", drop_empty: Iterable[str] = ()) -> Table:
    """Read ``path`` with the declared ``columns`` and check every cell.

    ``what`` names the kind of file in messages ("a panel"). Columns not declared are
    ignored, or reported when ``unknown="error"``. A declared column in ``drop_empty`` whose
    cells are all empty is dropped before checking.
    """
    import pandas as pd

    path = Path(path)
    required = list(required)
    header = _header(path, what, required)
    _check_header(path, header, columns, required, what, unknown)
    usecols = [c for c in header if c in columns]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            df = pd.read_csv(path, usecols=usecols, dtype=dict.fromkeys(usecols, "float64"), engine="c",
                             keep_default_na=False, na_values=[""], skip_blank_lines=False, index_col=False,
                             encoding="utf-8-sig")
    except (ValueError, pd.errors.ParserError, pd.errors.ParserWarning, UnicodeDecodeError):
        raise InputError(_diagnose(path, header, columns, what)) from None
    if df.empty:
        raise InputError([Problem(Mark(str(path), 1, 1), "", f"has a header but no rows; {what} needs at least "
                                  "one row")])
    df = df.drop(columns=[c for c in drop_empty if c in df.columns and df[c].isna().all()])
    table = Table(path, df, np.arange(2, len(df) + 2), header)  # blank lines are rows, so line = row + 2
    problems = _check_fields(path, header) or _check_values(table, columns)
    if problems:
        raise InputError(problems)
    return table


def as_ints(df: pd.DataFrame, columns: dict[str, Column]) -> pd.DataFrame:
    """Whole-number columns that may not be empty as int64; the others stay float64."""
    return df.astype({c: "int64" for c in df.columns if columns[c].whole and not columns[c].missing_ok})


def duplicates(table: Table, key: tuple[str, str, str], what: str) -> list[Problem]:
    """Rows whose (ccode1, ccode2, year) key an earlier row already has."""
    df = table.frame
    c1, c2, y = (df[k].to_numpy().astype(np.int64) for k in key)
    keys = c1 * 1000 + c2 + y * 1_000_000
    order = np.argsort(keys, kind="stable")
    dup = np.zeros(len(keys), dtype=bool)
    dup[order[1:]] = keys[order[1:]] == keys[order[:-1]]
    if not dup.any():
        return []
    i = int(np.flatnonzero(dup)[0])
    first = int(table.lines[np.flatnonzero(keys == keys[i])[0]])
    return [table.problem(key[2], dup, f"dyad {c1[i]}-{c2[i]} in {y[i]} is already on line {first}; keep one "
                          f"row per {what}")]


def fmt(x: float) -> str:
    """A cell's value as written: ``3`` for whole numbers, ``0.25`` otherwise."""
    return f"{int(x)}" if float(x).is_integer() else f"{x:g}"


# ----------------------------------------------------------------------- checks


def _header(path: Path, what: str, required: list[str]) -> list[str]:
    name = str(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            first = fh.readline()
    except FileNotFoundError:
        raise InputError([Problem(Mark(name), "", f"no such file; give the path of {what} CSV")]) from None
    except IsADirectoryError:
        raise InputError([Problem(Mark(name), "", f"is a folder; give the path of {what} CSV")]) from None
    except UnicodeDecodeError:
        raise InputError([Problem(Mark(name, 1, 1), "", "is not UTF-8 text; save it as a UTF-8 CSV")]) from None
    except OSError as exc:
        raise InputError([Problem(Mark(name), "", f"cannot be read ({exc.strerror}); check the path")]) from None
    if not first.strip():
        raise InputError([Problem(Mark(name), "", f"is empty; {what} is a CSV with a header line ("
                                  + ",".join(required[:3]) + ",...) and one row per dyad-year")])
    return next(csv.reader([first]))


def _check_header(path: Path, header: list[str], columns: dict[str, Column], required: list[str], what: str,
                  unknown: str) -> None:
    name, problems, seen = str(path), [], set()
    for j, col in enumerate(header):
        if col in seen and (col in columns or unknown == "error"):
            problems.append(Problem(Mark(name, 1, col_of(header, j)), col, "is in the header twice; keep one"))
        elif col not in columns and unknown == "error":
            problems.append(Problem(Mark(name, 1, col_of(header, j)), col, f"is not a column of {what}"
                                    f"{suggest(col, columns)}; columns are {', '.join(columns)}: rename or "
                                    "remove it"))
        seen.add(col)
    extra = [c for c in header if c not in columns]
    for col in required:
        if col not in seen:
            problems.append(Problem(Mark(name, 1, 1), col, f"no such column{suggest(col, extra)}; {what} needs "
                                    f"{', '.join(required)}: add it"))
    if problems:
        raise InputError(problems)


def col_of(fields: list[str], j: int) -> int:
    """The 1-based character column where field ``j`` starts (exact for unquoted fields)."""
    return 1 + sum(len(f) + 1 for f in fields[:j])


def _line_fields(path: Path, line: int) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        text = next(itertools.islice(fh, line - 1, None), "")
    return next(csv.reader([text]), [])


def problem(path: Path, header: list[str], col: str, lines: np.ndarray, message: str) -> Problem:
    """One line for a column's problem on ``lines``: the first, then a few more and a count."""
    first = int(lines[0])
    return Problem(Mark(str(path), first, col_of(_line_fields(path, first), header.index(col))), col,
                   message + _more(lines))


def _more(lines) -> str:
    """`` (also lines 7, 9, 12 and 40 more)`` for the lines after the first."""
    if len(lines) < 2:
        return ""
    shown = ", ".join(str(int(x)) for x in lines[1:1 + MORE_SHOWN])
    rest = len(lines) - 1 - min(MORE_SHOWN, len(lines) - 1)
    return f" (also line{'s' if len(lines) > 2 else ''} {shown}" + (f" and {rest:,} more" if rest else "") + ")"


def _check_values(t: Table, columns: dict[str, Column]) -> list[Problem]:
    df = t.frame
    blank = df.isna().all(axis=1).to_numpy()
    if blank.any():
        return [t.problem(t.header[0], blank, "the line is blank; remove it")]
    problems = []
    for col in df.columns:
        spec = columns[col]
        x = df[col].to_numpy()
        empty = np.isnan(x)
        if not spec.missing_ok and empty.any():
            problems.append(t.problem(col, empty, f"the cell is empty; {col} needs a value in every row "
                                      f"({spec.meaning}): fill it in or drop the row"))
        v = np.where(empty, 0.0 if spec.lo is None else spec.lo, x)
        bad = ~np.isfinite(v)
        if spec.lo is not None:
            bad |= v < spec.lo
        if spec.hi is not None:
            bad |= v > spec.hi
        if spec.whole:
            bad |= np.isfinite(v) & (v != np.round(v))
        if spec.values is not None:
            bad |= ~np.isin(v, spec.values)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            problems.append(t.problem(col, bad, f"{fmt(x[i])} is not {spec.meaning}; correct the cell or drop "
                                      "the row"))
    return problems


def _check_fields(path: Path, header: list[str]) -> list[Problem]:
    """A line with more or fewer cells than the header (pandas pads short lines and, reading
    only the declared columns, drops long ones silently). Counts commas per line in one pass
    over the bytes; a file with quotes is left to the csv module."""
    data = path.read_bytes()
    if b'"' in data:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            counts = np.array([len(f) for f in csv.reader(fh)] or [0])
        lines = np.arange(1, len(counts) + 1)
        keep = counts > 0  # blank lines are reported with their column
    else:
        b = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero(b == ord("\n"))
        if len(ends) == 0 or ends[-1] != len(b) - 1:
            ends = np.append(ends, len(b))
        commas = np.flatnonzero(b == ord(","))
        starts = np.concatenate([[0], ends[:-1] + 1])
        counts = np.searchsorted(commas, ends) - np.searchsorted(commas, starts) + 1
        length = ends - starts
        keep = ~((length == 0) | ((length == 1) & (b[np.minimum(starts, len(b) - 1)] == ord("\r"))))
        lines = np.arange(1, len(counts) + 1)
    counts, lines = counts[keep], lines[keep]
    wrong = counts != len(header)
    if not wrong.any():
        return []
    i = int(np.flatnonzero(wrong)[0])
    return [Problem(Mark(str(path), int(lines[i]), 1), "", f"has {int(counts[i])} cells where the header has "
                    f"{len(header)}; give every row one cell per column")]


def _diagnose(path: Path, header: list[str], columns: dict[str, Column], what: str) -> list[Problem]:
    """Why pandas could not read the file: a line with the wrong number of cells, or the
    cells that are not numbers (the first of each column, with a count of the others)."""
    name = str(path)
    known = [(j, c) for j, c in enumerate(header) if c in columns]
    bad: dict[str, list[tuple[int, int, str]]] = {}
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for line, fields in enumerate(itertools.islice(csv.reader(fh), 1, None), start=2):
                if fields and len(fields) != len(header):
                    return [Problem(Mark(name, line, 1), "", f"has {len(fields)} cells where the header has "
                                    f"{len(header)}; give every row one cell per column")]
                for j, col in known:
                    cell = fields[j].strip() if j < len(fields) else ""
                    if cell and not _number(cell):
                        bad.setdefault(col, []).append((line, col_of(fields, j), cell))
    except UnicodeDecodeError as exc:
        return [Problem(Mark(name), "", f"is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as a "
                        "UTF-8 CSV")]
    except csv.Error as exc:
        return [Problem(Mark(name), "", f"is not a readable CSV ({exc}); check its quoting")]
    problems = []
    for col, cells in bad.items():
        line, c, cell = cells[0]
        more = _more([cell_line for cell_line, _, _ in cells])
        empty_ok = ", or leave the cell empty where the value is missing" if columns[col].missing_ok else ""
        problems.append(Problem(Mark(name, line, c), col, f"'{cell[:40]}' is not a number; write "
                                f"{columns[col].meaning}{empty_ok}{more}"))
    return problems or [Problem(Mark(name), "", f"could not be read as {what} (a CSV of numbers); check its format")]


def _number(cell: str) -> bool:
    try:
        return np.isfinite(float(cell)) or "inf" in cell.lower()
    except ValueError:
        return False


__all__ = ["Column", "Table", "as_ints", "col_of", "duplicates", "fmt", "problem", "read_table"]
