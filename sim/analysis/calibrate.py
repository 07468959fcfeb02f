"""Calibrating the escalation ladder and the limited offensive against militarized disputes.

Target era: GML-MID 2.2.1 disputes starting 1992-2010 (Gibler, Miller & Little 2016,
*International Studies Quarterly* 60(4):719-730; shared/data/mid_hostility_distribution.csv,
the era closest to post-Soviet dyads). Of 531 disputes, 7 were wars (hostility 5); of
the 526 with a known fatality level, 113 were fatal and 41 killed more than 25. Of the
127 territorial disputes (shared/data/mid_settlement_shares.csv), 23 had occupation of
territory as their highest action (shared/data/mid_durations.csv, hiact 14).

A MID is coded once militarized action starts, so the model is read against a
militarized *episode*: a neutral dyad (equal capability, resolve 1/2, no allies,
patrons, mediators or blockade; talks closed) enters rung 2 (display) and is followed
until it first steps below rung 2 or is settled. Disputes are a mixture: a share
127/531 of them are territorial, read as a dyad with a territory that b holds and both
claim (so limited offensives can happen), the rest as a dyad without stakes. With the
default ``spells`` model:

    deaths in the episode >= 1   <->  fatal             (113 / 526 = 21.5%)   of the mixture
    deaths in the episode > 25   <->  more than 25 dead ( 41 / 526 =  7.8%)   of the mixture
    the episode reaches rung 5   <->  hostility 5 (war) (  7 / 531 =  1.3%)   of the mixture
    a limited offensive launched <->  occupation of territory as the highest action
                                      (23 / 127 = 18.1%) of territorial episodes

Deaths are those the model draws (tolls of clashes, months of war), not rungs. With the
down-rates, covariate weights, casualty medians and shock size at their defaults
(assumptions, see :class:`sim.rules.spells.SpellParams`), the up-rates from rungs 2, 3
and 4 are fitted in turn by bisection (each matching its target given the others), then
the offensive's base rate; the round is done twice. Common random numbers keep the
objective smooth. Statistics the fit does not use are checked in
:mod:`sim.analysis.checks`. Run ``python -m sim.analysis.calibrate`` to refit.

The monthly ``ladder`` model keeps its own calibration to GML-MID 1946-2014
(:data:`LADDER_TARGETS`, :func:`ladder_episodes`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from ..api import load_scenario
from ..rules.spells import DAYS_PER_MONTH, new_disputes
from ..seeding import root_sequence
from ..world.compile import compile_plan

SOURCE = "GML-MID 2.2.1, disputes starting 1992-2010 (Gibler, Miller & Little 2016)"
COUNTS = {"fatal": (113, 526), "over25": (41, 526), "war": (7, 531), "offensive": (23, 127)}
TARGETS = {k: a / b for k, (a, b) in COUNTS.items()}

LADDER_SOURCE = "GML-MID 2.2.1, disputes starting 1946-2014 (Gibler, Miller & Little 2016)"
MID_SPELLS_FIT = {
    "escalation": {"base_up": [0.03, 0.05, 0.02172, 5.101, 0.4149, 0.0], "beta_deterrence": 1.5,
                   # before incidents and standing disputes (issue 22): every dispute stood, easing at 0.10
                   "standing_share": 1.0, "base_down": [0.0, 0.12, 0.10, 20.0, 10.0, 0.0],
                   **{k: 0.0 for k in ("beta_peace", "beta_recent", "beta_fatal_last", "beta_force_last",
                                       "beta_territorial", "beta_land", "beta_sea", "beta_far", "beta_major",
                                       "beta_allied", "beta_preponderance", "gamma_fatal_last", "gamma_territorial",
                                       "gamma_sea", "gamma_far")}},
    "offensive": {"base_rate": 0.02267, "beta_balance": 1.0, "beta_isolation": 2.0, "war_risk": 0.2,
                  "beta_territorial": 0.0},
}
"""The rule settings this module's fit (``mid-spells``, ``mid-offensive``) gave, before the
dyad-year panel's fit (``hindcast-dyad-years``) replaced them as the defaults: the record of
that calibration (tests/test_calibration.py checks it still reproduces its targets)."""

LADDER_TARGETS = {3: 403 / 1502, 4: 159 / 1502, 5: 40 / 1524}


def neutral_dyad(rules: dict | None = None, *, territorial: bool = False, model: str = "spells") -> dict:
    """A two-state scenario with a neutral dyad at rung 2 (with a territory b holds and
    both claim, if ``territorial``), for calibration."""
    src = {"assumption": "calibration world"}
    scn = {
        "meta": {"name": "neutral_dyad", "title": "Neutral dyad", "start": "2000-01", "horizon_months": 240},
        "states": {
            "a": {"name": "A", "capability": {"value": 1.0, "source": src}, "resolve": {"value": 0.5, "source": src}},
            "b": {"name": "B", "capability": {"value": 1.0, "source": src}, "resolve": {"value": 0.5, "source": src}},
        },
        "flashpoints": {"f": {"sides": ["a", "b"], "level": {"value": 2, "source": src}}},
        "rules": {
            "escalation": {"model": model, **(rules or {}).get("escalation", {})},
            **{k: v for k, v in (rules or {}).items() if k != "escalation"},
            "alliance": {"model": "off"}, "membership": {"model": "off"}, "alignment": {"model": "off"},
            "procurement": {"model": "off"}, "patronage": {"model": "off"},
        },
        "outcomes": {"war": {"kind": "escalation", "flashpoint": "f", "reaches": 5}},
    }
    if territorial:
        scn["territories"] = {"land": {"controller": "b", "claimants": ["a", "b"]}}
        scn["flashpoints"]["f"]["stakes"] = "land"
    return scn


@dataclass
class Episodes:
    """Per-episode records of simulated militarized episodes (one per replicate)."""

    top: np.ndarray  # highest rung reached
    deaths: np.ndarray  # deaths in the episode
    days: np.ndarray  # duration in days (NaN if still running at the cap)
    agreement: np.ndarray  # ended by a signed agreement
    seized: np.ndarray  # ended by a territory changing hands (offensive or war)
    launched: np.ndarray  # a limited offensive was launched
    spike_months: int  # months whose peak was above both their start and end rungs (>= 3)
    clash_months: int  # months with a peak of 3 or 4
    busy_months: int  # months that hit the cap on moves
    deal: np.ndarray  # ended by a ceasefire or local deal (sim.rules.deals)
    eased: np.ndarray  # ended by stepping below rung 2 in the ladder (a deal was drawn for it)

    @property
    def censored(self) -> float:
        return float(np.isnan(self.days).mean())

    def share(self, name: str) -> float:
        """The calibration statistics: ``fatal``, ``over25``, ``war``, ``offensive``."""
        return float({"fatal": self.deaths >= 1, "over25": self.deaths > 25, "war": self.top >= 5,
                      "offensive": self.launched}[name].mean())


def episodes(rules: dict | None = None, runs: int = 10_000, months: int = 240, seed: int = 1,
             territorial: bool = False) -> Episodes:
    """Simulate ``runs`` episodes of the neutral dyad with the given rule settings
    (``{"escalation": {...}, "offensive": {...}, ...}``)."""
    from ..world.opening import opened

    scn = load_scenario(neutral_dyad(rules, territorial=territorial))
    plan = compile_plan(scn.spec, scn.rules, months)
    with opened(plan, runs, root_sequence(seed), dtype=np.float64) as w:
        new_disputes(w)  # each episode starts now: standing or an incident
        top = np.full(runs, 2, dtype=np.int8)
        deaths = np.zeros(runs)
        days = np.full(runs, np.nan)
        agreement = np.zeros(runs, dtype=bool)
        seized = np.zeros(runs, dtype=bool)
        launched = np.zeros(runs, dtype=bool)
        deal = np.zeros(runs, dtype=bool)
        eased = np.zeros(runs, dtype=bool)
        live = np.ones(runs, dtype=bool)
        spikes = clashes = busy = 0
        for t in range(months):
            start = w.st.level[:, 0].copy()
            before = w.counts["escalation.busy_month"].copy()
            w.step()
            st = w.st
            pk, lv = st.peak[:, 0], st.level[:, 0]
            top = np.where(live, np.maximum(top, pk), top)
            deaths += np.where(live, st.deaths[:, 0], 0.0)
            launched |= live & (st.offensives[:, 0] > 0)
            spikes += int((live & (pk >= 3) & (pk > np.maximum(start, lv))).sum())
            clashes += int((live & ((pk == 3) | (pk == 4))).sum())
            busy += int((live & (w.counts["escalation.busy_month"] > before)).sum())
            done = live & (~np.isnan(st.calm_at[:, 0]) | st.settled[:, 0] | (lv < 2))
            frac = np.where(np.isnan(st.calm_at[:, 0]), 1.0, st.calm_at[:, 0])
            days = np.where(done, (t + frac) * DAYS_PER_MONTH, days)
            agreement |= done & st.agreement[:, 0]
            seized |= done & st.settled[:, 0] & ~st.agreement[:, 0]
            deal |= done & st.deal_made[:, 0]
            eased |= done & ~np.isnan(st.deal_chance[:, 0])
            live &= ~done
            if not live.any():
                break
        return Episodes(top, deaths, days, agreement, seized, launched, spikes, clashes, busy, deal, eased)


TERRITORIAL_SHARE = 127 / 531
"""Share of GML-MID 1992-2010 disputes over territory (mid_settlement_shares.csv)."""


def mixture_share(rules: dict | None, stat: str, runs: int = 10_000, seed: int = 1) -> float:
    """A statistic of the mixture of territorial and other episodes (the offensive's
    share is of territorial episodes only)."""
    terr = episodes(rules, runs, seed=seed, territorial=True).share(stat)
    if stat == "offensive":
        return terr
    plain = episodes(rules, runs, seed=seed).share(stat)
    return TERRITORIAL_SHARE * terr + (1 - TERRITORIAL_SHARE) * plain


def _bisect(make, stat: str, target: float, runs: int, seed: int, iters: int,
            lo: float = 1e-4, hi: float = 50.0) -> float:
    for _ in range(iters):
        mid = float(np.sqrt(lo * hi))
        got = mixture_share(make(mid), stat, runs, seed)
        lo, hi = (mid, hi) if got < target else (lo, mid)
    return float(np.sqrt(lo * hi))


def fit(runs: int = 10_000, seed: int = 1, iters: int = 16, passes: int = 2, verbose: bool = True) -> dict:
    """Fit the up-rates from rungs 2-4 and the offensive's base rate to :data:`TARGETS`."""
    from ..rules.offensive import OffensiveParams
    from ..rules.spells import SpellParams

    base_up = list(SpellParams().base_up.value)
    rate = float(OffensiveParams().base_rate.value)
    for _ in range(passes):
        for rung, stat in ((2, "fatal"), (3, "over25"), (4, "war")):
            def make(x: float, rung: int = rung, rate: float = rate) -> dict:
                trial = base_up.copy()
                trial[rung] = x
                return {"escalation": {"base_up": trial}, "offensive": {"base_rate": rate}}

            base_up[rung] = _bisect(make, stat, TARGETS[stat], runs, seed, iters)
            if verbose:
                print(f"up-rate from rung {rung}: {base_up[rung]:.4g}", file=sys.stderr)
        esc = {"base_up": [float(f"{x:.4g}") for x in base_up]}
        rate = _bisect(lambda x, esc=esc: {"escalation": esc, "offensive": {"base_rate": x}}, "offensive",
                       TARGETS["offensive"], runs, seed, iters, lo=1e-4, hi=5.0)
        if verbose:
            print(f"offensive base rate: {rate:.4g}", file=sys.stderr)
    return {"escalation": {"base_up": [float(f"{x:.4g}") for x in base_up]},
            "offensive": {"base_rate": float(f"{rate:.4g}")}}


