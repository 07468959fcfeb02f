"""Lever policies (MODEL.md D1b): actors nobody plays pull their own levers by a declared rule;
and continuations restored from a snapshot taken mid-run."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.scenario.errors import InputError

from .conftest import MINI, make_world, write

POLICY = MINI + """
levers:
  bb:
    freeze:
      description: Freeze participation in the pact.
      effect: {add: {alliances.pact.frozen: [bb]}}
      source: {assumption: "test"}
      policy: {when: "level(front) >= 2", probability: {value: 0.3, source: {assumption: "test value"}}}
  aa:
    mobilise:
      description: Mobilise reserves.
      effect: {add: {states.aa.capability: 0.5}}
      policy: {probability: 0.5, once: false}
    talk:
      description: Talk.
      effect: {set: {flashpoints.front.level: 1}}
"""


@pytest.fixture
def pol(tmp_path: Path) -> sim.LoadedScenario:
    return sim.load_scenario(write(tmp_path, POLICY))


def test_a_policy_pulls_its_lever_with_its_probability_once(pol):
    w = make_world(pol, n=20_000, seed=3)
    i = w.plan.lever_keys.index(("bb", "freeze"))
    w.step()  # level(front) = 2 at the start: eligible in month 1
    share = w.st.lever_pulled[:, i].mean()
    se = math.sqrt(0.3 * 0.7 / w.n)
    assert abs(share - 0.3) < 4 * se
    frozen = w.st.status[:, w.plan.index_of("state")["bb"], 0] == 2
    pulled = w.st.lever_pulled[:, i]
    # the effect applied where pulled: frozen only there (trust 0.5 is above the freeze
    # threshold), and most stay frozen (re-engagement at trust >= 0.5 has hazard 0.1)
    assert not (frozen & ~pulled).any()
    assert frozen.sum() >= 0.8 * pulled.sum()
    assert w.counts["policy.pulled"].sum() >= pulled.sum()
    for _ in range(11):
        w.step()
    assert w.counts["policy.pulled"].max() >= 2  # aa.mobilise may be pulled again and again ...
    pulled_freeze = w.st.lever_pulled[:, i]
    assert 0.3 < pulled_freeze.mean() < 1.0


def test_once_means_once_and_repeatable_policies_repeat(pol):
    w = make_world(pol, n=4000, seed=4)
    cap0 = w.st.capability[:, 0].copy()
    for _ in range(12):
        w.step()
    # aa.mobilise (p = 0.5, not once) adds 0.5 capability each time: about 6 pulls in 12 months
    pulls = np.rint((w.st.capability[:, 0] - cap0) / 0.5)  # nothing else changes capability here
    assert abs(pulls.mean() - 6.0) < 4 * math.sqrt(12 * 0.25 / w.n)
    # every pull is counted once: aa's pulls plus bb's one freeze at most
    freeze = w.st.lever_pulled[:, w.plan.lever_keys.index(("bb", "freeze"))]
    assert np.array_equal(w.counts["policy.pulled"], pulls + freeze)


def test_played_actors_policies_do_not_act(pol):
    w = make_world(pol, n=2000, seed=5)
    w.st.played[:, w.plan.index_of("state")["bb"]] = True
    for _ in range(6):
        w.step()
    i = w.plan.lever_keys.index(("bb", "freeze"))
    assert not w.st.lever_pulled[:, i].any()
    assert w.st.lever_pulled[:, w.plan.lever_keys.index(("aa", "mobilise"))].any()


def test_without_policies_nothing_is_drawn(mini):
    w = make_world(mini, n=50, seed=1)
    for _ in range(3):
        w.step()
    assert "policy" not in w.streams
    assert w.counts["policy.pulled"].sum() == 0


def test_policy_probability_has_provenance_and_shows_in_sources(pol):
    rows = {r["path"]: r for r in pol.parameters()}
    assert rows["levers.bb.freeze.policy.probability"]["kind"] == "assumption"
    assert rows["levers.aa.mobilise.policy.probability"]["kind"] == "none"
    assert "levers.aa.talk.policy.probability" not in rows


def test_bad_policies_get_file_line_errors(tmp_path):
    bad = MINI + """
levers:
  bb:
    freeze:
      description: Freeze.
      effect: {add: {alliances.pact.frozen: [bb]}}
      policy: {when: "level(frnt) >= 2", probability: 1.5, oncee: true}
"""
    p = write(tmp_path, bad)
    with pytest.raises(InputError) as ei:
        sim.load_scenario(p)
    text = ei.value.format("sim validate")
    lines = text.splitlines()
    assert any(f"{p}:" in ln and "policy.when: unknown flashpoint 'frnt' (did you mean 'front'?)" in ln for ln in lines)
    assert any("policy.probability: value 1.5 is out of range" in ln for ln in lines)
    assert any("policy.oncee: unknown key 'oncee' (did you mean 'once'?)" in ln for ln in lines)
    line_no = p.read_text().splitlines().index('      policy: {when: "level(frnt) >= 2", probability: 1.5, oncee: true}') + 1
    assert all(f":{line_no}:" in ln for ln in lines if "policy" in ln)


def test_continuations_from_a_snapshot_taken_mid_run(tmp_path):
    """A snapshot taken after some months holds the alignment rule's cache beside the
    state; restoring one replicate into N (or zero) continuations must not copy it."""
    from sim import montecarlo

    scn = sim.load_scenario("karabakh")
    w = make_world(scn, n=3, seed=2)
    for _ in range(3):
        w.step()
    snap = w.snapshot()
    job = montecarlo.prepare(scn, runs=40, seed=1, start=snap, start_replicate=2, dtype="float64")
    engine, n = montecarlo.backend_for(job, backend="local")
    res = montecarlo.execute(job, engine, n)
    assert res.runs == 40 and res.complete


@pytest.mark.slow
def test_policies_agree_with_the_reference_implementation():
    """The vectorized policy rule against benchmarks/reference.py on a world with policies
    (tests/data/diff_policy.yaml), in distribution; and the policies matter there."""
    from benchmarks.reference import run_reference

    from .test_reference import prob_tolerance

    data = Path(__file__).parent / "data"
    scn = sim.load_scenario(data / "diff_policy.yaml")
    vec = sim.run(scn, runs=20_000, seed=31, workers=1)
    ref = run_reference(scn, runs=4_000, seed=32)
    bad = []
    for r in vec.outcome_rows():
        p1, p2 = r["probability"], ref["outcomes"][r["outcome"]]["probability"]
        if abs(p1 - p2) >= prob_tolerance(p1, vec.runs, p2, ref["runs"]):
            bad.append(f"{r['outcome']}: vectorized {p1:.4f} reference {p2:.4f}")
    assert not bad, "\n".join(bad)
    without = sim.run(data / "diff_small.yaml", runs=20_000, seed=31, workers=1)
    p_with = vec.probabilities().loc["north_freezes", "probability"]
    p_without = without.probabilities().loc["north_freezes", "probability"]
    assert p_with - p_without > prob_tolerance(p_with, 20_000, p_without, 20_000)
