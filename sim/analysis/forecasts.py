"""Forecast tables of dyad-years (``forecasts.csv``) and scoring them against a panel.

A forecasts table has the columns ``ccode1, ccode2, year`` and then one column per
outcome it forecasts (any of :data:`~sim.analysis.panel.FORECAST_OUTCOMES`), each a
probability; one row per dyad-year. Anyone can score one against a panel that has the
outcome columns::

    from sim.analysis.forecasts import base_rates, evaluate, read_forecasts
    train, test = panel.select("1946-1992"), panel.select("1993-2002")
    ev = evaluate(test, {"model": read_forecasts("forecasts.csv"), "regression": reg.predict(test)},
                  base_rates(train), reference="regression")
    ev.scores         # per forecaster, outcome and period: n, events, Brier, log score, AUC, Brier skill
    ev.comparisons    # per outcome: forecaster - reference, skill and AUC, paired bootstrap over dyads

Rows are joined on the key; all forecasters are scored on the panel rows that every one of
them forecasts, and the rows missing on either side are reported (``ev.matching``). An
outcome is scored on :func:`~sim.analysis.panel.scored_rows` (``fatal_any`` only where no
dispute ran the year before). Brier skill is against the *training* base rate, the rate
forecast for every row.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..scenario.errors import InputError, Mark, Problem
from . import scores as S
from .csvtable import Column, as_ints, duplicates, read_table
from .panel import FEATURES, FORECAST_OUTCOMES, KEY, Panel, scored_rows

if TYPE_CHECKING:
    import pandas as pd

FORECASTS_FILE = "forecasts.csv"
BASE_RATE = "base rate"
"""The name of the reference forecaster that gives the training base rate to every row."""
COLUMNS: dict[str, Column] = {
    **{k: FEATURES[k] for k in KEY},
    **{k: Column(k, 0, 1, whole=False, meaning="a probability (0 to 1)") for k in FORECAST_OUTCOMES},
}
"""The columns a forecasts table may have."""


# ----------------------------------------------------------------------------- I/O


def read_forecasts(path: str | Path) -> pd.DataFrame:
    """Read and check a forecasts CSV (InputError with one line per problem)."""
    t = read_table(path, COLUMNS, KEY, "a forecasts table", unknown="error")
    problems = duplicates(t, KEY, "dyad-year")
    if not [c for c in t.frame.columns if c in FORECAST_OUTCOMES]:
        problems.append(Problem(Mark(str(path), 1, 1), "", "has no forecast column; add one or more of "
                                + ", ".join(FORECAST_OUTCOMES)))
    if problems:
        raise InputError(problems)
    return as_ints(t.frame, COLUMNS)


def write_forecasts(forecasts: pd.DataFrame, path: str | Path) -> Path:
    """Write ``forecasts`` (key columns, then outcome probabilities) as CSV, whole or not at all."""
    from ..results import atomic_write

    cols = [c for c in forecasts.columns if c not in KEY]
    wrong = [c for c in cols if c not in FORECAST_OUTCOMES]
    if [c for c in KEY if c not in forecasts.columns] or wrong or not cols:
        raise ValueError(f"a forecasts table has the columns {', '.join(KEY)} and one or more of "
                         f"{', '.join(FORECAST_OUTCOMES)} (got {', '.join(map(str, forecasts.columns))})")
    f = forecasts[cols].to_numpy(dtype=float)
    if not np.all((f >= 0) & (f <= 1)):
        raise ValueError("forecasts must be probabilities between 0 and 1")
    out = forecasts[list(KEY) + cols]
    path = Path(path)
    atomic_write(path, out.to_csv(index=False, float_format="%.6g", lineterminator="\n"))
    return path


def base_rates(panel: Panel) -> dict[str, float]:
    """Each outcome's rate over the rows it is scored on (for the training years' panel)."""
    out = {}
    for k in FORECAST_OUTCOMES:
        if k in panel.outcomes:
            keep = scored_rows(panel.frame, k)
            out[k] = float(panel.frame[k].to_numpy(dtype=float)[keep].mean()) if keep.any() else float("nan")
    return out


# ------------------------------------------------------------------------- matching


def _keys(frame: pd.DataFrame) -> np.ndarray:
    return (frame["year"].to_numpy().astype(np.int64) * 1_000_000 + frame["ccode1"].to_numpy().astype(np.int64)
            * 1000 + frame["ccode2"].to_numpy().astype(np.int64))


def match(panel: Panel, forecasters: dict[str, pd.DataFrame]) -> tuple[np.ndarray, dict[str, np.ndarray], list[str]]:
    """The panel rows every forecaster forecasts (a mask), each forecaster's row for each of
    them (an index into its table), and a note per forecaster that misses rows or has extra."""
    pk = _keys(panel.frame)
    keep = np.ones(len(pk), dtype=bool)
    where: dict[str, np.ndarray] = {}
    notes = []
    for name, fc in forecasters.items():
        fk = _keys(fc)
        if len(np.unique(fk)) != len(fk):
            raise ValueError(f"the forecasts of {name} have a dyad-year twice")
        order = np.argsort(fk)
        pos = np.searchsorted(fk[order], pk)
        found = (pos < len(fk)) & (fk[order][np.minimum(pos, len(fk) - 1)] == pk)
        where[name] = order[np.minimum(pos, len(fk) - 1)]
        keep &= found
        extra = len(fk) - int(found.sum())
        if (~found).any() or extra:
            ex = panel.frame.loc[~found, list(KEY)].head(3).to_numpy()
            notes.append(f"{name}: {int((~found).sum()):,} of the panel's {len(pk):,} rows have no forecast"
                         + (" (e.g. " + ", ".join(f"{a}-{b} {y}" for a, b, y in ex) + ")" if len(ex) else "")
                         + f"; {extra:,} forecast rows are not in the panel")
    if not keep.any():
        raise InputError([Problem(Mark(panel.path), "", "no dyad-year of the panel has a forecast from every "
                                  f"forecaster ({', '.join(forecasters)}); score forecasts of the panel's years")])
    return keep, {k: v[keep] for k, v in where.items()}, notes


# -------------------------------------------------------------------------- scoring


def periods(years: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """``("all", mask)`` and one ``("1990-1999", mask)`` per decade, clipped to the years present."""
    lo, hi = int(years.min()), int(years.max())
    out = [("all", np.ones(len(years), dtype=bool))]
    for d in range(lo // 10 * 10, hi + 1, 10):
        m = (years >= d) & (years <= d + 9)
        if m.any():
            out.append((f"{max(d, lo)}-{min(d + 9, hi)}", m))
    return out


def _score_row(forecaster: str, outcome: str, period: str, f: np.ndarray, o: np.ndarray, rate: float) -> dict:
    return {"forecaster": forecaster, "outcome": outcome, "period": period, "n": int(o.size),
            "events": int(o.sum()), "brier": S.brier(f, o), "log_score": S.log_score(f, o), "auc": S.auc(f, o),
            "brier_skill": S.brier_skill(f, o, rate), "base_rate": rate}


@dataclass(frozen=True)
class Scored:
    """The rows scored and each forecaster's forecasts of each outcome on them."""

    frame: pd.DataFrame
    forecasts: dict[str, dict[str, np.ndarray]]
    """forecaster -> outcome -> forecasts, aligned with ``frame``."""
    notes: list[str]


