"""Comparative statics of the issue-11 mechanisms: time scale, limited offensive,
blockade, talks, alliance response and patronage (docs/MODEL.md D3a, D4, D4a, D8-D10).

Hazards and chances are compared exactly (no randomness); frequencies use fixed seeds
and tolerances of 4 binomial standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import sim
from sim.rules import REGISTRY
from sim.rules.common import Dyads, answer_probability, response_probability
from sim.rules.offensive import odds
from sim.scenario.errors import InputError

from .conftest import load_text, make_world

VALID = """
meta: {name: valid, title: Validity mechanisms, start: 2023-07, horizon_months: 24, runs: 100, seed: 1}
states:
  aa: {name: A, capability: 2.0, resolve: 0.6}
  bb: {name: B, capability: 1.0, resolve: 0.5, affinity: {pp: 0.8}}
  pp: {name: P, capability: 1.0}
  cc: {name: C, capability: 10.0, available_capacity: 0.5}
  mm: {name: M, capability: 2.0, available_capacity: 0.8}
alliances:
  pact: {name: Pact, leader: cc, members: [cc, pp], credibility: 0.3, trust: {pp: 0.5}}
territories:
  land: {controller: bb, claimants: [aa, bb]}
flashpoints:
  front: {sides: [aa, bb], stakes: land, location: bb, level: 2}
  line: {sides: [aa, pp], location: pp, level: 1}
outcomes:
  clash: {kind: escalation, flashpoint: front, reaches: 3}
  taken: {kind: offensive, flashpoint: front}
  tried: {kind: offensive, flashpoint: front, result: launched}
  deal: {kind: agreement, flashpoint: front}
  bloody: {kind: monthly_deaths, flashpoint: front, above: 20}
  frozen: {kind: membership, state: pp, alliance: pact, becomes: frozen}
