"""Comparative statics of procurement and alignment."""

from __future__ import annotations

import numpy as np

from sim.rules import REGISTRY
from sim.rules.reads import affinity_reads

from .conftest import load_text, make_world

MARKET = """
meta: {name: market, title: Market, start: 2023-07, horizon_months: 36}
states:
  aa: {name: Buyer, capability: 1.0, procurement_budget_usd: 1.2e9, suppliers: {x_arms: 0.5, y_arms: 0.5}}
  bb: {name: Rival, capability: 1.0, affinity: {xx: 0.2, yy: 0.2}}
  xx: {name: Seller X, capability: 5.0, affinity: {aa: 0.2}}
  yy: {name: Seller Y, capability: 5.0, affinity: {aa: 0.2}}
suppliers:
  x_arms: {state: xx, reliability: 0.9, price_quality: 0.6, lag_months: 6}
  y_arms: {state: yy, reliability: 0.9, price_quality: 0.6, lag_months: 6}
flashpoints:
  f: {sides: [aa, bb], level: 1}
outcomes:
  x_main: {kind: supplier_share, state: aa, supplier: x_arms, above: 0.5}
"""


def only(world, *kinds):
    world.pipeline = [(k, r) for k, r in world.pipeline if k in kinds]
    return world


def run(world, months: int):
    for _ in range(months):
        world.step()
    return world


def test_an_unreliable_supplier_loses_share(tmp_path):
    reliable = only(make_world(load_text(tmp_path, MARKET), n=400, seed=1), "procurement")
    shaky = load_text(tmp_path, MARKET, overrides={"suppliers.x_arms.reliability": 0.3})
    shaky = only(make_world(shaky, n=400, seed=1), "procurement")
    run(reliable, 36)
    run(shaky, 36)
    x = 0  # supplier index of x_arms
    assert abs(reliable.st.shares[:, 0, x].mean() - 0.5) < 0.05  # symmetric suppliers split evenly
    assert shaky.st.shares[:, 0, x].mean() < reliable.st.shares[:, 0, x].mean() - 0.1


def test_deliveries_raise_capability_and_clear_the_backlog(tmp_path):
    w = only(make_world(load_text(tmp_path, MARKET), n=200, seed=2), "procurement")
    cap0 = w.st.capability[:, 0].copy()
    run(w, 24)
    assert np.all(w.st.capability[:, 0] > cap0)
    assert np.all(w.st.capability[:, 2:] == 5.0)  # sellers' own capability unchanged
    # a budget of 1.2e9 a year orders o = 1e8 a month before the month's deliveries; with lag 6
    # and reliability 0.9 the backlog after deliveries settles at o (lag / r - 1), reached to
    # within (1 - r / lag)^24 = 2% after two years
    steady = 1e8 * (6 / 0.9 - 1)
    assert abs(w.st.backlog[:, 0, :].sum(axis=1).mean() / steady - 1) < 0.05


def test_a_refusal_to_sell_lowers_the_buyers_affinity(tmp_path):
    base = only(make_world(load_text(tmp_path, MARKET), n=200, seed=3), "procurement", "alignment")
    refusing = load_text(tmp_path, MARKET.replace("lag_months: 6}\n  y_arms", "lag_months: 6, refuses: [aa]}\n  y_arms"))
    refusing = only(make_world(refusing, n=200, seed=3), "procurement", "alignment")
    run(base, 24)
    run(refusing, 24)
    xx = 2
    assert refusing.st.affinity[:, 0, xx].mean() < base.st.affinity[:, 0, xx].mean() - 0.05
    assert np.all(refusing.st.backlog[:, 0, 0] < 1.0)  # nothing more ordered from x_arms
    assert refusing.st.shares[:, 0, 0].mean() < base.st.shares[:, 0, 0].mean() - 0.1


