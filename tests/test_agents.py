"""The actors as Mesa agents: attributes derived from the declarations, views onto the
replicate arrays (reads follow the run, writes reach the world), Mesa's AgentSet
operations over actors, one replicate's agents; on whichever Mesa version pip resolved."""

from __future__ import annotations

import mesa
import numpy as np
import pytest

import sim
from sim.parts import KIND_OF_DIM, declare_attr, declare_state, registry, scoped
from sim.scenario.values import P
from sim.world.agents import CLASSES, Alliance, Flashpoint, State

from .conftest import make_world


@pytest.fixture(scope="module")
def world():
    w = make_world(sim.load_scenario("karabakh"), n=300, seed=2)
    for _ in range(6):
        w.step()
    yield w
    w.release()


def test_every_declared_array_over_an_actor_kind_is_an_attribute_of_its_agents(world):
    reg = registry()
    for v in reg.state.values():
        for d in {d for d in v.dims if d in KIND_OF_DIM}:
            cls = CLASSES[KIND_OF_DIM[d]]
            agent = world.agents_by_type[cls][0] if cls in world.agents_by_type else None
            if agent is None or hasattr(type(agent), v.name):
                continue
            value = getattr(agent, v.name)
            axis = v.dims.index(d) + 1
            want = np.take(world.st[v.name], agent.index, axis=axis)
            assert value.shape == want.shape and np.array_equal(value, want, equal_nan=True), (cls.__name__, v.name)
    armenia, csto = world.by_key["armenia"], world.by_key["csto"]
    assert armenia.capability.shape == (300,)
    assert armenia.trust.shape == (300, world.plan.A)  # its trust in each alliance
    assert csto.trust.shape == (300, world.plan.S)  # each state's trust in it
    assert np.array_equal(csto.credibility, world.par.credibility[:, world.plan.index_of("alliance")["csto"]])
    assert "capability" in armenia.attributes() and "credibility" in csto.attributes()
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        armenia.nonsense  # noqa: B018


def test_attributes_are_views_that_follow_the_run_and_write_the_world():
    w = make_world(sim.load_scenario("karabakh"), n=50, seed=3)
    try:
        lachin = w.by_key["lachin"]
        cap = w.by_key["azerbaijan"].capability
        assert np.shares_memory(cap, w.st.capability)
        lachin.level = 4  # every replicate
        assert (w.st.level[:, lachin.index] == 4).all()
        w.step()
        assert np.array_equal(lachin.level, w.st.level[:, lachin.index])  # read anew: after the step
        snap = w.snapshot()
        w.step()
        w.restore(snap)  # the world's arrays are replaced: the agent reads the new ones
        assert np.array_equal(lachin.level, snap["st"].level[:, lachin.index])
    finally:
        w.release()


def test_agentset_operations_over_actors_work_with_replicate_arrays(world):
    states = world.agents_by_type[State]
    assert len(states) == world.plan.S
    per_rep = states.agg("capability", lambda v: np.mean(v, axis=0))
    assert per_rep.shape == (300,)
    assert np.allclose(per_rep, world.st.capability.mean(axis=1))
    strong = states.select(lambda s: (s.capability > 1).mean() > 0.5)
    want = {k for i, k in enumerate(world.plan.states) if (world.st.capability[:, i] > 1).mean() > 0.5}
    assert {s.key for s in strong} == want and 0 < len(want) < world.plan.S
    at_war = world.agents_by_type[Flashpoint].agg("level", lambda v: np.mean(np.stack(v) == 5, axis=1))
    assert np.allclose(at_war, (world.st.level == 5).mean(axis=0))
    assert len(world.agents_by_type[Alliance]) == world.plan.A


def test_one_replicates_agents_show_that_replicate(world):
    k = 7
    rep = world.replicate(k)
    assert isinstance(rep, mesa.Model) and rep.replicate_index == k
    fps = rep.agents_by_type[Flashpoint]
    assert fps.agg("level", max) == world.st.level[k].max()
    arm = rep.by_key["armenia"]
    assert arm.capability == world.st.capability[k, arm.index]
    assert arm.trust.shape == (world.plan.A,) and arm.replicate == k
    with pytest.raises(IndexError):
        world.replicate(world.n)


def test_a_custom_parts_state_and_parameter_are_attributes_without_touching_another_file():
    with scoped():
        declare_state("morale", ("S",), init=0.5, doc="morale 0..1", record="mean", label="{state's} morale")
        declare_attr("states", "grit", P(0, 1), 0.25, "test value", doc="grit 0..1")
        w = make_world(sim.load_scenario("karabakh"), n=20, seed=1)
        try:
            arm = w.by_key["armenia"]
            assert np.array_equal(arm.morale, np.full(20, 0.5)) and arm.attributes()["morale"] == "morale 0..1"
            assert np.allclose(arm.grit, 0.25)
        finally:
            w.release()
    w = make_world(sim.load_scenario("karabakh"), n=5, seed=1)
    try:
        with pytest.raises(AttributeError):
            w.by_key["armenia"].morale  # noqa: B018 - forgotten outside the scope
    finally:
        w.release()