"""

FRONT, LINE = 0, 1
AA, BB, PP, CC, MM = range(5)


def tol(p: float, n: int, k: float = 4.0) -> float:
    return k * math.sqrt(max(p * (1 - p), 1e-12) / n)


def rule(world, kind: str):
    rs = world.plan.rules[kind]
    return REGISTRY[kind][rs.model].build(world.plan)


def world_of(tmp_path, text: str = VALID, n: int = 2000, seed: int = 0, overrides=None):
    return make_world(load_text(tmp_path, text, overrides), n=n, seed=seed, rules=False)


# ------------------------------------------------------------------ time scale (D3a)


def test_a_month_can_hold_a_clash_that_subsides(tmp_path):
    w = world_of(tmp_path, n=5000)
    w.par["rule:escalation.base_up"][:, 2] = 2.0  # clashes break out within the month
    start = w.st.level.copy()
    rule(w, "escalation")(w)
    pk, lv, deaths = w.st.peak[:, FRONT], w.st.level[:, FRONT], w.st.deaths[:, FRONT]
    flared = pk > start[:, FRONT]
    assert flared.mean() > 0.5
    # every clash that broke out killed someone; most ended within the month
    assert np.all(deaths[flared & (pk >= 3)] >= 1)
    assert np.all(deaths[pk < 3] == 0)
    assert ((pk >= 3) & (lv < pk)).sum() > 0.8 * (pk >= 3).sum()
    assert np.all(lv <= pk)


def test_the_monthly_ladder_holds_one_rung_a_month(tmp_path):
    w = world_of(tmp_path, VALID.replace("outcomes:", "rules:\n  escalation: {model: ladder}\noutcomes:"), n=2000)
    w.par["rule:escalation.base_up"][:, 2] = 2.0
    for _ in range(3):
        rule(w, "escalation")(w)
        assert np.array_equal(w.st.peak, w.st.level)


def test_a_clash_spell_ends_at_its_stated_rate(tmp_path):
    """Spells are exponential: with down-rate d from rung 4 (and nothing else moving), a
    major clash outlasts the month with probability exp(-d)."""
    n = 20_000
    w = world_of(tmp_path, n=n)
    w.st.level[:] = 4
    w.st.peak[:] = 0
    w.st.momentum[:] = 0.0
    w.par["rule:escalation.base_up"][:] = 0.0
    w.par["rule:escalation.base_down"][:, 4] = 1.0
    rule(w, "escalation")(w)
    still = (w.st.level[:, FRONT] == 4).mean()
    assert abs(still - math.exp(-1.0)) < tol(math.exp(-1.0), n)
    # a major clash already going at the start of the month draws no new toll
    assert np.all(w.st.deaths[:, FRONT] == 0)


def test_war_deaths_follow_the_time_at_war(tmp_path):
    n = 20_000
    w = world_of(tmp_path, n=n)
    w.st.level[:] = 5
    w.par["rule:escalation.war_mean_months"][:] = 240.0
    rule(w, "escalation")(w)
    at_war = w.st.level[:, FRONT] == 5
    med = w.rp("escalation", "casualties_war")[0]
    assert abs(np.median(w.st.deaths[at_war, FRONT]) / med - 1) < 0.05
    # a war that broke out during the month kills less in it
    w2 = world_of(tmp_path, n=n, seed=1)
    w2.st.level[:] = 4
    w2.par["rule:escalation.base_up"][:, 4] = 2.0
    w2.par["rule:escalation.base_down"][:] = 0.0
    w2.par["rule:escalation.war_mean_months"][:] = 240.0
    rule(w2, "escalation")(w2)
    started = w2.st.level[:, FRONT] == 5
    assert started.mean() > 0.5
    assert np.median(w2.st.deaths[started, FRONT]) < 0.7 * med


# ----------------------------------------------------------- limited offensive (D9)


def test_offensive_odds_rise_with_balance_isolation_and_wear(tmp_path):
    """The mechanism's directions, with its slopes on (the panel puts the balance and isolation
    slopes at 0 with intervals reaching 1.7 and 6: declared uncertainties, docs/CALIBRATION.md)."""
    w = world_of(tmp_path, n=10)
    w.par["rule:offensive.beta_balance"][:] = 1.0
    w.par["rule:offensive.beta_isolation"][:] = 1.0
    base = odds(w)
    assert np.all(base["challenger"][:, FRONT, 0]) and not base["challenger"][:, FRONT, 1].any()
    assert np.all(base["rate"][:, LINE] == 0)  # no stakes on the line: nothing to seize
    r0, w0, x0 = base["rate"][:, FRONT, 0], base["p_win"][:, FRONT, 0], base["p_war"][:, FRONT, 0]
    # balance
    w.st.capability[:, AA] = 4.0
    up = odds(w)
    assert np.all(up["rate"][:, FRONT, 0] > r0) and np.all(up["p_win"][:, FRONT, 0] > w0)
    w.st.capability[:, AA] = 2.0
    # isolation: the defender's patron turns away; expected help (and so deterrence) falls
    w.st.affinity[:, PP, BB] = 0.0
    iso = odds(w)
    assert np.all(iso["D"][:, FRONT, 0] < base["D"][:, FRONT, 0])
    assert np.all(iso["rate"][:, FRONT, 0] > r0) and np.all(iso["p_war"][:, FRONT, 0] < x0)
    w.st.affinity[:, PP, BB] = 0.8
    # wear: a blockaded defender with half its supplies
    w.st.supply[:, BB] = 0.5
    worn = odds(w)
    assert np.all(worn["rate"][:, FRONT, 0] > r0) and np.all(worn["p_win"][:, FRONT, 0] > w0)
    # a settled dispute, or a calm one, offers no offensive
    w.st.settled[:, FRONT] = True
    assert np.all(odds(w)["rate"][:, FRONT] == 0)
    w.st.settled[:, FRONT] = False
    w.st.level[:, FRONT] = 1
    assert np.all(odds(w)["rate"][:, FRONT] == 0)


def test_an_ordered_offensive_ends_in_seizure_failure_or_war_at_the_stated_odds(tmp_path):
    """With take_all = 1 (the model before partial gains), every success takes everything."""
    n = 20_000
    w = world_of(tmp_path, n=n)
    w.par["rule:offensive.take_all"][:] = 1.0
    o = odds(w)
    p_war, p_win = o["p_war"][0, FRONT, 0], o["p_win"][0, FRONT, 0]
    w.st.launch[:, FRONT] = 1
    w.st.launch[:, LINE] = 1  # the line has no stakes: the order lapses
    rule(w, "offensive")(w)
    assert np.all(w.st.launch == 0)
    assert np.all(w.st.offensives[:, FRONT] == 1) and np.all(w.st.offensives[:, LINE] == 0)
    war = w.st.level[:, FRONT] == 5
    taken = w.st.controller[:, 0] == AA
    assert abs(war.mean() - p_war) < tol(p_war, n)
    p_take = (1 - p_war) * p_win
    assert abs(taken.mean() - p_take) < tol(p_take, n)
    assert np.all(w.st.settled[taken, FRONT]) and np.all(w.st.level[taken, FRONT] == 0)
    assert np.array_equal(w.st.gains[:, FRONT] > 0, taken) and np.all(w.st.held == 0)
    assert np.all(w.st.deaths[:, FRONT] >= 1) and np.all(w.st.peak[:, FRONT] >= 4)
    assert np.all(w.st.peak[war, FRONT] == 5)


def test_a_successful_offensive_takes_part_of_the_land_at_the_stated_odds(tmp_path):
    """A gain takes everything w.p. take_all, else a share take_share; a partial gain keeps the
    dispute open (rung >= 2, standing, not settled) and the territory with its holder."""
    n = 20_000
    w = world_of(tmp_path, n=n, seed=5)
    w.par["rule:offensive.take_all"][:] = 0.3
    w.par["rule:offensive.take_share"][:] = 0.4
    w.st.level[:, FRONT] = 1  # an order is carried out at any rung below war
    w.st.standing[:] = False
    o = odds(w)
    p_war, p_win = o["p_war"][0, FRONT, 0], o["p_win"][0, FRONT, 0]
    w.st.launch[:, FRONT] = 1
    rule(w, "offensive")(w)
    whole = w.st.controller[:, 0] == AA
    part = w.st.held[:, FRONT] > 0
    assert not np.any(whole & part)
    for got, p in ((whole, (1 - p_war) * p_win * 0.3), (part, (1 - p_war) * p_win * 0.7)):
        assert abs(got.mean() - p) < tol(p, n)
    assert np.allclose(w.st.held[part, FRONT], 0.4)
    assert np.all(w.st.held_from[part, FRONT] == BB) and np.all(w.st.held_from[~part, FRONT] == -1)
    assert not w.st.settled[part, FRONT].any() and np.all(w.st.level[part, FRONT] == 2)
    assert np.all(w.st.standing[part, FRONT]) and not w.st.standing[~part & ~whole, FRONT].any()
    assert np.array_equal(w.st.gains[:, FRONT] > 0, whole | part)
    assert np.array_equal(w.st.seizures[:, FRONT] > 0, whole)
    # a second partial gain takes the same share of what is left: 0.4 + 0.4 * 0.6
    w.st.launch[:, FRONT] = 1
    w.par["rule:offensive.take_all"][:] = 0.0
    before = w.st.held[:, FRONT].copy()
    rule(w, "offensive")(w)
    again = part & (w.st.gains[:, FRONT] == 2)
    assert again.sum() > 100
    assert np.allclose(w.st.held[again, FRONT], 0.4 + 0.4 * 0.6, atol=1e-6)
    assert np.all(w.st.held[part & ~again & (w.st.level[:, FRONT] < 5), FRONT] == before[part & ~again
                                                                                      & (w.st.level[:, FRONT] < 5)])


def test_the_holder_may_retake_what_it_lost_and_the_share_lapses_if_the_land_changes_hands(tmp_path):
    n = 20_000
    w = world_of(tmp_path, n=n, seed=6)
    w.par["rule:offensive.take_all"][:] = 0.25
    w.par["rule:offensive.take_share"][:] = 0.5
    w.par["rule:offensive.base_rate"][:] = 0.0  # only the ordered retake: aa does not launch of itself
    assert not odds(w)["challenger"][:, FRONT, 1].any()  # nothing held: the holder has nothing to retake
    w.st.held[:, FRONT] = 0.6
    w.st.held_from[:, FRONT] = BB
    o = odds(w)
    assert np.all(o["challenger"][:, FRONT, 1]) and np.all(o["challenger"][:, FRONT, 0])
    # the holder's hazard is the same formula from its own side: its balance is the challenger's negated
    assert np.allclose(o["x"][:, FRONT, 1], -o["x"][:, FRONT, 0])
    p_war, p_win = o["p_war"][0, FRONT, 1], o["p_win"][0, FRONT, 1]
    w.st.launch[:, FRONT] = -1  # bb, the holder, is ordered to retake
    rule(w, "offensive")(w)
    back = w.st.retakes[:, FRONT] > 0
    assert abs(back.mean() - (1 - p_war) * p_win) < tol((1 - p_war) * p_win, n)
    h = w.st.held[back, FRONT]
    assert np.all(np.isclose(h, 0.0) | np.isclose(h, 0.3))  # everything back, or half of what was held
    assert abs((h == 0).mean() - 0.25) < tol(0.25, int(back.sum()))
    assert np.all(w.st.controller[:, 0] == BB) and not w.st.settled[:, FRONT].any()
    assert np.all(w.st.gains[:, FRONT] == 0) and np.all(w.st.seizures[:, FRONT] == 0)
    # a war or an event that moves the territory takes the share held with it
    w2 = world_of(tmp_path, n=100, seed=7)
    w2.st.held[:, FRONT] = 0.6
    w2.st.held_from[:, FRONT] = BB
    w2.st.controller[:, 0] = AA
    o2 = odds(w2)  # aa holds it all now: nothing of it is held by bb to retake; bb is the challenger
    assert not o2["challenger"][:, FRONT, 0].any() and o2["challenger"][:, FRONT, 1].all()
    w2.st.level[:, FRONT] = 1  # no launch of itself below rung 2
    rule(w2, "offensive")(w2)
    assert np.all(w2.st.held[:, FRONT] == 0) and np.all(w2.st.held_from[:, FRONT] == -1)


def test_partial_gains_change_what_the_offensive_outcomes_count(tmp_path):
    text = VALID.replace("  deal:", "  ground: {kind: offensive, flashpoint: front, result: gains}\n  deal:")
    res = {}
    for take_all in (1.0, 0.2):
        scn = load_text(tmp_path, text, {"rules.offensive.take_all": take_all, "rules.offensive.base_rate": 0.3})
        rows = {r["outcome"]: r for r in sim.run(scn, runs=2000, seed=4, months=12).outcome_rows()}
        res[take_all] = {k: rows[k]["probability"] for k in ("taken", "ground", "tried")}
    assert res[1.0]["taken"] == res[1.0]["ground"]  # every gain takes everything
    assert res[0.2]["ground"] > res[0.2]["taken"]
    assert res[0.2]["taken"] < res[1.0]["taken"] - 0.05  # fewer whole seizures when most gains are partial


def test_a_lever_orders_an_offensive(tmp_path):
    text = VALID.replace("outcomes:", "levers:\n  aa:\n    strike: {description: Strike., effect: {set: {flashpoints.front.launch: 1}}}\noutcomes:")
    scn = load_text(tmp_path, text)
    res = sim.run(scn, runs=300, seed=3, months=3, levers=["aa.strike"])
    row = {r["outcome"]: r for r in res.outcome_rows()}
    assert row["tried"]["probability"] == 1.0 and row["tried"]["median_month"] == 1
    without = {r["outcome"]: r for r in sim.run(scn, runs=300, seed=3, months=3).outcome_rows()}
    assert without["tried"]["probability"] < 0.5


def test_an_offensive_outcome_needs_stakes(tmp_path):
    with pytest.raises(InputError) as ei:
        load_text(tmp_path, VALID + "  odd: {kind: offensive, flashpoint: line}\n")
    assert "has no stakes" in str(ei.value)


# ------------------------------------------------------------------- blockade (D8)


def test_a_blockade_wears_the_blockaded_side_down_and_holds_the_rung(tmp_path):
    w = world_of(tmp_path, VALID.replace("level: 2}", "level: 2, blockade: 1}"), n=500)
    w.par["rule:blockade.lift_rate"][:] = 0.0
    wear = w.rp("blockade", "wear_rate")[0]
    step = rule(w, "blockade")
    for _ in range(12):
        step(w)
    assert np.allclose(w.st.supply[:, BB], (1 - wear) ** 12)
    assert np.allclose(w.st.supply[:, AA], 1.0)
    assert np.all(w.st.rung_floor[:, FRONT] == 2) and np.all(w.st.rung_floor[:, LINE] == 0)
    # lifted: supplies recover
    w.st.blockade[:, FRONT] = 0
    worn = w.st.supply[:, BB].copy()
    step(w)
    assert np.all(w.st.supply[:, BB] > worn) and np.all(w.st.rung_floor == 0)


def test_the_ladder_stays_at_rung_2_or_above_under_a_blockade(tmp_path):
    text = VALID.replace("level: 2}", "level: 2, blockade: 1}")
    scn = load_text(tmp_path, text, {"rules.blockade.lift_rate": 0.0, "rules.offensive.model": "off",
                                    "rules.talks.model": "off"})
    w = make_world(scn, n=1000)
    for _ in range(24):
        w.step()
        # (a war's winner may take the land: the dispute is settled, the blockade ends)
        assert np.all((w.st.level[:, FRONT] >= 2) | w.st.settled[:, FRONT])
    free = make_world(load_text(tmp_path, VALID, {"rules.offensive.model": "off", "rules.talks.model": "off"}), n=1000)
    low = np.zeros(1000, dtype=bool)
    for _ in range(24):
        free.step()
        low |= free.st.level[:, FRONT] < 2
    assert low.mean() > 0.5


def test_a_blockade_makes_seizure_likelier(tmp_path):
    n = 4000
    over = {"rules.blockade.lift_rate": 0.0, "rules.offensive.base_rate": 0.05}
    with_b = sim.run(load_text(tmp_path, VALID.replace("level: 2}", "level: 2, blockade: 1}"), over), runs=n, seed=5)
    without = sim.run(load_text(tmp_path, VALID, over), runs=n, seed=5)
    p1 = {r["outcome"]: r["probability"] for r in with_b.outcome_rows()}["taken"]
    p0 = {r["outcome"]: r["probability"] for r in without.outcome_rows()}["taken"]
    assert p1 - p0 > tol(p1, n) + tol(p0, n)


# ---------------------------------------------------------------------- talks (D10)


def test_mediators_make_an_agreement_likelier(tmp_path):
    n = 4000
    talks = VALID.replace("level: 2}", "level: 2, talks: 1, progress: 0.5}")
    over = {"rules.offensive.model": "off"}
    plain = sim.run(load_text(tmp_path, talks, over), runs=n, seed=6)
    med = sim.run(load_text(tmp_path, talks.replace("level: 2, talks", "level: 2, mediators: [mm], talks"), over),
                  runs=n, seed=6)
    p0 = {r["outcome"]: r["probability"] for r in plain.outcome_rows()}["deal"]
    p1 = {r["outcome"]: r["probability"] for r in med.outcome_rows()}["deal"]
    assert p1 - p0 > tol(p1, n) + tol(p0, n)


def test_a_clash_stalls_open_talks_and_calm_resumes_them(tmp_path):
    w = world_of(tmp_path, VALID.replace("level: 2}", "level: 2, talks: 1}"), n=500)
    w.par["rule:talks.clash_stall"][:] = 1.0
    step = rule(w, "talks")
    w.st.peak[:, FRONT] = 3
    step(w)
    assert np.all(w.st.talks[:, FRONT] == 2)
    w.st.peak[:, FRONT] = 2
    w.par["rule:talks.resume_rate"][:] = 50.0
    step(w)
    assert np.all(w.st.talks[:, FRONT] == 1)


def test_an_agreement_settles_the_dispute_and_lifts_the_blockade(tmp_path):
    w = world_of(tmp_path, VALID.replace("level: 2}", "level: 2, blockade: 1, talks: 1, progress: 1}"), n=500)
    w.par["rule:talks.sign_rate"][:] = 50.0
    w.par["rule:talks.stall_rate"][:] = 0.0
    rule(w, "talks")(w)
    assert np.all(w.st.agreement[:, FRONT]) and np.all(w.st.settled[:, FRONT]) and np.all(w.st.level[:, FRONT] == 0)
    rule(w, "blockade")(w)
    assert np.all(w.st.blockade[:, FRONT] == 0)


# ------------------------------------------------------- alliance response (D4, D4a)


def test_the_answer_probability_is_credibility_until_the_leaders_capacity_changes(tmp_path):
    w = world_of(tmp_path, n=10)
    d = Dyads.of(w.plan)
    assert np.allclose(answer_probability(w, d)[:, 0], 0.3)  # capacity 0.5 is not discounted again
    q, _, _ = response_probability(w, d)
    assert np.allclose(q[:, LINE, 1, 0], 0.3)  # pp, fighting on its own land
    w.par.capacity[:, CC] *= 0.5
    assert np.allclose(answer_probability(w, d)[:, 0], 0.15)
    w.par.capacity[:, CC] *= 8
    assert np.allclose(answer_probability(w, d)[:, 0], 1.0)  # at most certain


def test_a_patrons_trust_moves_with_its_proteges_flashpoint(tmp_path):
    w = world_of(tmp_path, n=200)
    step = rule(w, "patronage")
    cost = w.rp("patronage", "patron_cost")[0]
    before = w.st.trust[:, PP, 0].copy()
    step(w)  # front at rung 2: nothing to judge
    assert np.array_equal(w.st.trust[:, PP, 0], before)
    w.st.peak[:, FRONT] = 3  # a fatal clash against pp's protégé; the pact stands by (outside its zone)
    step(w)
    assert np.allclose(w.st.trust[:, PP, 0], before - cost * 0.8)
    assert np.all(w.st.refused_now[:, PP, 0] == 1)
    step(w)  # within the cooldown: no second judgement...
    assert np.allclose(w.st.trust[:, PP, 0], before - cost * 0.8)
    w.st.controller[:, 0] = AA  # ...unless the protégé loses the land
    step(w)
    assert np.allclose(w.st.trust[:, PP, 0], before - 2 * cost * 0.8)
    # no patron below the affinity threshold
    w2 = world_of(tmp_path, VALID.replace("affinity: {pp: 0.8}", "affinity: {pp: 0.3}"), n=50)
    w2.st.peak[:, FRONT] = 3
    b2 = w2.st.trust.copy()
    rule(w2, "patronage")(w2)
    assert np.array_equal(w2.st.trust, b2)


def test_freezing_follows_a_refused_request_in_the_run(tmp_path):
    """Membership moves with events: the same member, starting above the freeze
    threshold, freezes far more often in runs where its request for help is refused."""
    n = 4000
    base = VALID.replace("credibility: 0.3, trust: {pp: 0.5}", "credibility: 0.0, trust: {pp: 0.4}")
    clash = base.replace("outcomes:", """events:
  - {name: raid, at: 2023-08, effect: {set: {flashpoints.line.level: 3}}}
