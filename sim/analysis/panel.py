"""Dyad-year panels: reading and checking a panel CSV (issue 21).

A panel has one row per non-directed dyad-year, keyed by ``ccode1 < ccode2`` (COW
state codes) and ``year``, with the features known at the start of the year and,
optionally, what MID codes for that year (the shared file
``dyad_years_1946_2002.csv``; its columns are described in ``shared/data/SOURCES.md``,
"Added 2026-12-06")::

    from sim.analysis.panel import read_panel
    panel = read_panel("dyad_years_1946_2002.csv", years="1993-2002")
    panel.frame            # pandas DataFrame, one row per dyad-year, in file order
    panel.outcomes         # the outcome columns the file has (none for a panel of later years)
    train = read_panel(path).select("1946-1992")

Empty cells are missing values. Where a feature may be missing (capabilities,
``log_cinc_ratio``, ``terr_prev``, military expenditure and personnel) its column is
float with NaN; every other column is a whole number (int64). Columns the kit does not
know are ignored.

A bad panel raises :class:`~sim.scenario.errors.InputError` with one line per problem,
naming the file, the line (the header is line 1) and column, and what to do:
a missing column, a non-numeric cell, a value outside its column's domain, an empty
required cell, a duplicated dyad-year, rows that contradict each other (``onset_force``
1 with ``onset`` 0), an empty file, or years asked for outside the file. When a column
has the same problem on many rows the first is named and the others counted.
"""

from __future__ import annotations

import csv
import itertools
import re
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..scenario.errors import InputError, Mark, Problem, option_error, suggest

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Column:
    """A panel column: its domain, whether it may be empty, and what it means."""

    name: str
    lo: float | None = 0
    hi: float | None = 1
    whole: bool = True
    missing_ok: bool = False
    meaning: str = "0 or 1"
    values: tuple[int, ...] | None = None


def _binary(name: str, missing_ok: bool = False) -> Column:
    return Column(name, missing_ok=missing_ok)


KEY = ("ccode1", "ccode2", "year")
"""The key of a dyad-year: ``ccode1 < ccode2``, one row per key."""

_CODE = "a COW state code (a whole number, 1 to 999)"
_HOSTLEV = "a MID hostility level: 0 none, 2 threat, 3 display, 4 use of force, 5 war"
FEATURES: dict[str, Column] = {c.name: c for c in [
    Column("ccode1", 1, 999, meaning=_CODE),
    Column("ccode2", 1, 999, meaning=_CODE),
    Column("year", 1816, 2200, meaning="a year (1816 to 2200)"),
    Column("conttype", 1, 6, meaning="a COW contiguity type: 1 land border, 2-5 water gaps of up to 12, 24, "
           "150, 400 miles, 6 not contiguous"),
    _binary("major1"), _binary("major2"),
    Column("cinc1", 0, 1, whole=False, missing_ok=True, meaning="a CINC share (0 to 1)"),
    Column("cinc2", 0, 1, whole=False, missing_ok=True, meaning="a CINC share (0 to 1)"),
    Column("log_cinc_ratio", 0, None, whole=False, missing_ok=True,
           meaning="ln(larger CINC / smaller CINC), 0 or more"),
    _binary("defense_pact"), _binary("def_major1"), _binary("def_major2"),
    _binary("mid_ongoing_prev"),
    Column("hostlev_prev", 0, 5, meaning=_HOSTLEV, values=(0, 2, 3, 4, 5)),
    _binary("fatal_prev"),
    Column("peace_years", 0, None, meaning="whole years of peace, 0 or more"),
    _binary("terr_prev", missing_ok=True),
    Column("mids_past10", 0, 10, meaning="years with a MID in the past ten (0 to 10)"),
]}
"""Required columns: the key and the features known at the start of the year."""

OPTIONAL_FEATURES: dict[str, Column] = {c.name: c for c in [
    Column(n, 0, None, whole=False, missing_ok=True, meaning="0 or more")
    for n in ("milex1", "milex2", "milper1", "milper2")
]}
"""Features read when present (NMC military expenditure and personnel)."""

