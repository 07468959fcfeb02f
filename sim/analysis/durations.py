"""Incidents and standing disputes: their share and exit rates, fitted on dispute durations.

A militarized dispute in the ``spells`` ladder (docs/MODEL.md D3a) is, from the moment it
starts, either a standing posture (probability π_s) that steps down from rung 2 at rate
d0[2], or an incident that steps down at rate d_inc. Clashes (rungs 3-4) last days and
return to rung 2 with the same kind, so the time a dispute takes to end is, to a close
approximation, a mixture of two exponentials:

    P(duration > t) = (1 - π_s) exp(-d_inc t) + π_s exp(-d0[2] t)

The three parameters are fitted by least squares to five points of the duration
distribution of the 993 GML-MID 2.2.1 disputes that started in 1946-1991
(shared/data/mid_durations.csv: the 25th percentile, median, 75th and 90th percentiles,
and the share under 31 days). The rows of 1992-2010 (GML) and 1992-2014 (COW) are not used
here: they are the out-of-sample check of the simulated episodes
(:mod:`sim.analysis.checks`). ``python -m sim.analysis.durations`` prints the fit.
"""

from __future__ import annotations

import math

import numpy as np

from ..rules.spells import DAYS_PER_MONTH

SOURCE = "GML-MID 2.2.1, all disputes starting 1946-1991 (993), mid_durations.csv"
FIT_POINTS = {1.0: 0.25, 25.0: 0.50, 31.0: 0.524, 152.0: 0.75, 371.4: 0.90}
"""Days -> share of disputes over by then (p25 1.0, median 25.0, share under 31 days 0.524,
p75 152.0, p90 371.4 days)."""


def survival(days: np.ndarray, standing_share: float, incident_down: float, standing_down: float) -> np.ndarray:
    """P(a dispute lasts more than ``days``) under the two-kind mixture (rates per month)."""
    t = np.asarray(days, dtype=float) / DAYS_PER_MONTH
    return (1 - standing_share) * np.exp(-incident_down * t) + standing_share * np.exp(-standing_down * t)


def fit(points: dict[float, float] | None = None) -> dict[str, float]:
    """Least-squares fit of (π_s, d_inc, d0[2]) to the distribution points (days -> share over).

    Returns the rounded values the rule uses and the largest miss (in share)."""
    from scipy.optimize import least_squares

    pts = FIT_POINTS if points is None else points
    days = np.array(list(pts))
    over = np.array(list(pts.values()))

    def resid(x: np.ndarray) -> np.ndarray:
        pi, la, lb = x
        return (1 - survival(days, pi, math.exp(la), math.exp(lb))) - over

    best = least_squares(resid, [0.5, math.log(3.0), math.log(0.15)], bounds=([0, -5, -8], [1, 8, 3]))
    pi, la, lb = best.x
    return {"standing_share": round(float(pi), 3), "incident_down": round(math.exp(la), 0),
            "standing_down": round(math.exp(lb), 3), "max_miss": float(np.abs(best.fun).max())}


def main() -> None:  # pragma: no cover - a maintenance script
    f = fit()
    print(f"{SOURCE}: standing_share {f['standing_share']}, incident_down {f['incident_down']:g}/month "
          f"(mean {DAYS_PER_MONTH / f['incident_down']:.1f} days), base_down[2] {f['standing_down']}/month "
          f"(mean {DAYS_PER_MONTH / f['standing_down']:.0f} days); largest miss {f['max_miss']:.3f}")


if __name__ == "__main__":  # pragma: no cover
    main()
