"""The compiled month of the default escalation model (sim.rules.spells_kernel) against
the numpy formulas it repeats and the streams whose numbers it draws itself.

``escalation.rates`` (numpy) stays the hazards of the monthly ``ladder`` and of the tests
of comparative statics; the kernel computes the same factors cell by cell. These tests
pin the two together on worlds whose every input the hazards read is drawn at random.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim import seeding
from sim.rules.common import Dyads
from sim.rules.escalation import rates
from sim.rules.spells import N_MORE_KEYS, month_moves

from .conftest import make_world


def _scramble(w, seed: int) -> None:
    """Every state and parameter array the hazards read, at random (float64 world)."""
    rng = np.random.default_rng(seed)
    st, par = w.st, w.par
    R, F = st.level.shape
    st.level = rng.integers(0, 6, (R, F)).astype(np.int8)
    st.peak = np.maximum(st.level, rng.integers(0, 6, (R, F))).astype(np.int8)
    st.momentum = rng.random((R, F))
    st.lr_ema = rng.normal(0, 1, (R, F))
    st.capability = rng.lognormal(0, 1, st.capability.shape)
    st.capability[rng.random(st.capability.shape) < 0.05] = 0.0  # a side with none (the 1e-9 floor)
    st.support = rng.random(st.support.shape) * rng.integers(0, 2, st.support.shape)
    st.supply = rng.uniform(0.3, 1.0, st.supply.shape)
    st.mediators = rng.random(st.mediators.shape) < 0.3
    st.status = rng.integers(0, 3, st.status.shape).astype(st.status.dtype)
    st.peace = rng.uniform(0, 60, (R, F))
    st.dispute_years = rng.integers(0, 2 ** 12, (R, F)).astype(st.dispute_years.dtype)
    st.fatal_last = rng.random((R, F)) < 0.3
    st.hostility_last = rng.integers(0, 6, (R, F)).astype(st.hostility_last.dtype)
    st.settled = rng.random((R, F)) < 0.1
    par.resolve = rng.random(par.resolve.shape)
    par.capacity = rng.random(par.capacity.shape)
    par.credibility = rng.random(par.credibility.shape)
    par.contiguity = rng.integers(1, 7, (R, F)).astype(par.contiguity.dtype)  # every COW code
    par.territorial = rng.integers(0, 2, (R, F)).astype(par.territorial.dtype)
    par.major_power = rng.integers(0, 2, par.major_power.shape).astype(par.major_power.dtype)
    for name in ("beta_resolve", "beta_advantage", "beta_deterrence", "beta_shift", "beta_momentum",
                 "beta_mediation", "shock_sd", "momentum_decay", "decisiveness"):  # bounded below by 0
        par[f"rule:escalation.{name}"] = rng.uniform(0.0, 1.0, R)
    for name in ("beta_peace", "beta_recent", "beta_fatal_last", "beta_force_last", "beta_territorial", "beta_land",
                 "beta_sea", "beta_far", "beta_major", "beta_allied", "beta_preponderance", "gamma_fatal_last",
                 "gamma_territorial", "gamma_sea", "gamma_far"):
        par[f"rule:escalation.{name}"] = rng.uniform(-1.0, 1.0, R)
    par["rule:escalation.base_settle"] = rng.uniform(0, 0.01, (R, 6))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_kernels_factors_are_those_of_rates(seed):
    scn = sim.load_scenario("karabakh")
    w = make_world(scn, n=300, seed=seed, rules=False)
    assert w.dtype == np.float64
    _scramble(w, seed)
    key = seeding.name_key(w.key, "test")
    kernel_stream = seeding.Stream(key, w.ids, lambda: 0)
    numpy_stream = seeding.Stream(key, w.ids, lambda: 0)  # the same addresses
    m = month_moves(w, kernel_stream.keys(6), kernel_stream.keys(N_MORE_KEYS))
    eps = numpy_stream.standard_normal(w.st.level.shape)  # the first call: the kernel's shocks
    w.st.momentum = m["momentum"]  # the month's momentum, which the hazards read
    h = rates(w, Dyads.for_plan(w.plan), eps)
    for got, want in ((m["onset"], h["f_up"] * h["g_on"]), (m["escalate"], h["f_up"] * h["g_esc"]),
                      (m["down"], h["f_down"]), (m["settle"], h["f_settle"]), (m["lr"], h["lr"])):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)
    assert np.ptp(m["onset"]) > 0 and np.ptp(m["lr"]) > 0  # the random inputs reach the factors


def test_the_kernels_draws_are_the_streams_numbers():
    """The kernel draws a move's numbers itself, at the addresses of the calls it is given:
    with a huge up-rate from rung 0 and no other rate, every flashpoint climbs to rung 1 at
    once and stays; the moment it moved is the second call's exponential (the first moves'
    waiting times, (R, F, 4): its move 0) over the rate, as ``Stream.standard_exponential``
    gives it (to the last bit or two of the logarithm)."""
    scn = sim.load_scenario("karabakh")
    w = make_world(scn, n=50, seed=4, rules=False)
    R, F = w.st.level.shape
    w.st.level[:] = 0
    w.st.settled[:] = False
    w.par["rule:escalation.base_up"] = np.tile([1e6, 0, 0, 0, 0, 0], (R, 1)).astype(float)
    w.par["rule:escalation.base_down"] = np.zeros((R, 6))
    key = seeding.name_key(w.key, "test")
    m = month_moves(w, seeding.Stream(key, w.ids, lambda: 0).keys(6), np.zeros(N_MORE_KEYS, dtype=np.uint64))
    s = seeding.Stream(key, w.ids, lambda: 0)
    s.standard_normal((R, F))  # the shocks
    e = s.standard_exponential((R, F, 4))[..., 0]  # the first moves' waiting times
    np.testing.assert_allclose(m["tau"], e / (1e6 * m["onset"]), rtol=1e-14)
    assert (m["level"] == 1).all() and (m["peak"] == 1).all()  # one move up, then no rate but the first
