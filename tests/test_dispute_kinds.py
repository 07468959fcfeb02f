"""Incidents and standing disputes (docs/MODEL.md D3a; calibration `mid-durations-1946-1991`)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim import api
from sim.analysis import durations
from sim.analysis.calibrate import episodes, neutral_dyad
from sim.rules import spells
from sim.rules.spells import DAYS_PER_MONTH

N = 6000


def test_the_fit_gives_the_rules_defaults_and_matches_its_five_points():
    f = durations.fit()
    assert (f["standing_share"], f["incident_down"], f["standing_down"]) == (
        spells.STANDING_SHARE, spells.INCIDENT_DOWN, spells.STANDING_DOWN)
    assert f["max_miss"] < 0.02
    over = 1 - durations.survival(np.array(list(durations.FIT_POINTS)), spells.STANDING_SHARE,
                                  spells.INCIDENT_DOWN, spells.STANDING_DOWN)
    assert np.allclose(over, list(durations.FIT_POINTS.values()), atol=0.02)
    defaults = api.load_scenario(neutral_dyad()).rules["escalation"].params
    assert defaults["standing_share"].value == spells.STANDING_SHARE
    assert defaults["base_down"].value[2] == spells.STANDING_DOWN


def _median_days(share: float, seed: int = 7) -> tuple[float, float]:
    e = episodes({"escalation": {"standing_share": share}}, runs=N, seed=seed)
    return float(np.nanmedian(e.days)), e.share("fatal")


def test_more_standing_disputes_last_longer_and_kill_more_often():
    """Comparative statics: all incidents end in about a day (median ln 2 / d_inc months) and
    almost never kill; all standing, they last months (median ln 2 / d0[2]) and kill as often
    as the rung-2 up-rate allows; the fitted mix lies between."""
    inc_days, inc_fatal = _median_days(0.0)
    mix_days, mix_fatal = _median_days(spells.STANDING_SHARE)
    std_days, std_fatal = _median_days(1.0)
    assert inc_days == pytest.approx(math.log(2) / spells.INCIDENT_DOWN * DAYS_PER_MONTH, rel=0.1)
    assert std_days == pytest.approx(math.log(2) / spells.STANDING_DOWN * DAYS_PER_MONTH, rel=0.1)
    assert inc_days < mix_days < std_days
    se = math.sqrt(0.25 / N)
    assert inc_fatal < mix_fatal - 3 * se and mix_fatal < std_fatal - 3 * se


def test_simulated_episodes_follow_the_fitted_mixture():
    """The episodes' durations (clashes and all) stay close to the two-exponential mixture the
    fit assumes: the share over by each fit point within 3 binomial standard errors plus 0.02."""
    e = episodes(runs=N, seed=11)
    d = e.days[~np.isnan(e.days)]
    for days, _ in durations.FIT_POINTS.items():
        model = 1 - float(durations.survival(np.array([days]), spells.STANDING_SHARE, spells.INCIDENT_DOWN,
                                             spells.STANDING_DOWN)[0])
        assert abs(float((d < days).mean()) - model) < 3 * math.sqrt(0.25 / d.size) + 0.02, days


def _open(level: int, runs: int = 2000, share: float | None = None):
    from sim.seeding import chunk_sequence, root_sequence
    from sim.world.compile import compile_plan
    from sim.world.opening import open_world

    rules = {"escalation": {"standing_share": share}} if share is not None else None
    scn_dict = neutral_dyad(rules)
    scn_dict["flashpoints"]["f"]["level"] = {"value": level, "source": {"assumption": "test"}}
    scn = api.load_scenario(scn_dict)
    plan = compile_plan(scn.spec, scn.rules, 12)
    return open_world(plan, runs, chunk_sequence(root_sequence(3), 0), dtype=np.float64)


def test_a_dispute_running_at_the_start_stands_and_new_ones_are_drawn():
    assert _open(2).st.standing.all()
    assert not _open(1).st.standing.any()
    w = _open(2, runs=4000, share=0.3)
    level, u = w.st.level.copy(), w.stream("escalation")  # noqa: F841 - the ladder's stream, untouched below
    spells.new_disputes(w)
    share = float(w.st.standing.mean())
    assert abs(share - 0.3) < 3 * math.sqrt(0.3 * 0.7 / 4000)
    assert np.array_equal(w.st.level, level)


def test_new_disputes_drawn_in_the_chain_take_the_standing_share():
    """Disputes that start inside a month (the chain climbs from rung 1 to rung 2) are standing
    in the share π_s: from rung 1 with a high onset rate, after one month."""
    w = _open(1, runs=6000, share=0.3)
    w.par["rule:escalation.base_up"][:, 1] = 30.0  # a dispute starts within days
    w.par["rule:escalation.base_up"][:, 2] = 0.0
    w.par["rule:escalation.incident_down"][:] = 0.0  # so each cell starts one dispute and keeps it
    w.par["rule:escalation.base_down"][:, 2] = 0.0
    w.step()
    started = w.st.entries[:, 0] > 0
    assert (w.st.entries[:, 0] <= 1).all()
    assert started.mean() > 0.9
    share = float(w.st.standing[started, 0].mean())
    assert abs(share - 0.3) < 3 * math.sqrt(0.3 * 0.7 / started.sum())