def ladder_episodes(rules: dict | None = None, runs: int = 10_000, months: int = 120, seed: int = 1) -> np.ndarray:
    """P(max rung >= k), k = 0..5, of the monthly ``ladder`` model's episodes (its own
    calibration to :data:`LADDER_TARGETS`); and the share still running at the cap last."""
    from ..world.opening import opened

    scn = load_scenario(neutral_dyad({"escalation": rules or {}}, model="ladder"))
    plan = compile_plan(scn.spec, scn.rules, months)
    with opened(plan, runs, root_sequence(seed)) as w:
        top = np.full(runs, 2, dtype=np.int8)
        ended = np.zeros(runs, dtype=bool)
        for _ in range(months):
            w.step()
            lv = w.st.level[:, 0]
            top = np.where(~ended, np.maximum(top, lv), top)
            ended |= (lv <= 1) | w.st.settled[:, 0]
            if ended.all():
                break
        return np.array([(top >= k).mean() for k in range(6)] + [(~ended).mean()])


def main() -> None:  # pragma: no cover - a maintenance script
    fitted = fit()
    print("fitted:", fitted)
    print("targets:", {k: round(v, 4) for k, v in TARGETS.items()})
    print("model:  ", {k: round(mixture_share(fitted, k, 40_000, seed=2), 4) for k in TARGETS})


if __name__ == "__main__":  # pragma: no cover
    main()
