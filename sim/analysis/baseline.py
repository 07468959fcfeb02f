"""The statistical baseline to beat: a logistic regression per outcome on the panel's features.

::

    from sim.analysis.panel import read_panel
    from sim.analysis.baseline import fit_baseline
    panel = read_panel("dyad_years_1946_2002.csv")
    reg = fit_baseline(panel.select("1946-1992"))        # one model per outcome the panel codes
    forecasts = reg.predict(panel.select("1993-2002"))   # ccode1, ccode2, year, one column per outcome

Feature coding (:func:`design`), the same for every outcome; statistics are taken from
the training rows only and reused unchanged for any panel the fit forecasts:

* ``log_cinc_ratio`` (ln of the larger over the smaller CINC), a missing value replaced
  by the training median, and ``lcr_missing`` (1 where it was missing: new states);
* contiguity as dummies of the COW ``conttype`` (``cont2`` .. ``cont6``; a land border,
  type 1, is the reference): the codes are categories, not a scale;
* ``majors``: how many of the two are major powers (0-2);
* ``defense_pact`` between the two;
* ``def_majors``: how many of the two have a defence pact with a major power (0-2). The
  sides are ordered by state code, not by role, so they enter symmetrically;
* ``ongoing_prev``: a dispute was active last year;
* last year's hostility as dummies ``host3`` .. ``host5`` (display, use of force, war).
  A hostility level above 0 means a dispute ran last year and the other way round (the
  panel reader checks it), so with ``ongoing_prev`` in the model a dummy for every level
  would be collinear: threat (2) is the reference level of a running dispute, and
  ``ongoing_prev`` its effect;
* ``fatal_prev``;
* ``log_peace`` = ln(1 + peace_years) and ``peace0`` (peace_years == 0: a dispute last
  year, or a dyad new to the system);
* ``terr_prev`` with missing replaced by 0, and ``terr_missing``;
* ``mids_past10`` (years with a dispute in the past ten).

Each feature is standardized with the training mean and standard deviation and the
model is L2-penalized (scikit-learn's ``newton-cholesky`` solver), ``C`` the inverse penalty on the standardized coefficients (the
intercept is not penalized). ``C`` is chosen per outcome by time-ordered cross-validation
inside the training years only: the later half of the training years is cut into
``folds`` consecutive blocks; each block is forecast by a model fitted (median, scaling
and all) on the years before it; the ``C`` of :data:`C_GRID` with the lowest pooled log
loss over the blocks is used (the smallest such C on a tie). An outcome is fitted and
scored on the rows :func:`~sim.analysis.panel.scored_rows` gives (``fatal_any``: only
where no dispute ran the year before).

scikit-learn is in the ``research`` extra; without it :func:`fit_baseline` raises an
InputError naming the extra.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..replicates import require
from .panel import FORECAST_OUTCOMES, KEY, Panel, scored_rows

if TYPE_CHECKING:
    import pandas as pd

FEATURE_NAMES = ("log_cinc_ratio", "lcr_missing", "cont2", "cont3", "cont4", "cont5", "cont6", "majors",
                 "defense_pact", "def_majors", "ongoing_prev", "host3", "host4", "host5", "fatal_prev",
                 "log_peace", "peace0", "terr_prev", "terr_missing", "mids_past10")
"""The regression's columns, in order (:func:`design`)."""
C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0)
"""Inverse L2 penalties tried by the time-ordered cross-validation."""
FOLDS = 3
"""Validation blocks in the later half of the training years."""


