"""Scoring probability forecasts of yes/no questions: Brier, log score, skill, reliability.

Conventions (docs/CALIBRATION.md, "Backtest"):

* **Brier score** — the mean of ``(f - o)**2`` over questions, ``f`` the forecast
  probability and ``o`` 1 for yes, 0 for no. 0 is perfect, lower is better; answering
  50% to everything scores 0.25.
* **Log score** — the mean of ``ln p``, ``p`` the probability the forecast gave to what
  happened (``f`` for yes, ``1 - f`` for no). 0 is perfect, higher is better; 50% scores
  ``ln 0.5 = -0.693``. Forecasts are first clipped to ``[LOG_FLOOR, 1 - LOG_FLOOR]``
  so that one confident miss costs ``ln 0.001 = -6.9`` rather than minus infinity.
* **Brier skill score** of a forecaster against a reference — ``1 - B / B_ref``:
  positive when it beats the reference, 0 when it ties, negative when it is worse.
  Against a base rate ``r`` the reference forecasts ``r`` for every row (:func:`brier_skill`).
* **AUC** — the chance that a randomly chosen row where the event happened got a higher
  forecast than a randomly chosen row where it did not, ties counting one half (the
  Mann-Whitney statistic over ``n_yes * n_no``). 0.5 is no discrimination, 1 perfect.

For many rare events (dyad-years) the reliability table uses equal-count bins
(:func:`reliability_equal`) and :func:`paired_bootstrap` compares two forecasters on the
same rows, resampling clusters (dyads) with all their rows.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..results import wilson

if TYPE_CHECKING:
    import pandas as pd

LOG_FLOOR = 1e-3
"""Forecasts are clipped to [LOG_FLOOR, 1 - LOG_FLOOR] for the log score."""


def _arrays(forecast, outcome) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(forecast, dtype=float)
    o = np.asarray(outcome, dtype=float)
    if f.shape != o.shape or f.ndim != 1 or f.size == 0:
        raise ValueError("forecasts and outcomes must be two lists of the same, non-zero length")
    if np.any((f < 0) | (f > 1)) or not np.all(np.isfinite(f)):
        raise ValueError("forecasts must be probabilities between 0 and 1")
    if not np.all((o == 0) | (o == 1)):
        raise ValueError("outcomes must be 0 (no) or 1 (yes)")
    return f, o


def brier_terms(forecast, outcome) -> np.ndarray:
    """Each question's contribution ``(f - o)**2`` (its Brier score on its own)."""
    f, o = _arrays(forecast, outcome)
    return (f - o) ** 2


def brier(forecast, outcome) -> float:
    """Mean Brier score, 0 (perfect) to 1."""
    return float(brier_terms(forecast, outcome).mean())


def log_terms(forecast, outcome, floor: float = LOG_FLOOR) -> np.ndarray:
    """Each question's ``ln p(what happened)``, forecasts clipped to [floor, 1 - floor]."""
    f, o = _arrays(forecast, outcome)
    p = np.clip(f, floor, 1 - floor)
    return np.where(o == 1, np.log(p), np.log1p(-p))


def log_score(forecast, outcome, floor: float = LOG_FLOOR) -> float:
    """Mean log score, minus infinity to 0 (perfect); higher is better."""
    return float(log_terms(forecast, outcome, floor).mean())


def skill(score: float, reference: float) -> float:
    """Brier skill score ``1 - score / reference`` (NaN when the reference is perfect)."""
    return 1.0 - score / reference if reference > 0 else float("nan")


def brier_mc_se(forecast, outcome, runs) -> float:
    """Monte Carlo standard error of the mean Brier score of simulated forecasts.

    A forecast ``f = k / n`` from ``n`` runs has variance ``f (1 - f) / n``; by the
    delta method the mean Brier score has variance
    ``sum((2 (f - o) / N)**2 * f (1 - f) / n)`` over the N questions. Questions scored
    on the same runs are treated as independent (their errors are correlated, so this
    is a guide to whether the runs are enough, not an exact figure).
    """
    f, o = _arrays(forecast, outcome)
    n = np.asarray(runs, dtype=float)
    var = (2 * (f - o) / f.size) ** 2 * f * (1 - f) / n
    return float(math.sqrt(var.sum()))


def bin_of(forecast, bins: int) -> np.ndarray:
    """The reliability bin of each forecast: ``i`` for ``[i/bins, (i+1)/bins)``, 1 in the last.

    Forecasts on an edge go to the bin above it (0.3 is in [0.3, 0.4)), computed so that
    floating-point error does not move them (0.3 * 10 is 2.9999999999999996).
    """
    f = np.asarray(forecast, dtype=float)
    return np.clip(np.floor(np.round(f * bins, 9)), 0, bins - 1).astype(int)


