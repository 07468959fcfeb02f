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

import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..scenario.errors import InputError, Problem, option_error
from .csvtable import Column, Table, as_ints, duplicates, fmt, read_table

if TYPE_CHECKING:
    import pandas as pd


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
    t0 = time.perf_counter()
    table = read_table(path, KNOWN, FEATURES, "a panel", drop_empty=OUTCOMES)
    problems = _check_rows(table)
    if problems:
        raise InputError(problems)
    df = as_ints(table.frame, KNOWN)
    outcomes = tuple(c for c in OUTCOMES if c in df.columns)
    first, last = int(df["year"].min()), int(df["year"].max())
    panel = Panel(frame=df, path=str(path), outcomes=outcomes, file_years=(first, last))
    if years is not None:
        panel = panel.select(years)
    return replace(panel, seconds=time.perf_counter() - t0)


# ----------------------------------------------------------------------- checks


def _holds(df: pd.DataFrame, expr: str) -> np.ndarray:
    if expr.endswith("==0"):
        return df[expr[:-3]].to_numpy() == 0
    return df[expr].to_numpy() > 0


def _check_rows(t: Table) -> list[Problem]:
    df = t.frame
    problems = []
    bad = df["ccode1"].to_numpy() >= df["ccode2"].to_numpy()
    if bad.any():
        problems.append(t.problem("ccode1", bad, "is not below ccode2; a dyad is written once, with the smaller "
                                  "state code first: swap the pair's codes"))
    problems += duplicates(t, KEY, "dyad-year")
    for a, b, why in IMPLIES:
        col = b.removesuffix("==0")
        if a not in df.columns or col not in df.columns:
            continue
        contra = _holds(df, a) & ~_holds(df, b) & df[col].notna().to_numpy()
        if contra.any():
            what = f"{col} is not 0" if b.endswith("==0") else f"{b} is 0"
            problems.append(t.problem(a, contra, f"is {fmt(df[a].to_numpy()[contra][0])} where {what} ({why}); "
                                      "correct one of the two"))
    return problems


__all__ = ["FEATURES", "FORECAST_OUTCOMES", "IMPLIES", "KEY", "OPTIONAL_FEATURES", "OUTCOMES", "Column", "Panel",
           "parse_years", "read_panel", "scored_rows"]