def design(frame: pd.DataFrame, lcr_median: float) -> np.ndarray:
    """The feature matrix (rows x :data:`FEATURE_NAMES`), unscaled."""
    lcr = frame["log_cinc_ratio"].to_numpy(dtype=float)
    terr = frame["terr_prev"].to_numpy(dtype=float)
    cont = frame["conttype"].to_numpy()
    host = frame["hostlev_prev"].to_numpy()
    peace = frame["peace_years"].to_numpy(dtype=float)
    cols = [
        np.where(np.isnan(lcr), lcr_median, lcr), np.isnan(lcr),
        *(cont == k for k in (2, 3, 4, 5, 6)),
        frame["major1"].to_numpy() + frame["major2"].to_numpy(),
        frame["defense_pact"].to_numpy(),
        frame["def_major1"].to_numpy() + frame["def_major2"].to_numpy(),
        frame["mid_ongoing_prev"].to_numpy(),
        *(host == k for k in (3, 4, 5)),
        frame["fatal_prev"].to_numpy(),
        np.log1p(peace), peace == 0,
        np.nan_to_num(terr, nan=0.0), np.isnan(terr),
        frame["mids_past10"].to_numpy(),
    ]
    return np.column_stack([np.asarray(c, dtype=float) for c in cols])


@dataclass(frozen=True)
class Scaling:
    """What the training rows fix: the median filled in for a missing capability ratio and
    each feature's mean and standard deviation."""

    lcr_median: float
    mean: np.ndarray
    sd: np.ndarray

    @classmethod
    def fit(cls, frame: pd.DataFrame) -> Scaling:
        lcr = frame["log_cinc_ratio"].to_numpy(dtype=float)
        med = float(np.nanmedian(lcr)) if np.isfinite(lcr).any() else 0.0
        x = design(frame, med)
        sd = x.std(axis=0)
        return cls(med, x.mean(axis=0), np.where(sd > 0, sd, 1.0))

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        return (design(frame, self.lcr_median) - self.mean) / self.sd


@dataclass(frozen=True)
class OutcomeFit:
    """One outcome's fitted regression."""

    outcome: str
    C: float
    intercept: float
    coef: np.ndarray
    """Per standard deviation of each feature (the scale the penalty acts on)."""
    rows: int
    events: int
    base_rate: float
    cv_log_loss: dict[float, float] = field(default_factory=dict)
    """Pooled validation log loss of each C tried (empty when C was given)."""


@dataclass(frozen=True)
class Baseline:
    """Logistic regressions fitted on a panel's training rows, one per outcome."""

    scaling: Scaling
    fits: dict[str, OutcomeFit]
    train_years: tuple[int, int]
    seconds: float = 0.0

    @property
    def base_rates(self) -> dict[str, float]:
        """Each outcome's rate over its training rows (the reference forecaster)."""
        return {k: f.base_rate for k, f in self.fits.items()}

    def predict(self, panel: Panel | pd.DataFrame) -> pd.DataFrame:
        """Forecasts for every row: the key, then one probability column per fitted outcome."""
        frame = panel.frame if isinstance(panel, Panel) else panel
        x = self.scaling.matrix(frame)
        out = frame[list(KEY)].copy()
        for k, f in self.fits.items():
            out[k] = 1.0 / (1.0 + np.exp(-(f.intercept + x @ f.coef)))
        return out.reset_index(drop=True)

    def coefficients(self) -> pd.DataFrame:
        """Per outcome and feature: the coefficient per standard deviation and per unit."""
        import pandas as pd

        rows = []
        for k, f in self.fits.items():
            rows.append({"outcome": k, "feature": "(intercept)", "per_sd": f.intercept, "per_unit": float(
                f.intercept - (f.coef * self.scaling.mean / self.scaling.sd).sum())})
            rows += [{"outcome": k, "feature": n, "per_sd": float(c), "per_unit": float(c / s)}
                     for n, c, s in zip(FEATURE_NAMES, f.coef, self.scaling.sd, strict=True)]
        return pd.DataFrame(rows)


def _sklearn():
    require("sklearn", "the regression baseline (scikit-learn)")
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression


