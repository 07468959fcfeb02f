"""Comparative statics of the mechanisms, and the Monte Carlo frequencies they imply.

Hazard comparisons are exact (no randomness). Frequency checks use fixed seeds and
tolerances of 4 binomial standard errors, so they neither flake nor pass vacuously.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.rules import REGISTRY
from sim.rules.common import Dyads, response_probability
from sim.rules.escalation import rates
from sim.world.compile import ACTIVE, EXITED, FROZEN

from .conftest import MINI, load_text, make_world


def tol(p: float, n: int, k: float = 4.0) -> float:
    return k * math.sqrt(max(p * (1 - p), 1e-12) / n)


def rule(world, kind: str):
    rs = world.plan.rules[kind]
    return REGISTRY[kind][rs.model].build(world.plan)


@pytest.fixture
def world(mini):
    return make_world(mini, n=200, rules=False)


def test_higher_credibility_lowers_the_adversarys_escalation_hazard(world):
    d = Dyads.of(world.plan)
    world.par.credibility[:] = 0.1
    low = rates(world, d)
    world.par.credibility[:] = 0.9
    high = rates(world, d)
    assert np.all(high["D"][..., 0] > low["D"][..., 0])  # side aa is deterred more
    assert np.all(high["up"] < low["up"])


def test_mediators_lower_the_up_hazard_and_raise_the_down_hazard(world):
    d = Dyads.of(world.plan)
    with_m = rates(world, d)
    world.st.mediators[:] = False
    without = rates(world, d)
    assert np.all(with_m["M"] > 0) and np.all(without["M"] == 0)
    assert np.all(with_m["up"] < without["up"])
    assert np.all(with_m["down"] > without["down"])


def test_resolve_raises_and_outside_help_deters(world):
    d = Dyads.of(world.plan)
    base = rates(world, d)["up"]
    world.par.resolve[:, 0] = 0.95
    assert np.all(rates(world, d)["up"] > base)
    world.par.resolve[:, 0] = 0.7
    world.st.affinity[:, 2, 1] = 0.0
    d0 = rates(world, d)["D"][..., 0]
    world.st.affinity[:, 2, 1] = 0.9
    assert np.all(rates(world, d)["D"][..., 0] > d0)


def test_a_settled_flashpoint_stays_calm(world):
    step = rule(world, "escalation")
    world.st.settled[:] = True
    world.st.level[:] = 0
    for _ in range(120):
        step(world)
    assert np.all(world.st.level == 0) and np.all(world.st.settled)


def test_a_refusal_lowers_trust_and_a_response_raises_it(world):
    step = rule(world, "alliance")
    bb, pact = 1, 0
    cost = world.rp("alliance", "refusal_cost")[0]
    world.st.level[:] = world.st.peak[:] = 3  # at the trigger: bb asks the pact for help
    world.par.credibility[:] = 0.0
    before = world.st.trust[:, bb, pact].copy()
    step(world)
    assert np.allclose(world.st.trust[:, bb, pact], before - cost)
    # a certain response raises trust and commits support to bb's side
    world.st.request_wait[:] = 10_000
    world.par.credibility[:] = 1.0
    world.par.capacity[:, 2] = 1.0
    before = world.st.trust[:, bb, pact].copy()
    step(world)
    assert np.all(world.st.trust[:, bb, pact] > before)
    assert np.all(world.st.support[:, 0, 1] > 0)


def test_no_request_below_the_trigger_or_within_the_cooldown(world):
    step = rule(world, "alliance")
    world.par.credibility[:] = 0.0
    world.st.level[:] = world.st.peak[:] = 2
    before = world.st.trust.copy()
    step(world)
    assert np.array_equal(world.st.trust, before)
    world.st.level[:] = world.st.peak[:] = 3
    step(world)
    once = world.st.trust.copy()
    step(world)  # within the cooldown: no second refusal
    assert np.array_equal(world.st.trust, once)


def test_members_on_both_sides_make_the_alliance_abstain(tmp_path):
    text = MINI.replace("members: [cc, bb, dd]", "members: [cc, bb, dd, aa]")
    w = make_world(load_text(tmp_path, text), n=50, rules=False)
    q, _, abstain = response_probability(w, Dyads.of(w.plan))
    assert np.all(q == 0) and np.all(abstain[:, 0, 1, 0])
    step = rule(w, "alliance")
    w.st.level[:] = w.st.peak[:] = 3
    before = w.st.trust[:, 1, 0].copy()
    step(w)
    assert np.allclose(w.st.trust[:, 1, 0], before - w.rp("alliance", "abstain_cost")[0])


def test_fighting_outside_the_zone_of_responsibility(world):
    d = Dyads.of(world.plan)
    q_in, _, _ = response_probability(world, d)
    import dataclasses

    d_out = dataclasses.replace(d, in_zone=np.zeros_like(d.in_zone))
    world.par.outside_zone[:] = 0.25
    q_out, _, _ = response_probability(world, d_out)
    assert np.allclose(q_out[:, 0, 1, 0], 0.25 * q_in[:, 0, 1, 0])


def ladder(tmp_path):
    """The MINI world with the monthly ``ladder`` model of escalation."""
    return load_text(tmp_path, MINI + "rules:\n  escalation: {model: ladder}\n")


def test_war_winner_follows_the_capability_ratio_and_takes_the_stakes(tmp_path):
    mini = ladder(tmp_path)
    n = 20_000
    w = make_world(mini, n=n, rules=False)
    step = rule(w, "escalation")
    w.st.level[:] = 5
    w.par["rule:escalation.war_mean_months"][:] = 0.5  # ends this month
    w.st.capability[:, 0] = 1.0
    w.st.capability[:, 1] = 1.0
    w.st.support[:] = 0.0
    step(w)
    a_won = w.st.controller[:, 0] == 0
    assert abs(a_won.mean() - 0.5) < tol(0.5, n)
    assert np.all(w.st.settled[a_won, 0]) and np.all(w.st.level[a_won, 0] == 0)
    # the defender keeping its land leaves a standoff at the post-war rung
    assert np.all(w.st.level[~a_won, 0] == 2)
    # a 2:1 edge wins with probability 2^k / (2^k + 1)
    w2 = make_world(mini, n=n, rules=False, seed=1)
    w2.st.level[:] = 5
    w2.par["rule:escalation.war_mean_months"][:] = 0.5
    w2.st.capability[:, 0] = 2.0
    w2.st.capability[:, 1] = 1.0
    rule(w2, "escalation")(w2)
    k = w2.rp("escalation", "decisiveness")[0]
    p = 2**k / (2**k + 1)
    assert abs((w2.st.controller[:, 0] == 0).mean() - p) < tol(p, n)


def test_war_duration_is_geometric(tmp_path):
    mini = ladder(tmp_path)
    n = 20_000
    w = make_world(mini, n=n, rules=False)
    step = rule(w, "escalation")
    w.st.level[:] = 5
    mean = w.rp("escalation", "war_mean_months")[0]
    step(w)
    still = (w.st.level[:, 0] == 5).mean()
    assert abs(still - (1 - 1 / mean)) < tol(1 - 1 / mean, n)


def test_casualties_per_rung(tmp_path):
    mini = ladder(tmp_path)
    n = 20_000
    w = make_world(mini, n=n, rules=False)
    w.par["rule:escalation.base_up"][:] = 0.0
    w.par["rule:escalation.base_down"][:] = 0.0
    w.par["rule:escalation.base_settle"][:] = 0.0
    w.st.level[:] = 4
    rule(w, "escalation")(w)
    med = w.rp("escalation", "casualties_major_clash")[0]
    assert abs(np.median(w.st.deaths[:, 0]) / med - 1) < 0.05
    w.st.level[:] = 2
    rule(w, "escalation")(w)
    assert np.all(w.st.deaths == 0)


def test_membership_freeze_and_exit_hazards(mini):
    n = 20_000
    w = make_world(mini, n=n, rules=False)
    step = rule(w, "membership")
    bb = 1
    w.st.trust[:, bb, 0] = 0.1
    step(w)
    frozen = (w.st.status[:, bb, 0] == FROZEN).mean()
    h = w.rp("membership", "freeze_hazard")[0]
    assert abs(frozen - h) < tol(h, n)
    # frozen members with very low trust leave; the leader never freezes
    w.st.status[:, bb, 0] = FROZEN
    w.st.trust[:, 2, 0] = 0.0
    step(w)
    left = (w.st.status[:, bb, 0] == EXITED).mean()
    he = w.rp("membership", "exit_hazard")[0]
    assert abs(left - he) < tol(he, n)
    assert np.all(w.st.status[:, 2, 0] == ACTIVE)


def test_high_trust_re_engages_a_frozen_member(mini):
    w = make_world(mini, n=5000, rules=False)
    step = rule(w, "membership")
    w.st.status[:, 1, 0] = FROZEN
    w.st.trust[:, 1, 0] = 0.9
    for _ in range(60):
        step(w)
    assert (w.st.status[:, 1, 0] == ACTIVE).mean() > 0.99