OUTCOMES: dict[str, Column] = {c.name: c for c in [
    *(_binary(n) for n in ("onset", "onset_force", "onset_fatal", "onset_war", "onset_occupation",
                           "onset_occupy")),
    _binary("onset_terr", missing_ok=True),
    _binary("ongoing"),
    Column("hostlev", 0, 5, meaning=_HOSTLEV, values=(0, 2, 3, 4, 5)),
    _binary("fatal_any"), _binary("fatal_unknown"),
]}
"""Outcome columns (what MID codes for the year); a panel may have any of them, or none."""

FORECAST_OUTCOMES = ("onset", "onset_force", "onset_fatal", "onset_war", "onset_occupation", "onset_occupy",
                     "onset_terr", "ongoing", "fatal_any")
"""The yes/no outcomes a forecaster gives probabilities for (``hostlev`` is a level and
``fatal_unknown`` a coding flag, so neither is forecast)."""

IMPLIES: tuple[tuple[str, str, str], ...] = (
    ("fatal_prev", "mid_ongoing_prev", "fatal_prev is about the MIDs active last year"),
    ("mid_ongoing_prev", "hostlev_prev", "a MID active last year has a hostility level"),
    ("hostlev_prev", "mid_ongoing_prev", "a hostility level last year means a MID was active"),
    ("mid_ongoing_prev", "peace_years==0", "a MID last year means no year of peace since"),
    ("onset_force", "onset", "an onset with force is an onset"),
    ("onset_fatal", "onset", "a fatal onset is an onset"),
    ("onset_war", "onset_force", "a war onset is an onset with force"),
    ("onset_occupation", "onset", "an occupation or seizure onset is an onset"),
    ("onset_occupy", "onset_occupation", "an occupation of territory is an occupation or seizure"),
    ("onset_terr", "onset", "a territorial onset is an onset"),
    ("onset", "ongoing", "a dispute that starts in the year is active in it"),
    ("fatal_any", "ongoing", "a fatal dispute in the year is an active one"),
    ("fatal_unknown", "ongoing", "a dispute of unknown fatality in the year is an active one"),
    ("ongoing", "hostlev", "an active dispute has a hostility level"),
    ("hostlev", "ongoing", "a hostility level in the year means a dispute was active"),
)
"""Rows where the first holds (is above 0) and the second does not contradict the panel's
definitions (shared/data/SOURCES.md); ``peace_years==0`` holds when that column is 0."""



def scored_rows(frame: pd.DataFrame, outcome: str) -> np.ndarray:
    """The rows on which ``outcome`` is fitted and scored: where it is coded, and for
    ``fatal_any`` only where no dispute ran the year before (a running dispute's fatality
    code is carried from year to year, so it would score the coding, not a forecast)."""
    keep = frame[outcome].notna().to_numpy().copy()
    if outcome == "fatal_any":
        keep &= frame["mid_ongoing_prev"].to_numpy() == 0
    return keep


KNOWN = {**FEATURES, **OPTIONAL_FEATURES, **OUTCOMES}
MORE_SHOWN = 3
"""How many further lines with the same problem a message lists before counting the rest."""


@dataclass(frozen=True)
class Panel:
    """A checked dyad-year panel."""

    frame: pd.DataFrame
    path: str
    outcomes: tuple[str, ...]
    file_years: tuple[int, int]
    seconds: float = 0.0

    @property
    def years(self) -> tuple[int, int]:
        """The first and last year of the rows kept."""
        y = self.frame["year"]
        return (int(y.min()), int(y.max()))

    def select(self, years: str | tuple[int, int]) -> Panel:
        """The rows of the years ``A-B`` (both included), which must lie within this panel's."""
        a, b = parse_years(years) if isinstance(years, str) else years
        lo, hi = self.years
        if a < lo or b > hi:
            raise option_error("--years", f"{a}-{b} reaches outside the years of {self.path} ({lo}-{hi}); "
                               f"ask for years within {lo}-{hi}")
        keep = self.frame["year"].between(a, b).to_numpy()
        if not keep.any():
            raise option_error("--years", f"{self.path} has no rows in {a}-{b}; ask for years it has")
        return replace(self, frame=self.frame.loc[keep].reset_index(drop=True))

    def dyads(self) -> np.ndarray:
        """Each row's dyad as one integer (``ccode1 * 1000 + ccode2``), for resampling dyads."""
        return self.frame["ccode1"].to_numpy() * 1000 + self.frame["ccode2"].to_numpy()


