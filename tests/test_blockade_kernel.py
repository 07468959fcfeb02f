"""The blockade rule's compiled month (sim.rules.blockade_kernel) against the numpy month it
replaced, on worlds whose blockades, supplies, rungs and parameters are drawn at random."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.rules.formulas import chance
from sim.world.compile import compile_plan
from sim.world.log import EventLog
from sim.world.opening import open_world

HOLD = 2


def _numpy_month(w, u: np.ndarray, plan) -> np.ndarray:
    """The month as numpy computed it before the kernel (sim.rules.blockade at bb516df): the
    supplies, floor and rung set on ``w``; returns where blockades were lifted."""
    st = w.st
    R = w.n
    cols = np.unique(plan.sides)
    col_of = {int(x): j for j, x in enumerate(cols)}
    on = st.blockade != 0
    lift = on & (st.settled | (u < chance(w.rp("blockade", "lift_rate", w.dtype)[:, None])))
    st.blockade[lift] = 0
    supply = st.supply
    rec = np.broadcast_to(w.rp("blockade", "recovery_rate", w.dtype)[:, None], (R, plan.S))
    kept = np.broadcast_to(1.0 - w.rp("blockade", "wear_rate", w.dtype)[:, None], (R, cols.size))
    new = supply + rec * (1.0 - supply)
    victim = np.zeros((R, cols.size), dtype=bool)
    for f in range(plan.F):
        victim[:, col_of[int(plan.sides[f, 1])]] |= st.blockade[:, f] > 0
        victim[:, col_of[int(plan.sides[f, 0])]] |= st.blockade[:, f] < 0
    for j, c in enumerate(cols):
        np.copyto(new[:, c], supply[:, c] * kept[:, j], where=victim[:, j])
    st.supply = new.astype(supply.dtype, copy=False)
    held = st.blockade != 0
    st.rung_floor = np.where(held, np.int8(HOLD), np.int8(0))
    st.level = np.where(held, np.maximum(st.level, HOLD), st.level).astype(np.int8, copy=False)
    return lift


def _scramble(w, seed: int) -> None:
    rng = np.random.default_rng(seed)
    st, par = w.st, w.par
    R, F = st.level.shape
    st.blockade = rng.integers(-1, 2, (R, F)).astype(np.int8)
    st.settled = rng.random((R, F)) < 0.2
    st.level = rng.integers(0, 6, (R, F)).astype(np.int8)
    st.supply = rng.uniform(0.0, 1.0, st.supply.shape).astype(st.supply.dtype)
    par["rule:blockade.lift_rate"] = rng.uniform(0.0, 1.0, R)
    par["rule:blockade.wear_rate"] = rng.uniform(0.0, 1.0, R)
    par["rule:blockade.recovery_rate"] = rng.uniform(0.0, 1.0, R)
    w.parameters_changed()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("narrated", [False, True])
def test_the_compiled_month_gives_the_numpy_months_bits(dtype, seed, narrated):
    scn = sim.load_scenario("karabakh")  # two flashpoints that share a side
    plan = compile_plan(scn.spec, scn.rules, None)
    assert plan.F >= 2 and np.unique(plan.sides).size < 2 * plan.F
    worlds = [open_world(plan, 600, np.random.SeedSequence(seed, spawn_key=(0,)), dtype=np.dtype(dtype), pipeline=[])
              for _ in range(2)]
    kernel_w, numpy_w = worlds
    from sim.rules.blockade import build

    step = build(plan)
    for w in worlds:
        assert w.st.supply.dtype == np.dtype(dtype)
        _scramble(w, seed)
        w.counts["blockade.lifted"][:] = 0
    if narrated:
        kernel_w.log = EventLog([0, 5, 17])
    for month in range(3):
        before = kernel_w.st.blockade.copy()
        u = numpy_w.stream("blockade").random((numpy_w.n, plan.F))  # the stream's next call, as the kernel draws it
        lift = _numpy_month(numpy_w, u, plan)
        numpy_w.counts["blockade.lifted"] += lift.sum(axis=1, dtype=np.int32)
        step(kernel_w)
        assert ((before != 0) & (kernel_w.st.blockade == 0)).sum() == lift.sum() > 0
        for name in ("blockade", "supply", "rung_floor", "level"):
            a, b = kernel_w.st[name], numpy_w.st[name]
            assert a.dtype == b.dtype, name
            assert np.array_equal(a, b), (name, month)
        assert np.array_equal(kernel_w.counts["blockade.lifted"], numpy_w.counts["blockade.lifted"])
        for w in worlds:  # new blockades and settlements for the next month (each world its own arrays)
            w.st.settled = np.random.default_rng(month).random(before.shape) < 0.2
            w.st.blockade = np.random.default_rng(month + 9).integers(-1, 2, before.shape).astype(np.int8)
    if narrated:
        lifted = [e for e in kernel_w.log.records if e.event == "blockade.lifted"]
        assert lifted and {e.replicate for e in lifted} <= {0, 5, 17}
