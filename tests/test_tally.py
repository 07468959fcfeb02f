"""The month's counting and cached inputs give what the plain computation gives.

World.emit counts events per replicate, and the recorder counts replicates per level, in
compiled loops (sim/world/tally_kernel.py); the alignment rule keeps the read pairs'
baselines contiguous per world. Each is checked against the numpy expression it replaces,
on masks and levels of every layout a rule hands over.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.outcomes.recorder import _counts
from sim.rules import build_pipeline
from sim.world.compile import compile_plan
from sim.world.opening import open_world

from .conftest import load_text, make_world
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