_YEARS = re.compile(r"^\s*(\d{4})\s*(?:[-–]\s*(\d{4})\s*)?$")


def parse_years(text: str) -> tuple[int, int]:
    """``"1993-2002"`` (or one year, ``"1995"``) as ``(1993, 2002)``."""
    m = _YEARS.match(str(text))
    if not m:
        raise option_error("--years", f"'{text}' is not a range of years; write it as A-B, e.g. 1993-2002")
    a, b = int(m.group(1)), int(m.group(2) or m.group(1))
    if a > b:
        raise option_error("--years", f"'{text}' ends before it starts; write the earlier year first ({b}-{a})")
    return a, b


def read_panel(path: str | Path, years: str | tuple[int, int] | None = None) -> Panel:
    """Read and check a panel CSV; keep the rows of ``years`` (``"A-B"``) if given.

    The whole file is checked, whatever ``years`` keeps. Raises InputError on a bad
    panel (see the module's docstring).
    """
    import pandas as pd

    t0 = time.perf_counter()
    path = Path(path)
    name = str(path)
    header = _header(path)
    _check_header(name, header)
    usecols = [c for c in header if c in KNOWN]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            df = pd.read_csv(path, usecols=usecols, dtype=dict.fromkeys(usecols, "float64"), engine="c",
                             keep_default_na=False, na_values=[""], skip_blank_lines=False, index_col=False,
                             encoding="utf-8-sig")
    except (ValueError, pd.errors.ParserError, pd.errors.ParserWarning, UnicodeDecodeError):
        raise InputError(_diagnose(path, header)) from None
    if df.empty:
        raise InputError([Problem(Mark(name, 1, 1), "", "has a header but no rows; a panel needs at least one "
                                  "dyad-year")])
    lines = np.arange(2, len(df) + 2)  # blank lines are kept as rows, so line = row + 2
    outcomes = tuple(c for c in OUTCOMES if c in df.columns and df[c].notna().any())
    df = df.drop(columns=[c for c in OUTCOMES if c in df.columns and c not in outcomes])
    problems = _check_fields(path, header) or _check_values(path, df, header, lines) or _check_rows(
        path, df, header, lines)
    if problems:
        raise InputError(problems)
    df = df.astype({c: "int64" for c in df.columns if not KNOWN[c].missing_ok})
    first, last = int(df["year"].min()), int(df["year"].max())
    panel = Panel(frame=df, path=name, outcomes=outcomes, file_years=(first, last))
    if years is not None:
        panel = panel.select(years)
    return replace(panel, seconds=time.perf_counter() - t0)


# ----------------------------------------------------------------------- checks


