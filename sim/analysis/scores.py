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
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

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

    from ..results import wilson

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


__all__ = ["LOG_FLOOR", "bin_of", "brier", "brier_mc_se", "brier_terms", "log_score", "log_terms", "reliability", "skill"]