def test_a_sale_to_an_adversary_lowers_the_sellers_affinity_with_the_other_side(tmp_path):
    """aa turns from seller Y to seller X; aa's adversary bb cools towards X (and X towards bb)."""
    shifting = MARKET.replace("suppliers: {x_arms: 0.5, y_arms: 0.5}", "suppliers: {y_arms: 1.0}").replace(
        "xx: {name: Seller X, capability: 5.0, affinity: {aa: 0.2}}", "xx: {name: Seller X, capability: 5.0, affinity: {aa: 0.8}}"
    )
    steady = MARKET.replace("suppliers: {x_arms: 0.5, y_arms: 0.5}", "suppliers: {y_arms: 1.0}").replace(
        "x_arms: {state: xx,", "x_arms: {state: xx, refuses: [aa],"
    )
    # bb's affinity towards xx matters here only because an outcome reads it (a pair nothing
    # reads is not simulated: sim.rules.reads); xx towards bb is read by deterrence
    watch = "  bb_to_x: {kind: affinity, state: bb, toward: xx, below: 0.0}\n"
    shifting, steady = shifting + watch, steady + watch
    arming = only(make_world(load_text(tmp_path, shifting), n=200, seed=4), "procurement", "alignment")
    idle = only(make_world(load_text(tmp_path, steady), n=200, seed=4), "procurement", "alignment")
    run(arming, 24)
    run(idle, 24)
    bb, xx = 1, 2
    assert arming.st.shares[:, 0, 0].mean() > 0.1  # aa is turning to x_arms (shares move over ~3 years)
    assert arming.st.affinity[:, bb, xx].mean() < idle.st.affinity[:, bb, xx].mean() - 0.05
    assert arming.st.affinity[:, xx, bb].mean() < idle.st.affinity[:, xx, bb].mean() - 0.05


def test_steady_trade_moves_no_affinities(tmp_path):
    """Starting affinities already reflect the arms trade: an unchanged pattern changes nothing."""
    scn = load_text(tmp_path, MARKET, overrides={"rules.alignment.noise_sd": 0, "rules.alignment.exercise_rate": 0})
    w = only(make_world(scn, n=100, seed=8), "procurement", "alignment")
    start = w.st.affinity.copy()
    run(w, 24)
    # symmetric suppliers keep a 50/50 split: what moves is the small noise of shares and
    # of deliveries around what was expected, with no drift on average
    moved = w.st.affinity - start
    assert np.abs(moved.mean(axis=0)).max() < 0.01
    assert np.abs(moved).max() < 0.2


def test_a_new_refusal_sours_the_buyer_but_a_standing_one_does_not(tmp_path):
    text = MARKET + """
events:
  - name: embargo
    at: 2023-09
    effect: {add: {suppliers.x_arms.refuses: [aa]}}
"""
    w = only(make_world(load_text(tmp_path, text), n=100, seed=9), "events", "procurement", "alignment")
    run(w, 2)
    assert np.all(w.st.refused_demand[:, 0, 0] == 0)  # not refused yet
    run(w, 1)
    assert np.all(w.st.refused_demand[:, 0, 0] > 0)  # a new refusal


def test_affinities_revert_to_baseline_without_events(tmp_path):
    scn = load_text(tmp_path, MARKET, overrides={"states.aa.procurement_budget_usd": 0, "rules.alignment.noise_sd": 0})
    w = only(make_world(scn, n=50, seed=6), "alignment")
    base = w.st.affinity_base.copy()
    w.st.affinity[:, 2, 0] = 0.9  # xx towards aa, a side: deterrence reads it
    run(w, 120)
    rho = w.rp("alignment", "reversion")[0]
    expect = base[:, 2, 0] + (0.9 - base[:, 2, 0]) * (1 - rho) ** 120
    assert np.allclose(w.st.affinity[:, 2, 0], expect)


def test_a_pair_nothing_reads_is_left_alone(tmp_path):
    """aa without a budget buys nothing, and xx is neither a side nor a leader: no rule,
    condition or outcome reads aa's affinity towards xx, so it takes no noise and no
    reversion (its value changes no outcome); once an outcome reads it, it moves."""
    scn = load_text(tmp_path, MARKET, overrides={"states.aa.procurement_budget_usd": 0})
    w = make_world(scn, n=50, seed=6)
    assert not affinity_reads(w.plan)[0, 2] and affinity_reads(w.plan)[2, 0]
    w.st.affinity[:, 0, 2] = 0.9
    start = w.st.affinity.copy()
    run(w, 12)
    assert np.all(w.st.affinity[:, 0, 2] == 0.9)
    assert np.any(w.st.affinity[:, 2, 0] != start[:, 2, 0])  # read (deterrence): noise moves it
    watched = load_text(tmp_path, MARKET + "  a_to_x: {kind: affinity, state: aa, toward: xx, above: 0.95}\n",
                        overrides={"states.aa.procurement_budget_usd": 0})
    w = make_world(watched, n=50, seed=6)
    assert affinity_reads(w.plan)[0, 2]
    w.st.affinity[:, 0, 2] = 0.9
    run(w, 12)
    assert np.all(w.st.affinity[:, 0, 2] != 0.9)