def _fit_one(x: np.ndarray, y: np.ndarray, C: float) -> tuple[float, np.ndarray]:
    if y.min() == y.max():  # no events (or only events): the rate itself, no slopes
        p = min(max(float(y.mean()), 1e-6), 1 - 1e-6)
        return float(np.log(p / (1 - p))), np.zeros(x.shape[1])
    from threadpoolctl import threadpool_limits

    # Newton steps with a Cholesky solve suit many rows and few columns (8 iterations here);
    # one BLAS thread: on a busy 2-core machine more threads made each fit 5-20 times slower.
    with threadpool_limits(1):
        m = _sklearn()(C=C, solver="newton-cholesky", max_iter=200, tol=1e-8).fit(x, y)
    return float(m.intercept_[0]), m.coef_[0].copy()


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-(y * np.log(p) + (1 - y) * np.log1p(-p)).sum())


def cv_blocks(years: np.ndarray, folds: int = FOLDS) -> list[tuple[int, int]]:
    """The validation blocks (first, last year) in the later half of the training years."""
    first, last = int(years.min()), int(years.max())
    start = first + (last - first + 1) // 2
    edges = np.linspace(start, last + 1, folds + 1).round().astype(int)
    return [(int(a), int(b) - 1) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


def choose_C(frame: pd.DataFrame, outcome: str, grid=C_GRID, folds: int = FOLDS) -> tuple[float, dict[float, float]]:
    """The C of ``grid`` with the lowest pooled log loss over time-ordered validation blocks."""
    years = frame["year"].to_numpy()
    losses = dict.fromkeys(grid, 0.0)
    used = 0
    for a, b in cv_blocks(years, folds):
        tr, va = frame.loc[years < a], frame.loc[(years >= a) & (years <= b)]
        ktr, kva = scored_rows(tr, outcome), scored_rows(va, outcome)
        if not ktr.any() or not kva.any():
            continue
        sc = Scaling.fit(tr)
        xtr, xva = sc.matrix(tr)[ktr], sc.matrix(va)[kva]
        ytr, yva = tr[outcome].to_numpy(dtype=float)[ktr], va[outcome].to_numpy(dtype=float)[kva]
        used += 1
        for C in grid:
            b0, w = _fit_one(xtr, ytr, C)
            losses[C] += _log_loss(yva, 1 / (1 + np.exp(-(b0 + xva @ w))))
    if not used:
        return max(grid), {}
    best = min(grid, key=lambda C: (losses[C], C))
    return best, losses


def fit_baseline(panel: Panel, outcomes: tuple[str, ...] | None = None, C: float | None = None,
                 grid=C_GRID, folds: int = FOLDS) -> Baseline:
    """Fit one logistic regression per outcome on all rows of ``panel`` (the training years).

    ``outcomes`` defaults to every yes/no outcome the panel codes; ``C`` fixes the inverse
    penalty instead of choosing it by time-ordered cross-validation.
    """
    _sklearn()
    t0 = time.perf_counter()
    frame = panel.frame
    todo = outcomes or tuple(k for k in FORECAST_OUTCOMES if k in panel.outcomes)
    missing = [k for k in todo if k not in panel.outcomes]
    if missing:
        from ..scenario.errors import InputError, Mark, Problem

        raise InputError([Problem(Mark(panel.path, 1, 1), k, "no such outcome column in the training panel; "
                                  "fit on a panel that codes it") for k in missing])
    sc = Scaling.fit(frame)
    x = sc.matrix(frame)
    fits = {}
    for k in todo:
        keep = scored_rows(frame, k)
        y = frame[k].to_numpy(dtype=float)[keep]
        c, losses = (C, {}) if C is not None else choose_C(frame, k, grid, folds)
        b0, w = _fit_one(x[keep], y, c)
        fits[k] = OutcomeFit(k, float(c), b0, w, int(keep.sum()), int(y.sum()), float(y.mean()), losses)
    return Baseline(sc, fits, panel.years, time.perf_counter() - t0)


__all__ = ["C_GRID", "FEATURE_NAMES", "FOLDS", "Baseline", "OutcomeFit", "Scaling", "choose_C", "cv_blocks",
           "design", "fit_baseline"]