outcomes:""")
    over = {"rules.escalation.model": "off", "rules.offensive.model": "off", "rules.patronage.model": "off",
            "rules.alignment.model": "off"}
    calm = sim.run(load_text(tmp_path, base, over), runs=n, seed=8)
    hit = sim.run(load_text(tmp_path, clash, over), runs=n, seed=8)
    p0 = {r["outcome"]: r["probability"] for r in calm.outcome_rows()}["frozen"]
    p1 = {r["outcome"]: r["probability"] for r in hit.outcome_rows()}["frozen"]
    assert p0 == 0.0
    h = 0.05  # freeze_hazard; the refusal in month 2 takes trust from 0.4 to 0.25 < 0.3
    expect = 1 - (1 - h) ** 23
    assert abs(p1 - expect) < tol(expect, n)
    assert hit.counts().loc["alliance.refusal", "per_run"] >= 1.0
    assert calm.counts().loc["alliance.refusal", "per_run"] == 0.0


def test_uncertainties_of_a_switched_off_mechanism_are_left_out(tmp_path):
    """karabakh declares ranges for the offensive's and patronage's parameters; switching
    either off for a run is not an error, and a study gets no range for it."""
    scn = sim.load_scenario("karabakh", overrides=["rules.patronage.model=off", "rules.offensive.model=off"])
    paths = [u.path for u in scn.uncertainties()]
    assert "rules.talks.sign_rate" in paths
    assert not [p for p in paths if p.startswith(("rules.patronage.", "rules.offensive."))]
    # a misspelt parameter of a mechanism that is on is still an error
    with pytest.raises(InputError, match="not a numeric parameter path"):
        load_text(tmp_path, VALID + "uncertainties:\n  rules.talks.sign_rat: {uniform: [0.1, 0.2]}\n")


def test_offensive_odds_in_a_world_without_territories(tmp_path):
    """No territory at all (T = 0): nobody is a challenger, nothing is held (the decision's
    odds are asked for every played country in a game)."""
    text = VALID.replace("territories:\n  land: {controller: bb, claimants: [aa, bb]}\n", "").replace(
        "stakes: land, ", "").replace("  taken: {kind: offensive, flashpoint: front}\n", "").replace(
        "  tried: {kind: offensive, flashpoint: front, result: launched}\n", "")
    w = world_of(tmp_path, text, n=50)
    assert w.st.controller.shape[1] == 0
    o = odds(w)
    assert not o["challenger"].any() and np.all(o["rate"] == 0)
    rule(w, "offensive")(w)
    assert np.all(w.st.held == 0) and np.all(w.st.offensives == 0)