def align(panel: Panel, forecasters: dict[str, pd.DataFrame], rates: dict[str, float]) -> Scored:
    """Join the forecasters to the panel and add the base-rate forecaster."""
    if not panel.outcomes:
        raise InputError([Problem(Mark(panel.path), "", "has no outcome columns, so there is nothing to score "
                                  "the forecasts against")])
    keep, where, notes = match(panel, forecasters)
    frame = panel.frame.loc[keep].reset_index(drop=True)
    outcomes = [k for k in FORECAST_OUTCOMES if k in panel.outcomes
                and any(k in fc.columns for fc in forecasters.values())]
    if not outcomes:
        raise InputError([Problem(Mark(panel.path), "", "codes none of the outcomes the forecasts give; score "
                                  "them against a panel with those outcome columns")])
    fcs = {name: {k: fc[k].to_numpy(dtype=float)[where[name]] for k in outcomes if k in fc.columns}
           for name, fc in forecasters.items()}
    fcs[BASE_RATE] = {k: np.full(len(frame), rates[k]) for k in outcomes}
    return Scored(frame, fcs, notes)


def score_table(sc: Scored, rates: dict[str, float]) -> pd.DataFrame:
    """Per forecaster, outcome and period (all, then each decade): n, events, Brier, log
    score, AUC, Brier skill against the base rate, the base rate."""
    import pandas as pd

    years = sc.frame["year"].to_numpy()
    rows = []
    for name, per in sc.forecasts.items():
        for k, f in per.items():
            keep = scored_rows(sc.frame, k)
            o = sc.frame[k].to_numpy(dtype=float)
            for period, m in periods(years):
                sel = keep & m
                if sel.any():
                    rows.append(_score_row(name, k, period, f[sel], o[sel], rates[k]))
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Evaluation:
    """Everything the hindcast report shows."""

    scores: pd.DataFrame
    """:func:`score_table`, with the bootstrap interval of each forecaster's skill and AUC
    (``brier_skill_low/high``, ``auc_low/high``) on the ``all`` rows."""
    comparisons: pd.DataFrame
    """Per outcome and forecaster: minus the reference, Brier skill and AUC, with paired
    bootstrap intervals over dyads."""
    reliability: pd.DataFrame
    """Per forecaster, outcome and period: :func:`~sim.analysis.scores.reliability_equal`."""
    notes: list[str]
    details: dict = field(default_factory=dict)