def test_what_the_affinity_analysis_counts_as_read(tmp_path):
    """Pairs named in conditions count; value(...) over affinities makes every pair count."""
    cond = MARKET + """
events:
  - name: thaw
    when: "affinity(yy, bb) > 0.5 and month >= 2024-01"
    probability: 0.5
    effect: {set: {flashpoints.f.level: 0}}
"""
    plan = make_world(load_text(tmp_path, cond), n=2, seed=1).plan
    reads = affinity_reads(plan)
    assert reads[3, 1]  # named in the condition (yy is also read towards bb as a side)
    assert reads[0, 2] and reads[2, 0]  # aa buys from xx: read by procurement (choice, refusals)
    assert not reads[1, 2]  # bb towards xx: nothing reads it
    every = cond.replace("affinity(yy, bb) > 0.5", "value(states.bb.affinity.xx) > 0.5")
    reads = affinity_reads(make_world(load_text(tmp_path, every), n=2, seed=1).plan)
    assert reads.sum() == 4 * 3  # every pair but the diagonal


def test_refused_help_cools_the_member_towards_the_leader(mini):
    w = make_world(mini, n=100, seed=7, rules=False)
    kinds = [w.plan.rules[k] for k in ("alliance", "alignment")]
    steps = [REGISTRY[rs.kind][rs.model].build(w.plan) for rs in kinds]
    w.par["rule:alignment.noise_sd"][:] = 0.0
    w.par["rule:alignment.exercise_rate"][:] = 0.0
    w.par["rule:alignment.reversion"][:] = 0.0
    w.par.credibility[:] = 0.0
    w.st.level[:] = w.st.peak[:] = 3
    before = w.st.affinity[:, 1, 2].copy()  # bb towards cc (the pact's leader)
    for s in steps:
        s(w)
    assert np.all(w.st.affinity[:, 1, 2] < before)
    assert np.all(w.st.affinity[:, 2, 1] < before)


def test_the_rules_own_arrays_are_kept_state_by_state_and_read_as_declared(tmp_path):
    """procurement.STATE_MAJOR: each state's block contiguous, the world's array a view of
    it with the replicates first; laid out once, then updated in place."""
    from sim.rules.procurement import STATE_MAJOR, state_major

    w = only(make_world(load_text(tmp_path, MARKET), n=50, seed=5), "procurement", "alignment")
    orders0 = w.st.backlog.copy()
    buf = state_major(w.st, "backlog")
    assert buf.flags.c_contiguous and buf.shape == (4, 50, 2)  # (S, R, K)
    assert w.st.backlog.shape == (50, 4, 2) and np.shares_memory(w.st.backlog, buf)
    assert np.array_equal(w.st.backlog, orders0)  # the same numbers, laid out otherwise
    assert state_major(w.st, "backlog") is not None and np.shares_memory(state_major(w.st, "backlog"), buf)  # kept
    run(w, 3)
    for name in STATE_MAJOR:
        x = w.st[name]
        assert x.shape[0] == 50 and np.swapaxes(x, 0, 1).flags.c_contiguous, name
    assert np.shares_memory(w.st.backlog, buf)  # updated in place month by month


def test_arrays_set_anew_mid_run_give_the_same_months_as_kept_ones(tmp_path):
    """An array replaced by one with the replicates' blocks contiguous (an effect that sets it,
    a restored game) is laid out again, and the run goes on as if it had not been."""
    from sim.rules.procurement import STATE_MAJOR

    text = load_text(tmp_path, MARKET)
    kept = run(only(make_world(text, n=100, seed=6), "procurement", "alignment"), 6)
    reset = run(only(make_world(text, n=100, seed=6), "procurement", "alignment"), 3)
    for name in STATE_MAJOR:
        reset.st[name] = np.ascontiguousarray(reset.st[name])  # the replicates first, as allocated
        assert reset.st[name].flags.c_contiguous
    run(reset, 3)
    for name in ("shares", "affinity", "capability", *STATE_MAJOR):
        assert np.array_equal(kept.st[name], reset.st[name]), name