def reliability(forecast, outcome, bins: int = 10) -> pd.DataFrame:
    """The reliability table: per forecast bin, how many questions, the mean forecast, and
    how often they resolved yes (with its Wilson 95% interval). Empty bins have count 0
    and NaN for the rest.

    Columns: ``bin_low, bin_high, count, yes, mean_forecast, observed, ci_low, ci_high``.
    """
    import pandas as pd


    if not isinstance(bins, int) or isinstance(bins, bool) or bins < 1:
        raise ValueError(f"bins must be a whole number, at least 1 (got {bins!r})")
    f, o = _arrays(forecast, outcome)
    idx = bin_of(f, bins)
    rows = []
    for i in range(bins):
        sel = idx == i
        n = int(sel.sum())
        k = int(o[sel].sum())
        lo, hi = wilson(k, n) if n else (float("nan"), float("nan"))
        rows.append({
            "bin_low": i / bins,
            "bin_high": (i + 1) / bins,
            "count": n,
            "yes": k,
            "mean_forecast": float(f[sel].mean()) if n else float("nan"),
            "observed": k / n if n else float("nan"),
            "ci_low": lo,
            "ci_high": hi,
        })
    return pd.DataFrame(rows)


# ------------------------------------------------------- many rare events (dyad-years)


def brier_skill(forecast, outcome, base_rate: float) -> float:
    """Brier skill against forecasting ``base_rate`` for every row: ``1 - B / B_base``."""
    f, o = _arrays(forecast, outcome)
    return skill(float(((f - o) ** 2).mean()), float(((base_rate - o) ** 2).mean()))


