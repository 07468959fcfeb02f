"""Calibrating the escalation ladder against militarized-dispute data.

Targets (GML-MID 2.2.1, disputes starting 1946-2014; Gibler, Miller & Little 2016,
*International Studies Quarterly* 60(4):719-730; from the dispute-level table in
shared/data/mid_hostility_distribution.csv): of 1,524 disputes, 28 reached only a threat
(hostility 2), 40 were wars (hostility 5); of the 1,502 with a known fatality level,
403 were fatal and 159 killed more than 25.

A MID is coded once militarized action starts, so the ladder is read against a
militarized *episode*: a neutral dyad (equal capability, resolve 1/2, no allies,
patrons or mediators) enters rung 2 (display or blockade) and is followed until it
drops below rung 2 or settles. The episode's highest rung maps to MID as

    rung >= 3  <->  at least one death          (403 / 1,502 = 26.8%)
    rung >= 4  <->  more than 25 deaths         (159 / 1,502 = 10.6%)
    rung == 5  <->  hostility 5 (war)           ( 40 / 1,524 =  2.6%)

With the down-rates and covariate weights fixed (assumptions, see
:class:`sim.rules.escalation.LadderParams`), the up-rates from rungs 2, 3 and 4 are
fitted one after another by bisection, each matching its target given the previous
ones (the share reaching rung k rises with the up-rate from rung k-1). Common random
numbers keep the objective smooth. The up-rates from rungs 0 and 1 (how often calm
turns tense, and tension militarized) are not identified by dispute-level data and
remain assumptions. Run ``python -m sim.analysis.calibrate`` to refit.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

MID_SOURCE = "GML-MID 2.2.1, disputes starting 1946-2014 (Gibler, Miller & Little 2016)"
MID_TARGETS = {
    3: 403 / 1502,  # fatal
    4: 159 / 1502,  # more than 25 killed
    5: 40 / 1524,  # war
}


def neutral_dyad(rules: dict | None = None) -> dict:
    """A two-state scenario with a neutral dyad at rung 1, for calibration."""
    return {
        "meta": {"name": "neutral_dyad", "title": "Neutral dyad", "start": "2000-01", "horizon_months": 120},
        "states": {
            "a": {"name": "A", "capability": {"value": 1.0, "source": {"assumption": "equal sides"}}, "resolve": {"value": 0.5, "source": {"assumption": "neutral"}}},
            "b": {"name": "B", "capability": {"value": 1.0, "source": {"assumption": "equal sides"}}, "resolve": {"value": 0.5, "source": {"assumption": "neutral"}}},
        },
        "flashpoints": {"f": {"sides": ["a", "b"], "level": {"value": 2, "source": {"assumption": "a militarized episode starts at rung 2"}}}},
        "rules": {"escalation": {"model": "ladder", **(rules or {})}, "alliance": {"model": "off"}, "membership": {"model": "off"}},
        "outcomes": {"war": {"kind": "escalation", "flashpoint": "f", "reaches": 5}},
    }


@dataclass
class EpisodeStats:
    """Share of episodes whose highest rung reached each level (index 0..5)."""

    reached: np.ndarray  # (6,) P(max rung >= k)
    censored: float  # share of episodes still running at the cap
    mean_months: float

    def as_dict(self) -> dict[int, float]:
        return {k: float(self.reached[k]) for k in range(6)}


def episodes(rules: dict | None = None, runs: int = 10_000, months: int = 120, seed: int = 1) -> EpisodeStats:
    """Simulate ``runs`` episodes of the neutral dyad with the given ladder parameters."""
    from ..api import load_scenario
    from ..rules import build_pipeline
    from ..seeding import chunk_sequence, root_sequence
    from ..world.compile import compile_plan
    from ..world.model import World

    scn = load_scenario(neutral_dyad(rules))
    plan = compile_plan(scn.spec, scn.rules, months)
    w = World(plan, runs, chunk_sequence(root_sequence(seed), 0), build_pipeline(plan))
    try:
        top = np.full(runs, 2, dtype=np.int8)
        ended = np.zeros(runs, dtype=bool)
        length = np.zeros(runs)
        for t in range(months):
            w.step()
            lv = w.st.level[:, 0]
            live = ~ended
            top = np.where(live, np.maximum(top, lv), top)
            length[live] = t + 1
            ended |= (lv <= 1) | w.st.settled[:, 0]
            if ended.all():
                break
        reached = np.array([(top >= k).mean() for k in range(6)])
        return EpisodeStats(reached, float((~ended).mean()), float(length.mean()))
    finally:
        w.release()


def fit_ladder(runs: int = 10_000, months: int = 120, seed: int = 1, iters: int = 14, verbose: bool = True) -> dict:
    """Fit the up-rates from rungs 2-4 to :data:`MID_TARGETS`; returns the rules dict."""
    from ..rules.escalation import LadderParams

    base_up = list(LadderParams().base_up.value)
    for k in (3, 4, 5):
        lo, hi = 1e-4, 5.0
        for _ in range(iters):
            mid = float(np.sqrt(lo * hi))
            trial = base_up.copy()
            trial[k - 1] = mid
            got = episodes({"base_up": trial}, runs, months, seed).reached[k]
            if got < MID_TARGETS[k]:
                lo = mid
            else:
                hi = mid
        base_up[k - 1] = float(np.sqrt(lo * hi))
        if verbose:
            print(f"up-rate from rung {k - 1}: {base_up[k - 1]:.4f}", file=sys.stderr)
    return {"base_up": [round(x, 4) for x in base_up]}


def main() -> None:  # pragma: no cover - a maintenance script
    fitted = fit_ladder()
    stats = episodes(fitted, runs=40_000)
    print("fitted:", fitted)
    print("targets:", {k: round(v, 4) for k, v in MID_TARGETS.items()})
    print("model:  ", {k: round(float(stats.reached[k]), 4) for k in (3, 4, 5)})
    print(f"censored at cap: {stats.censored:.4f}; mean episode length {stats.mean_months:.1f} months")


if __name__ == "__main__":  # pragma: no cover
    main()