def evaluate(panel: Panel, forecasters: dict[str, pd.DataFrame], rates: dict[str, float], *,
             reference: str | None = None, replicates: int = 1000, seed: int = 0, bins: int = 10,
             details: dict | None = None) -> Evaluation:
    """Score ``forecasters`` (name -> forecasts table) on ``panel`` against the training base
    ``rates``; compare each with ``reference`` (a forecaster's name) by a paired bootstrap
    over dyads (``replicates`` draws, ``seed``); reliability in ``bins`` equal-count bins."""
    import pandas as pd

    if reference is not None and reference not in forecasters:
        raise ValueError(f"the reference '{reference}' is not one of the forecasters ({', '.join(forecasters)})")
    t0 = time.perf_counter()
    sc = align(panel, forecasters, rates)
    table = score_table(sc, rates)
    dyads = sc.frame["ccode1"].to_numpy() * 1000 + sc.frame["ccode2"].to_numpy()
    years = sc.frame["year"].to_numpy()
    comps, ci, rel = [], {}, []
    for k in sc.forecasts[BASE_RATE]:
        keep = scored_rows(sc.frame, k)
        o = sc.frame[k].to_numpy(dtype=float)
        named = [n for n in forecasters if k in sc.forecasts[n]]
        ref = reference if reference in named else BASE_RATE
        for name in [n for n in named if n != ref] or named:
            b = S.paired_bootstrap(sc.forecasts[name][k][keep], sc.forecasts[ref][k][keep], o[keep], dyads[keep],
                                   rates[k], replicates=replicates, seed=seed)
            for who, side in ((name, "a"), (ref, "b")):
                ci[(who, k)] = (*b["brier_skill"][f"{side}_ci"], *b["auc"][f"{side}_ci"])
            if name != ref:
                comps.append({"outcome": k, "forecaster": name, "reference": ref, **{
                    f"{m}_{part}": b[m][key] for m in ("brier_skill", "auc")
                    for part, key in (("difference", "difference"), ("low", "ci_low"), ("high", "ci_high"))},
                    "replicates": replicates, "dyads": b["groups"]})
        for name in [*named, BASE_RATE]:
            for period, m in periods(years):
                sel = keep & m
                if sel.sum() >= bins:
                    t = S.reliability_equal(sc.forecasts[name][k][sel], o[sel], bins)
                    rel.append(t.assign(forecaster=name, outcome=k, period=period))
    for col, j in (("brier_skill_low", 0), ("brier_skill_high", 1), ("auc_low", 2), ("auc_high", 3)):
        table[col] = [ci[(f, k)][j] if p == "all" and (f, k) in ci else np.nan
                      for f, k, p in zip(table["forecaster"], table["outcome"], table["period"], strict=True)]
    info = {"panel": panel.path, "years": panel.years, "rows_scored": len(sc.frame),
            "forecasters": list(forecasters), "reference": reference, "base_rates": dict(rates),
            "replicates": replicates, "seed": seed, "bins": bins, **(details or {})}
    info["scoring_seconds"] = time.perf_counter() - t0
    return Evaluation(table, pd.DataFrame(comps), pd.concat(rel, ignore_index=True) if rel else pd.DataFrame(),
                      sc.notes, info)


__all__ = ["BASE_RATE", "COLUMNS", "FORECASTS_FILE", "Evaluation", "Scored", "align", "base_rates", "evaluate",
           "match", "periods", "read_forecasts", "score_table", "write_forecasts"]
