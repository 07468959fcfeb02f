"""The month's counting and cached inputs give what the plain computation gives.

World.emit counts events per replicate, and the recorder counts replicates per level, in
compiled loops (sim/world/tally_kernel.py); the alignment rule keeps the read pairs'
baselines contiguous per world. Each is checked against the numpy expression it replaces,
on masks and levels of every layout a rule hands over. The recorder sums affinity's moving
pairs each month and carries the others (Carried): its monthly means are those of every
replicate's values, effects included, and a pair moved behind its back is refused.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.outcomes import Recorder, compile_outcomes
from sim.outcomes.recorder import _counts, column_sums
from sim.rules import build_pipeline
from sim.rules.reads import affinity_moves
from sim.world.compile import compile_plan
from sim.world.opening import open_world

from .conftest import MINI, load_text, make_world
from .test_procurement_alignment import MARKET


def test_emit_counts_what_numpy_sums():
    w = make_world(sim.load_scenario("karabakh"), n=40, rules=False)
    rng = np.random.default_rng(3)
    name = "procurement.delivery"  # over (state, supplier)
    S, K = w.plan.S, w.plan.K
    ref = w.counts[name].copy()
    masks = [
        rng.random((40, S, K)) < 0.3,  # contiguous
        (rng.random((40, K, S)) < 0.3).transpose(0, 2, 1),  # a transposed view
        (rng.random((40, S, 2 * K)) < 0.3)[:, :, ::2],  # a strided view
        np.broadcast_to(rng.random((40, 1, K)) < 0.5, (40, S, K)),  # a broadcast
        np.zeros((40, S, K), dtype=bool),  # nothing happened
    ]
    for m in masks:
        w.emit(name, m)
        ref += m.sum(axis=(1, 2), dtype=np.int32)
        np.testing.assert_array_equal(w.counts[name], ref)
    one = "alignment.exercise"  # over (alliance,): a mask with one more axis than the replicates
    ref1 = w.counts[one].copy()
    m = rng.random((40, w.plan.A)) < 0.5
    w.emit(one, m)
    np.testing.assert_array_equal(w.counts[one], ref1 + m.sum(axis=1))


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.bool_])
@pytest.mark.parametrize("shape", [(500, 3, 2), (500,), (0, 4), (7, 1)])
def test_level_counts_match_counting_each_level(dtype, shape):
    L = 2 if dtype is np.bool_ else 5
    x = np.random.default_rng(1).integers(-2, L + 2, shape)  # some values outside 0..L-1: not counted
    x = x.astype(dtype) if dtype is not np.bool_ else x > 2
    want = np.stack([(x == v).sum(axis=0) for v in range(L)], axis=-1).astype(np.int64)
    got = _counts(x, L)
    assert got.dtype == np.int64 and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    if x.ndim > 1:  # a non-contiguous state (a rule that replaced it by a view)
        np.testing.assert_array_equal(_counts(x[:, ::-1], L), want[::-1])


def test_worlds_sharing_a_pipeline_keep_their_own_baselines(tmp_path):
    """The alignment rule's copy of the baselines belongs to one world's array: worlds that
    share a pipeline (stepped in turn) drift as each does with a pipeline of its own."""
    scn = load_text(tmp_path, MARKET)
    plan = compile_plan(scn.spec, scn.rules, 12)
    path = "states.xx.affinity.aa"

    def world(value, pipeline=None):
        return open_world(plan, 30, np.random.SeedSequence(5, spawn_key=(0,)), pipeline=pipeline,
                          fixed={path: np.full(30, value)})

    alone = [world(v) for v in (0.6, -0.6)]
    for w in alone:
        for _ in range(12):
            w.step()
    shared = build_pipeline(plan)
    pair = [world(v, shared) for v in (0.6, -0.6)]
    assert not np.array_equal(pair[0].st.affinity_base, pair[1].st.affinity_base)
    for _ in range(12):
        for w in pair:
            w.step()
    for a, b in zip(alone, pair, strict=True):
        np.testing.assert_array_equal(a.st.affinity, b.st.affinity)
        np.testing.assert_array_equal(a.st.trust, b.st.trust)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.bool_])
def test_column_sums_are_each_columns_own_whichever_others_are_asked(dtype):
    x = np.random.default_rng(2).normal(size=(3001, 40)) * 10
    x = x.astype(dtype) if dtype is not np.bool_ else x > 0
    every = np.arange(40, dtype=np.intp)
    full = column_sums(x, every)
    assert full.dtype == (np.float64 if dtype in (np.float32, np.float64) else np.int64)
    np.testing.assert_allclose(full, x.astype(np.float64).sum(axis=0), rtol=1e-12)
    some = np.array([3, 17, 18, 39], dtype=np.intp)
    assert np.array_equal(column_sums(x, some), full[some])  # bit for bit
    assert column_sums(x[:0], some).tolist() == [0, 0, 0, 0]


EFFECT = MINI + """
events:
  - name: rift
    description: A falls out with D.
    when: "peak(front) >= 0"
    probability: 0.05
    effect: {add: {states.aa.affinity.dd: -0.4}}