def _header(path: Path) -> list[str]:
    name = str(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            first = fh.readline()
    except FileNotFoundError:
        raise InputError([Problem(Mark(name), "", "no such file; give the path of a panel CSV")]) from None
    except IsADirectoryError:
        raise InputError([Problem(Mark(name), "", "is a folder; give the path of a panel CSV")]) from None
    except UnicodeDecodeError:
        raise InputError([Problem(Mark(name, 1, 1), "", "is not UTF-8 text; save the panel as a UTF-8 CSV")]) from None
    except OSError as exc:
        raise InputError([Problem(Mark(name), "", f"cannot be read ({exc.strerror}); check the path")]) from None
    if not first.strip():
        raise InputError([Problem(Mark(name), "", "is empty; a panel is a CSV with a header line ("
                                  + ",".join(KEY) + ",...) and one row per dyad-year")])
    return next(csv.reader([first]))


def _check_header(name: str, header: list[str]) -> None:
    problems = []
    seen: set[str] = set()
    for j, col in enumerate(header):
        if col in seen and col in KNOWN:
            problems.append(Problem(Mark(name, 1, _col(header, j)), col, "is in the header twice; keep one"))
        seen.add(col)
    extra = [c for c in header if c not in KNOWN]
    for col in FEATURES:
        if col not in seen:
            problems.append(Problem(Mark(name, 1, 1), col, f"no such column{suggest(col, extra)}; a panel needs "
                                    f"{', '.join(FEATURES)}: add it"))
    if problems:
        raise InputError(problems)


def _col(fields: list[str], j: int) -> int:
    """The 1-based character column where field ``j`` starts (exact for unquoted fields)."""
    return 1 + sum(len(f) + 1 for f in fields[:j])


def _line_fields(path: Path, line: int) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        text = next(itertools.islice(fh, line - 1, None), "")
    return next(csv.reader([text]), [])


def _problem(path: Path, header: list[str], col: str, lines: np.ndarray, message: str) -> Problem:
    """One line for a column's problem on ``lines``: the first, then a few more and a count."""
    first = int(lines[0])
    j = header.index(col)
    more = ""
    if len(lines) > 1:
        shown = ", ".join(str(int(x)) for x in lines[1:1 + MORE_SHOWN])
        rest = len(lines) - 1 - min(MORE_SHOWN, len(lines) - 1)
        more = f" (also line{'s' if len(lines) > 2 else ''} {shown}" + (f" and {rest:,} more" if rest else "") + ")"
    return Problem(Mark(str(path), first, _col(_line_fields(path, first), j)), col, message + more)


def _fmt(x: float) -> str:
    return f"{int(x)}" if float(x).is_integer() else f"{x:g}"


def _check_values(path: Path, df: pd.DataFrame, header: list[str], lines: np.ndarray) -> list[Problem]:
    problems = []
    blank = df.isna().all(axis=1).to_numpy()
    if blank.any():
        return [_problem(path, header, header[0], lines[blank], "the line is blank; remove it")]
    for col in df.columns:
        spec = KNOWN[col]
        x = df[col].to_numpy()
        empty = np.isnan(x)
        if not spec.missing_ok and empty.any():
            problems.append(_problem(path, header, col, lines[empty], f"the cell is empty; {col} needs a value in "
                                     f"every row ({spec.meaning}): fill it in or drop the row"))
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
            problems.append(_problem(path, header, col, lines[bad], f"{_fmt(x[i])} is not {spec.meaning}; "
                                     "correct the cell or drop the row"))
    return problems


def _check_fields(path: Path, header: list[str]) -> list[Problem]:
    """A line with more or fewer cells than the header (pandas pads short lines and, reading
    only the known columns, drops long ones silently). Counts commas per line in one pass over
    the bytes; a file with quotes is left to the csv module."""
    data = path.read_bytes()
    if b'"' in data:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            counts = np.array([len(f) for f in csv.reader(fh) if f] or [0])
        lines = np.arange(1, len(counts) + 1)  # blank lines are reported by _check_values
    else:
        b = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero(b == ord("\n"))
        if len(ends) == 0 or ends[-1] != len(b) - 1:
            ends = np.append(ends, len(b))
        commas = np.flatnonzero(b == ord(","))
        starts = np.concatenate([[0], ends[:-1] + 1])
        counts = np.searchsorted(commas, ends) - np.searchsorted(commas, starts) + 1
        length = ends - starts
        blank = (length == 0) | ((length == 1) & (b[np.minimum(starts, len(b) - 1)] == ord("\r")))
        lines = np.arange(1, len(counts) + 1)
        counts, lines = counts[~blank], lines[~blank]
    wrong = counts != len(header)
    if not wrong.any():
        return []
    i = int(np.flatnonzero(wrong)[0])
    return [Problem(Mark(str(path), int(lines[i]), 1), "", f"has {int(counts[i])} cells where the header has "
                    f"{len(header)}; give every row one cell per column")]


def _holds(df: pd.DataFrame, expr: str) -> np.ndarray:
    if expr.endswith("==0"):
        return df[expr[:-3]].to_numpy() == 0
    return df[expr].to_numpy() > 0


def _check_rows(path: Path, df: pd.DataFrame, header: list[str], lines: np.ndarray) -> list[Problem]:
    problems = []
    c1, c2 = df["ccode1"].to_numpy(), df["ccode2"].to_numpy()
    bad = c1 >= c2
    if bad.any():
        problems.append(_problem(path, header, "ccode1", lines[bad], "is not below ccode2; a dyad is written "
                                 "once, with the smaller state code first: swap the pair's columns"))
    keys = c1.astype(np.int64) * 1000 + c2.astype(np.int64) + df["year"].to_numpy().astype(np.int64) * 1_000_000
    order = np.argsort(keys, kind="stable")
    dup = np.zeros(len(keys), dtype=bool)
    dup[order[1:]] = keys[order[1:]] == keys[order[:-1]]
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        same = np.flatnonzero(keys == keys[i])
        problems.append(_problem(path, header, "year", lines[dup], f"dyad {int(c1[i])}-{int(c2[i])} in "
                                 f"{int(df['year'].iat[i])} is already on line {int(lines[same[0]])}; keep one "
                                 "row per dyad-year"))
    for a, b, why in IMPLIES:
        if a not in df.columns or b.removesuffix("==0") not in df.columns:
            continue
        va = _holds(df, a)
        contra = va & ~_holds(df, b) & df[b.removesuffix("==0")].notna().to_numpy()
        if contra.any():
            what = f"{b.removesuffix('==0')} is not 0" if b.endswith("==0") else f"{b} is 0"
            problems.append(_problem(path, header, a, lines[contra], f"is {_fmt(df[a].to_numpy()[contra][0])} "
                                     f"where {what} ({why}); correct one of the two"))
    return problems


def _diagnose(path: Path, header: list[str]) -> list[Problem]:
    """The cells pandas could not read as numbers, and lines with a wrong number of fields."""
    name = str(path)
    problems: list[Problem] = []
    known = [(j, c) for j, c in enumerate(header) if c in KNOWN]
    bad: dict[tuple[str, str], list[int]] = {}
    first: dict[tuple[str, str], tuple[int, int, str]] = {}
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for line, fields in enumerate(csv.reader(fh), start=1):
                if line == 1:
                    continue
                if fields and len(fields) != len(header):
                    problems.append(Problem(Mark(name, line, 1), "", f"has {len(fields)} fields where the header "
                                            f"has {len(header)}; give every row one cell per column"))
                    break
                for j, col in known:
                    cell = fields[j].strip() if j < len(fields) else ""
                    if cell and not _number(cell):
                        key = (col, "nan")
                        bad.setdefault(key, []).append(line)
                        first.setdefault(key, (line, _col(fields, j), cell))
    except UnicodeDecodeError as exc:
        return [Problem(Mark(name), "", f"is not UTF-8 text ({exc.reason} at byte {exc.start}); save the panel "
                        "as a UTF-8 CSV")]
    except csv.Error as exc:
        return [Problem(Mark(name), "", f"is not a readable CSV ({exc}); check its quoting")]
    for (col, _), ls in bad.items():
        line, c, cell = first[(col, "nan")]
        more = f" (and {len(ls) - 1:,} more line{'s' if len(ls) > 2 else ''})" if len(ls) > 1 else ""
        problems.append(Problem(Mark(name, line, c), col, f"'{cell[:40]}' is not a number; write "
                                f"{KNOWN[col].meaning}, or leave the cell empty where a value is missing{more}"))
    return problems or [Problem(Mark(name), "", "could not be read as a CSV of numbers; check its format")]


def _number(cell: str) -> bool:
    try:
        return np.isfinite(float(cell)) or "inf" in cell.lower()
    except ValueError:
        return False


__all__ = ["FEATURES", "FORECAST_OUTCOMES", "IMPLIES", "KEY", "OPTIONAL_FEATURES", "OUTCOMES", "Column", "Panel",
           "parse_years", "read_panel", "scored_rows"]
