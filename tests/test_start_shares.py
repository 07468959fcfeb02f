"""Arms-import shares that start where the procurement rule's memory says (docs/MODEL.md D2,
"Start"; docs/CALIBRATION.md, sipri-tiv-memory-36)."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.evidence import arms_imports as ai
from sim.rules import build_pipeline
from sim.scenario.values import Dist
from sim.world.compile import compile_plan
from sim.world.model import World

from .conftest import MINI, load_text

# ------------------------------------------------------------- the derivation (evidence)

# A buyer (A) with two suppliers whose deliveries never slip and arrive in the month they
# are due (lag 0, reliability 1), and no budget: what it receives is what the test puts
# in its backlog. The open order of 1 USD only makes it a buyer.
FEED = MINI.replace("  aa: {name: A, capability: 2.0, resolve: 0.7, affinity: {cc: 0.8}}", """  aa:
    name: A
    capability: 2.0
    resolve: 0.7
    affinity: {cc: 0.8, dd: 0.5}
    orders: {x_arms: 1}""") + """suppliers:
  x_arms: {state: cc, reliability: 1.0, price_quality: 0.5, lag_months: 0}
  y_arms: {state: dd, reliability: 1.0, price_quality: 0.5, lag_months: 0}
"""


def _months(start=(2010, 1), end=ai.START):
    y, m = start
    while (y, m) != end:
        yield y, m
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


@pytest.mark.parametrize("memory", [6, 36, 90])
def test_the_procurement_rule_fed_sipris_deliveries_ends_where_the_start_shares_are(tmp_path, memory):
    """Kyrgyzstan's SIPRI deliveries (Russia -> x, Türkiye -> y), each year's TIV spread over
    its months, fed through the real procurement rule from January 2010 to June 2023: its
    shares then are the memory-weighted start shares, for every memory T."""
    scn = load_text(tmp_path, FEED, overrides=[f"rules.procurement.share_memory_months={memory}"])
    plan = compile_plan(scn.spec, scn.rules, None)
    pipeline = [(k, r) for k, r in build_pipeline(plan) if k == "procurement"]
    w = World(plan, 2, np.random.SeedSequence(1, spawn_key=(0,)), pipeline)
    a, x, y = plan.index_of("state")["aa"], plan.index_of("supplier")["x_arms"], plan.index_of("supplier")["y_arms"]
    tiv = {(d.year, d.supplier): d.tiv for d in ai.records("Kyrgyzstan")}
    for year, _month in _months():
        w.st.backlog[:, a, x] = tiv.get((year, "Russia"), 0.0) / 12 * 1e6
        w.st.backlog[:, a, y] = tiv.get((year, "Turkiye"), 0.0) / 12 * 1e6
        w.step()
    want = ai.memory_shares("Kyrgyzstan", memory)
    assert w.st.shares[0, a, x] == pytest.approx(want["Russia"], abs=1e-9)
    assert w.st.shares[0, a, y] == pytest.approx(want["Turkiye"], abs=1e-9)
    assert w.st.flow[0, a, x] == pytest.approx(ai.memory_flows("Kyrgyzstan", memory)["Russia"] * 1e6, rel=1e-9)


def test_a_shorter_memory_favours_the_latest_supplier():
    # Türkiye delivered to Kyrgyzstan only in 2021-2022, Russia before: the shorter the memory,
    # the larger Türkiye's share; a very long one approaches the 2010-2022 totals
    turkey = [ai.memory_shares("Kyrgyzstan", t)["Turkiye"] for t in (3, 12, 36, 120, 240)]
    assert all(a > b for a, b in zip(turkey, turkey[1:], strict=False))
    total = {"Russia": 40.49, "Turkiye": 16.2}
    flat = total["Turkiye"] / sum(total.values())
    assert abs(turkey[-1] - flat) < abs(turkey[2] - flat)


def test_a_delivery_weighs_less_the_older_it_is_by_the_memorys_factor():
    w = [ai.memory_weight(y, 36) for y in range(2010, 2023)]
    assert all(a < b for a, b in zip(w, w[1:], strict=False))
    assert w[-1] / w[-2] == pytest.approx((1 - 1 / 36) ** -12)


def test_months_without_deliveries_before_the_start_leave_the_shares_unchanged():
    # moving the start later scales every year's weight by the same factor
    ratios = [ai.memory_weight(y, 36, start=(2025, 1)) / ai.memory_weight(y, 36) for y in range(2010, 2023)]
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-12) and ratios[0] < 1


def test_few_deliveries_give_wide_bootstrap_intervals_and_many_narrow_ones():
    kg = ai.start_share("Kyrgyzstan", "Turkiye")
    kz = ai.start_share("Kazakhstan", "Russia")
    assert kg.low < kg.share < kg.high and kz.low < kz.share < kz.high
    assert kg.high - kg.low > 0.5 and kz.high - kz.low < 0.15
    assert kg.straddles(0.5) and not kz.straddles(0.8)
    assert ai.start_share("Kyrgyzstan", "Turkiye") == kg  # fixed seed: the same every time
    a, b = kg.beta
    assert a / (a + b) == pytest.approx(kg.mean) and (a * b / ((a + b) ** 2 * (a + b + 1))) ** 0.5 == pytest.approx(kg.sd)


def test_a_buyer_the_data_cannot_place_against_a_threshold_gets_a_drawn_share_and_the_rest():
    th = {("kyrgyzstan", "turkey_arms"): [0.5]}
    d = ai.declared_shares("kyrgyzstan", thresholds=th)
    assert d["russia_arms"].role == "drawn" and d["turkey_arms"].role == "rest"  # the smaller share is drawn
    a, b = d["russia_arms"].beta
    assert d["turkey_arms"].value + a / (a + b) == pytest.approx(1.0, abs=1e-4)  # no imports from elsewhere
    # the same buyer with no threshold inside the interval: points at the memory's shares
    d = ai.declared_shares("kyrgyzstan", thresholds={("kyrgyzstan", "turkey_arms"): [0.95]})
    assert {x.role for x in d.values()} == {"point"}
    assert d["turkey_arms"].value == round(ai.memory_shares("Kyrgyzstan")["Turkiye"], 4)


def _shipped_shares():
    from sim.api import list_scenarios

    for name in [s["name"] for s in list_scenarios()]:
        scn = sim.load_scenario(name)
        memory = scn.rules["procurement"].params["share_memory_months"].mean()
        for state, spec in scn.spec.states.items():
            for k, p in spec.suppliers.items():
                yield name, memory, state, k, p


def test_every_shipped_start_share_is_what_the_derivation_gives_for_the_scenarios_memory():
    checked = 0
    for name, memory, state, k, p in _shipped_shares():
        assert p.source is not None and p.source.kind == "calibration", (name, state, k)
        assert p.source.note.startswith(f"sipri-tiv-memory-{memory:g}:"), (name, state, k, p.source.note)
        want = ai.declared_shares(state, memory)[k]
        if want.beta is not None:
            assert isinstance(p.value, Dist) and p.value.family == "beta", (name, state, k)
            assert p.value.args == pytest.approx(want.beta, abs=0.01), (name, state, k)
        else:
            assert p.value == pytest.approx(want.value, abs=2e-4), (name, state, k)
        checked += 1
    assert checked >= 20


# ------------------------------------------------------------------ the rule's start (D2)

TWO = MINI.replace("  aa: {name: A, capability: 2.0, resolve: 0.7, affinity: {cc: 0.8}}", """  aa:
    name: A
    capability: 2.0
    resolve: 0.7
    affinity: {cc: 0.8, dd: 0.5}
    procurement_budget_usd: 1.2e+8
    suppliers: SHARES""") + """suppliers:
  x_arms: {state: cc, reliability: 0.9, price_quality: 0.5}
  y_arms: {state: dd, reliability: 0.9, price_quality: 0.5}
  z_arms: {state: bb, reliability: 0.9, price_quality: 0.5}
