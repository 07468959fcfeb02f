"""The escalation defaults stay calibrated to the militarized-dispute data.

The default model (``spells``) and the limited offensive are fitted to GML-MID 2.2.1
disputes of 1992-2010 (sim.analysis.calibrate); the monthly ``ladder`` keeps its own
fit to 1946-2014. Tolerances: 4 Monte Carlo standard errors of this test's sample plus
2 of the fit's own sample (10,000 episodes per component, another seed).
"""

from __future__ import annotations

import math

import pytest

from sim.analysis.calibrate import (
    COUNTS,
    LADDER_TARGETS,
    MID_SPELLS_FIT,
    TARGETS,
    TERRITORIAL_SHARE,
    episodes,
    ladder_episodes,
)
from sim.analysis.checks import checks_of

FIT_RUNS = 10_000


def _se_mix(p_terr: float, p_plain: float, n: int) -> float:
    w = TERRITORIAL_SHARE
    return math.sqrt(w * w * p_terr * (1 - p_terr) / n + (1 - w) ** 2 * p_plain * (1 - p_plain) / n)


N = 20_000


@pytest.fixture(scope="module")
def samples():
    """Episodes under the mid-spells fit's own settings (MID_SPELLS_FIT). The defaults are now the
    dyad-year panel's fit; their 1992-2010 episode shares are out-of-sample checks, reported by
    ``python -m sim.analysis.checks`` and docs/CALIBRATION.md, not asserted (issue 22)."""
    return (episodes(MID_SPELLS_FIT, runs=N, seed=12345),
            episodes(MID_SPELLS_FIT, runs=N, seed=12346, territorial=True))


@pytest.mark.slow
def test_the_mid_spells_fit_reproduces_the_1992_2010_dispute_shares(samples):
    n = N
    plain, terr = samples
    assert plain.censored < 0.01 and terr.censored < 0.01
    lines, bad = [], []
    for stat, target in TARGETS.items():
        if stat == "offensive":
            got = terr.share(stat)
            se, se_fit = (math.sqrt(got * (1 - got) / m) for m in (n, FIT_RUNS))
        else:
            pt, pp = terr.share(stat), plain.share(stat)
            got = TERRITORIAL_SHARE * pt + (1 - TERRITORIAL_SHARE) * pp
            se, se_fit = _se_mix(pt, pp, n), _se_mix(pt, pp, FIT_RUNS)
        tol = 4 * se + 2 * se_fit
        k, m = COUNTS[stat]
        lines.append(f"{stat}: model {got:.4f}, data {k}/{m} = {target:.4f}, tolerance {tol:.4f}")
        if abs(got - target) >= tol:
            bad.append(stat)
    assert not bad, "\n".join(lines)


@pytest.fixture(scope="module")
def default_samples():
    """Episodes of the shipped defaults (the dyad-year panel's fit)."""
    return episodes(runs=N, seed=12345), episodes(runs=N, seed=12346, territorial=True)


@pytest.mark.slow
def test_fatality_bands_stay_inside_the_data_out_of_sample(default_samples):
    """Checks the fit did not use (docs/CALIBRATION.md): the shares of fatal episodes with
    more than 100 and more than 999 dead stay inside the data's Wilson 95% intervals.
    (The checks that failed at the freeze - durations, negotiated settlements - are
    reported there, not asserted here.)"""
    rows = {c.name: c for c in checks_of(*default_samples)}
    for name in ("fatality: share of fatal episodes with more than 100 dead",
                 "fatality: share of fatal episodes with more than 999 dead"):
        assert rows[name].inside, rows[name]


@pytest.mark.slow
def test_monthly_ladder_reproduces_the_1946_2014_dispute_shares():
    n = 20_000
    reached = ladder_episodes(runs=n, months=120, seed=12345)
    assert reached[6] < 0.01  # censored at the cap
    for k, target in LADDER_TARGETS.items():
        se = math.sqrt(target * (1 - target) / n)
        assert abs(reached[k] - target) < 4 * se + 0.005, (k, reached[k], target)