def auc(forecast, outcome) -> float:
    """Area under the ROC curve from mid-ranks (ties count one half); NaN without both answers."""
    from scipy.stats import rankdata

    f, o = _arrays(forecast, outcome)
    yes = o == 1
    n1 = int(yes.sum())
    n0 = o.size - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = rankdata(f)  # average ranks for ties
    return float((ranks[yes].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def reliability_equal(forecast, outcome, bins: int = 10) -> pd.DataFrame:
    """Reliability table with equal-count bins (deciles of the forecast by default).

    Rows are sorted by forecast (stably, so tied forecasts keep their order) and split into
    ``bins`` groups whose sizes differ by at most one. Per bin: ``count``, ``events``, the
    forecasts' range (``forecast_low``, ``forecast_high``) and ``mean_forecast``, the
    ``observed`` rate with its Wilson 95% interval (``ci_low``, ``ci_high``), and the 95%
    interval the observed rate falls in if the forecasts are right (``expected_low``,
    ``expected_high``): the 2.5% and 97.5% quantiles of Binomial(count, mean_forecast),
    divided by the count. The count of events in a bin of calibrated forecasts is a sum of
    Bernoulli(f_i), whose variance is at most that binomial's, so the interval is slightly
    conservative (coverage at least 95%). ``inside`` says whether the observed rate is in it.
    """
    import pandas as pd
    from scipy.stats import binom


    if not isinstance(bins, int) or isinstance(bins, bool) or bins < 1:
        raise ValueError(f"bins must be a whole number, at least 1 (got {bins!r})")
    f, o = _arrays(forecast, outcome)
    order = np.argsort(f, kind="stable")
    rows = []
    for i, idx in enumerate(np.array_split(order, min(bins, f.size))):
        n, k = idx.size, int(o[idx].sum())
        m = float(f[idx].mean())
        lo, hi = wilson(k, n)
        e_lo, e_hi = binom.ppf(0.025, n, m) / n, binom.ppf(0.975, n, m) / n
        rows.append({"bin": i + 1, "count": n, "events": k, "forecast_low": float(f[idx].min()),
                     "forecast_high": float(f[idx].max()), "mean_forecast": m, "observed": k / n,
                     "ci_low": lo, "ci_high": hi, "expected_low": float(e_lo), "expected_high": float(e_hi),
                     "inside": bool(e_lo <= k / n <= e_hi)})
    return pd.DataFrame(rows)


def _weights(groups, replicates: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's group (0..G-1) and, per replicate, how often each group was drawn (R x G)."""
    _, gi = np.unique(np.asarray(groups), return_inverse=True)
    g = int(gi.max()) + 1
    draws = np.random.default_rng(seed).integers(0, g, size=(replicates, g))
    flat = (draws + (np.arange(replicates) * g)[:, None]).ravel()
    return gi, np.bincount(flat, minlength=replicates * g).reshape(replicates, g).astype(float)


def _weighted_auc(f: np.ndarray, o: np.ndarray, gi: np.ndarray, w: np.ndarray, chunk_cells: int = 4_000_000):
    """AUC with row weights ``w[r, gi]`` for each replicate r (rows of ``w``), ties counting half.

    With the no-rows sorted by forecast, each yes-row's weight multiplies the cumulative
    weight of the no-rows below its forecast plus half of those tied with it.
    """
    yes = o == 1
    fn = np.sort(f[~yes], kind="stable")
    gn = gi[~yes][np.argsort(f[~yes], kind="stable")]
    gp, fp = gi[yes], f[yes]
    lo, hi = np.searchsorted(fn, fp, "left"), np.searchsorted(fn, fp, "right")
    out = np.empty(w.shape[0])
    step = max(1, chunk_cells // max(f.size, 1))
    for a in range(0, w.shape[0], step):
        wc = w[a:a + step]
        cum = np.zeros((wc.shape[0], fn.size + 1))
        np.cumsum(wc[:, gn], axis=1, out=cum[:, 1:])
        wp = wc[:, gp]
        num = (wp * (0.5 * (cum[:, lo] + cum[:, hi]))).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[a:a + step] = num / (wp.sum(axis=1) * cum[:, -1])
    return out


def paired_bootstrap(a, b, outcome, groups, base_rate: float, replicates: int = 1000, seed: int = 0,
                     level: float = 0.95) -> dict:
    """Brier skill (against ``base_rate``) and AUC of forecasters ``a`` and ``b`` on the same rows,
    and the difference ``a - b`` with a paired cluster-bootstrap interval.

    Each replicate draws as many groups (dyads) as there are, with replacement, and keeps
    all the rows of each draw; both forecasters are scored on the same draws. Returns
    ``{"brier_skill": {...}, "auc": {...}, "replicates", "seed", "groups", "level"}``, each
    metric with ``a``, ``b``, ``difference`` (on the rows as given), ``ci_low``, ``ci_high``
    (percentile interval of the replicates' differences), ``a_ci``, ``b_ci`` and ``undefined``
    (replicates where the metric is undefined, e.g. no event drawn; left out of the interval).
    Identical forecasters give a difference of exactly 0 in every replicate.
    """
    fa, o = _arrays(a, outcome)
    fb, _ = _arrays(b, outcome)
    g = np.asarray(groups)
    if g.shape != o.shape:
        raise ValueError("groups must give one group per row")
    if not isinstance(replicates, int) or replicates < 1:
        raise ValueError(f"replicates must be a whole number, at least 1 (got {replicates!r})")
    gi, w = _weights(g, replicates, seed)
    ng = w.shape[1]
    ones = np.ones((1, ng))
    q = [50 * (1 - level), 50 * (1 + level)]

    def summary(va: np.ndarray, vb: np.ndarray, pa: float, pb: float) -> dict:
        d = va - vb
        ok = np.isfinite(d)
        lo, hi = np.percentile(d[ok], q) if ok.any() else (np.nan, np.nan)
        ci = lambda v: [float(x) for x in np.percentile(v[np.isfinite(v)], q)] if np.isfinite(v).any() else [np.nan] * 2
        return {"a": pa, "b": pb, "difference": pa - pb, "ci_low": float(lo), "ci_high": float(hi),
                "a_ci": ci(va), "b_ci": ci(vb), "undefined": int((~ok).sum())}

    sums = {k: np.bincount(gi, weights=v, minlength=ng) for k, v in
            {"a": (fa - o) ** 2, "b": (fb - o) ** 2, "ref": (base_rate - o) ** 2}.items()}
    with np.errstate(invalid="ignore", divide="ignore"):
        bss = {k: 1 - (w @ sums[k]) / (w @ sums["ref"]) for k in ("a", "b")}
    out = {"brier_skill": summary(bss["a"], bss["b"], brier_skill(fa, o, base_rate), brier_skill(fb, o, base_rate))}
    aucs = {k: _weighted_auc(f, o, gi, w) for k, f in (("a", fa), ("b", fb))}
    point = {k: float(_weighted_auc(f, o, gi, ones)[0]) for k, f in (("a", fa), ("b", fb))}
    out["auc"] = summary(aucs["a"], aucs["b"], point["a"], point["b"])
    out.update(replicates=replicates, seed=seed, groups=ng, level=level)
    return out


__all__ = ["LOG_FLOOR", "auc", "bin_of", "brier", "brier_mc_se", "brier_skill", "brier_terms", "log_score",
           "log_terms", "paired_bootstrap", "reliability", "reliability_equal", "skill"]