"""


def _world(tmp_path, shares: str, n: int = 4000, fixed=None) -> tuple[World, int]:
    scn = load_text(tmp_path, TWO.replace("SHARES", shares))
    plan = compile_plan(scn.spec, scn.rules, None)
    w = World(plan, n, np.random.SeedSequence(3, spawn_key=(0,)), build_pipeline(plan), fixed=fixed)
    return w, plan.index_of("state")["aa"]


def test_a_drawn_share_keeps_its_draw_and_the_point_shares_take_up_the_rest(tmp_path):
    w, a = _world(tmp_path, "{x_arms: {uniform: [0.2, 0.8]}, y_arms: 0.2, z_arms: 0.1}")
    s, s0 = w.st.shares[:, a], w.par.shares0[:, a]
    assert np.array_equal(s[:, 0], s0[:, 0])  # x keeps its draw
    room = np.clip(0.8 - s0[:, 0], 0, None)  # declared total 0.5 + 0.2 + 0.1
    assert np.allclose(s[:, 1], room * 2 / 3) and np.allclose(s[:, 2], room / 3)  # in proportion to 0.2 : 0.1
    assert np.allclose(s.sum(axis=1), np.maximum(0.8, s0[:, 0]))
    assert np.allclose(w.st.flow_other[:, a], (1 - s.sum(axis=1)) * 1e7)  # B/12 = 1e7
    assert np.allclose(w.st.flow[:, a], s * 1e7)
    assert s.min() >= 0


def test_shares_that_still_add_up_to_more_than_1_are_scaled_to_1(tmp_path):
    w, a = _world(tmp_path, "{x_arms: {uniform: [0.2, 0.8]}, y_arms: {uniform: [0.2, 0.8]}}")
    s, s0 = w.st.shares[:, a], w.par.shares0[:, a]
    over = s0.sum(axis=1) > 1
    assert over.any() and (~over).any()
    assert np.allclose(s[over].sum(axis=1), 1.0)
    assert np.allclose(s[over, 0] / s[over, 1], s0[over, 0] / s0[over, 1])  # ratios kept
    assert np.array_equal(s[~over], s0[~over])  # no points: the rest is imports from elsewhere


def test_a_buyer_with_point_shares_only_starts_at_them_exactly(tmp_path):
    w, a = _world(tmp_path, "{x_arms: 0.6, y_arms: 0.3}", n=5)
    assert np.array_equal(w.st.shares, w.par.shares0)
    assert np.array_equal(w.st.flow[:, a], w.par.shares0[:, a] * (w.par.budget[:, a] / 12.0)[:, None])


def test_a_share_a_study_sets_per_run_counts_as_drawn(tmp_path):
    x = np.linspace(0.1, 0.9, 9)
    w, a = _world(tmp_path, "{x_arms: 0.6, y_arms: 0.3}", n=9, fixed={"states.aa.suppliers.x_arms": x})
    s = w.st.shares[:, a]
    assert np.allclose(s[:, 0], x) and np.allclose(s[:, 1], np.clip(0.9 - x, 0, None))


def test_starting_above_a_threshold_in_some_runs_shows_in_month_1(tmp_path):
    # comparative statics of the start: the wider the drawn share, the more runs start past
    # a threshold it straddles, and none when it cannot reach it
    text = TWO.replace("outcomes:\n", "outcomes:\n  x_main: {kind: supplier_share, state: aa, supplier: x_arms, above: 0.5}\n")
    p = {}
    for lo, hi in [(0.1, 0.45), (0.3, 0.7), (0.1, 0.9)]:
        scn = load_text(tmp_path, text.replace("SHARES", f"{{x_arms: {{uniform: [{lo}, {hi}]}}, y_arms: 0.3}}"))
        res = sim.run(scn, runs=4000, seed=5, months=1)
        p[(lo, hi)] = res.probabilities().loc["x_main", "probability"]
    assert p[(0.1, 0.45)] == 0.0
    # a uniform on [0.3, 0.7] starts above 0.5 in half the runs; on [0.1, 0.9] too, but
    # one month of deliveries moves a share by at most about 1/T: within 4 standard errors
    se = (0.25 / 4000) ** 0.5
    assert abs(p[(0.3, 0.7)] - 0.5) < 4 * se + 1 / 36 and abs(p[(0.1, 0.9)] - 0.5) < 4 * se + 1 / 36


@pytest.mark.parametrize("name, outcomes", [("karabakh", ["india_main_supplier", "russia_loses_armenia"]),
                                            ("kyrgyz_tajik", ["turkey_main_supplier"])])
def test_the_supplier_outcomes_issue_22_named_are_not_decided_at_the_start(name, outcomes):
    from sim.analysis.decided import decided_outcomes

    scn = sim.load_scenario(name)
    assert not set(outcomes) & {d.outcome for d in decided_outcomes(scn)}
    # ... and they start past their thresholds in the share of runs the bootstrap gives
    res = sim.run(scn, runs=4000, seed=11, months=1, workers=1)
    p = res.probabilities()["probability"]
    want = {"turkey_main_supplier": 0.61, "india_main_supplier": 0.035, "russia_loses_armenia": 0.054}
    for o in outcomes:
        se = (want[o] * (1 - want[o]) / 4000) ** 0.5
        assert abs(p[o] - want[o]) < 4 * se + 0.02, (o, p[o])  # 0.02: one month of deliveries