"""


def test_the_carried_affinity_means_are_those_of_every_replicate_effects_included(tmp_path):
    """Before the recorder carried still pairs, it summed all S x S pairs every month; now it
    sums the pairs the rules move and those effects wrote: the means stay those of every
    replicate's values (the trajectories table), for moving pairs, pairs an event moves in
    some replicates at some months, and pairs nothing moves."""
    pytest.importorskip("pyarrow")
    scn = load_text(tmp_path, EFFECT)
    plan = compile_plan(scn.spec, scn.rules)
    si = plan.index_of("state")
    moves = affinity_moves(plan)
    assert moves is not None and 0 < moves.sum() < plan.S * (plan.S - 1)
    rift, moving = (si["aa"], si["dd"]), (si["dd"], si["cc"])  # towards the leader: the rules move it
    still = next((i, j) for i in range(plan.S) for j in range(plan.S) if i != j and not moves[i, j] and (i, j) != rift)
    assert not moves[rift] and moves[moving]
    res = sim.run(scn, runs=300, seed=4, chunk_size=100, trajectories=tmp_path / "t.parquet")
    df = res.trajectories()
    H = res.horizon
    for i, j in (rift, moving, still):
        col = f"affinity.{plan.states[i]}.{plan.states[j]}"
        values = df[col].to_numpy(dtype=np.float64).reshape(300, H)
        np.testing.assert_allclose(res.series["affinity"][:, i, j], values.sum(axis=0), rtol=1e-9, atol=1e-9)
    rifts = res.series["affinity"][:, rift[0], rift[1]]
    assert rifts[-1] < rifts[0] - 0.4 * 300 * 0.3  # the event did fire, in months after the first
    assert (np.diff(res.series["affinity"][:, still[0], still[1]]) == 0).all()


def test_a_pair_moved_without_a_declaration_is_refused():
    """A mechanism that changed an affinity pair no rule declares it moves would leave its
    carried mean wrong: the chunk's result says so instead."""
    w = make_world(sim.load_scenario("karabakh"), n=50)
    rec = Recorder(w, compile_outcomes(w.plan), 0, 0)
    moves = affinity_moves(w.plan)
    i, j = next((i, j) for i in range(w.plan.S) for j in range(w.plan.S) if i != j and not moves[i, j])
    for _ in range(3):
        w.step()
    rec.result()  # nothing moved behind its back: fine
    w.st.affinity[:, i, j] += 0.01
    w.step()
    with pytest.raises(RuntimeError, match="state 'affinity' changed at elements"):
        rec.result()


def test_thirty_two_states_move_a_few_pairs_of_affinity():
    """No S x S term in a recorded month: of 32 states' 992 pairs the synthetic world of
    benchmarks/run.py moves the read ones, a few per state."""
    from benchmarks.run import synthetic

    scn = sim.load_scenario(synthetic(32, 1))
    moves = affinity_moves(compile_plan(scn.spec, scn.rules))
    assert moves.sum() <= 3 * 32


def test_the_baseline_is_one_replicates_where_every_replicate_starts_alike(tmp_path):
    """Starting affinities the same in every replicate: affinity_base is a read-only view
    repeating one copy of them (no S x S copy a chunk), apart from the affinities that move;
    drawn from a distribution: every replicate's own copy. The drift is the same either way."""
    same = make_world(load_text(tmp_path, MARKET), n=30)
    base = same.st.affinity_base
    assert not base.flags.writeable and base.strides[0] == 0
    assert not np.shares_memory(base, same.st.affinity) and np.array_equal(base, same.st.affinity)
    drawn = load_text(tmp_path, MARKET, overrides={"states.bb.affinity.xx": {"uniform": [0.1, 0.3]}})
    varied = make_world(drawn, n=30)
    assert varied.st.affinity_base.flags.writeable and np.unique(varied.st.affinity_base[:, 1, 2]).size == 30
    plan = same.plan
    path = "states.xx.affinity.aa"
    pinned = open_world(plan, 30, np.random.SeedSequence(0, spawn_key=(0,)), fixed={path: np.full(30, 0.2)})
    assert pinned.st.affinity_base.flags.writeable  # set per replicate by a study: a copy
    for _ in range(12):
        same.step()
        pinned.step()
    np.testing.assert_array_equal(same.st.affinity, pinned.st.affinity)  # 0.2 is the file's value: the same run
