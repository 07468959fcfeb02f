"""The world on whichever Mesa pip installed (3.3 on Python 3.11, 3.5 on 3.12+).

Its actors are Mesa agents and a step is a Mesa step; and a finished world is freed.
Mesa 3.3 keeps every model it has seen in a class-level dictionary (mesa#3179), so a
process that runs many chunks, stories or reference replicates would keep them all;
``World.release()`` (``sim.world.agents.forget``) drops that reference, and does
nothing where Mesa keeps none (3.5). These tests fail if a released model is still
reachable after a full garbage collection on the installed Mesa, whatever the reason.
"""

from __future__ import annotations

import gc
import weakref

import mesa
import numpy as np
import pytest

import sim
from sim.world.agents import forget
from sim.world.model import World

from .conftest import make_world

pytestmark = pytest.mark.pythons


def test_actors_are_mesa_agents_and_a_month_is_a_mesa_step(mini):
    """(tests/test_agents.py checks the agents' attributes and AgentSet operations.)"""
    w = make_world(mini, n=5, horizon=3)
    kinds = {k.__name__: sorted(a.key for a in v) for k, v in w.agents_by_type.items()}
    assert kinds == {"State": ["aa", "bb", "cc", "dd"], "Alliance": ["pact"], "Territory": ["land"], "Flashpoint": ["front"]}
    assert all(isinstance(a, mesa.Agent) for a in w.agents)
    assert len({a.unique_id for a in w.agents}) == len(w.agents) == 7
    for month in (1, 2, 3):
        w.step()
        assert (w.elapsed, w.steps) == (month, month)
    w.release()


def _holders(obj: object) -> str:
    """What still refers to ``obj`` (for the failure message)."""
    return ", ".join(sorted({type(r).__name__ for r in gc.get_referrers(obj)}))


def _gone(ref: weakref.ref) -> bool:
    gc.collect()
    return ref() is None


def test_a_released_world_is_garbage_collectable(mini):
    w = make_world(mini, n=50, horizon=6)
    while w.elapsed < w.plan.horizon:
        w.step()
    ref = weakref.ref(w)
    w.release()
    del w
    assert _gone(ref), f"Mesa {mesa.__version__} still holds a released world (held by: {_holders(ref())})"


def test_runs_leave_no_world_behind(mini):
    """The runner releases each chunk's world: nothing of a finished run stays alive."""

    def alive() -> int:
        gc.collect()
        # type(), not isinstance(): isinstance asks a dead weakref.proxy (left by another
        # test) for its class, which raises ReferenceError
        return sum(issubclass(type(o), World) for o in gc.get_objects())

    before = alive()
    res = sim.run(mini, runs=300, seed=4, chunk_size=50, workers=1, backend="local", months=6)
    assert res.runs == 300 and res.manifest["chunks"] == 6
    assert alive() == before, f"{alive() - before} worlds of a finished run are still alive (Mesa {mesa.__version__})"


def test_a_released_reference_model_is_garbage_collectable():
    """The per-replicate Mesa reference (benchmarks/reference.py) lets go of its models the same way."""
    from benchmarks.reference import ReferenceModel, ScenarioData

    data = ScenarioData(sim.load_scenario("karabakh"), 3)
    model = ReferenceModel(data, np.random.SeedSequence(1))
    model.run_months()
    ref = weakref.ref(model)
    forget(model)
    del model
    assert _gone(ref), f"Mesa {mesa.__version__} still holds a released model (held by: {_holders(ref())})"


def test_a_replicates_own_model_is_garbage_collectable(mini):
    """``world.replicate(k)`` (a story's actors as a Mesa model of their own) forgets itself."""
    w = make_world(mini, n=5, horizon=2)
    rep = w.replicate(3)
    assert rep.by_key["aa"].replicate == 3
    ref = weakref.ref(rep)
    del rep
    assert _gone(ref), f"Mesa {mesa.__version__} still holds a replicate's model (held by: {_holders(ref())})"
    w.release()


def test_the_world_imports_mesas_model_and_agent_only_and_mesa_stays_whole():
    """Building a world imports ``mesa.model`` and ``mesa.agent`` without ``mesa/__init__.py``'s
    spaces, data collector and experimental modules (sim.world.mesacore); ``import mesa``
    afterwards is the whole package, with the same classes, on the Mesa installed."""
    import subprocess
    import sys

    code = """
import sys
import sim.world.agents as a
import sim.world.model as m
heavy = sorted(n for n in ("scipy.spatial", "networkx", "mesa.datacollection", "mesa.batchrunner", "mesa.space",
                           "mesa.discrete_space", "mesa.experimental.continuous_space") if n in sys.modules)
assert not heavy, heavy
import mesa
from mesa import DataCollector, Model
from mesa.agent import Agent
import mesa.experimental.devs
assert Model is m.MesaModel is mesa.Model and Agent is a.MesaAgent is mesa.Agent
assert mesa.__version__ and mesa.experimental.continuous_space and DataCollector and mesa.space
print("ok")
"""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr


def test_a_distributions_quantiles_import_scipy_special_functions_only_and_scipy_special_stays_whole():
    """Dist.quantile takes ndtri and betaincinv from scipy.special._ufuncs without running
    scipy/special/__init__.py (sim.lazyimport): the very objects scipy.special gives, and
    scipy.special is whole when asked for anything else."""
    import subprocess
    import sys

    code = """
import sys
import numpy as np
from sim.scenario.values import parse_dist
u = np.array([0.025, 0.5, 0.975])
vals = [parse_dist(d).quantile(u) for d in ({"normal": [0, 1]}, {"beta": [2, 5]}, {"lognormal": [0, 0.5]})]
import scipy.special as s
assert np.array_equal(vals[0], s.ndtri(u)) and np.array_equal(vals[1], s.betaincinv(2.0, 5.0, u))
from scipy.special import erf, gamma
import scipy.stats
assert gamma(5.0) == 24.0 and abs(erf(1.0) - 0.8427007929497149) < 1e-15 and scipy.stats.norm.ppf(0.5) == 0.0
print("ok")
"""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr


def test_a_pool_worker_frees_each_chunks_world_after_the_chunk(mini, monkeypatch):
    """In sim's own pool workers a chunk's world is freed when the chunk ends (its cycles
    with its agents are collected then, not whenever the collector next looks at the old
    objects: a million-run worker grew to 770 MB). Here this process plays the worker."""
    from sim import runner

    def alive() -> int:
        return sum(issubclass(type(o), World) for o in gc.get_objects())

    sim.run(mini, runs=100, seed=4, chunk_size=50, workers=1, backend="local", months=6)  # warm
    gc.collect()
    before = alive()
    monkeypatch.setattr(runner._Worker, "own", True)
    monkeypatch.setattr(runner._Worker, "frozen", False)
    monkeypatch.setattr(runner._Worker, "EVERY", 1)
    gc.disable()  # only the worker's own collection may free the worlds
    try:
        sim.run(mini, runs=300, seed=4, chunk_size=50, workers=1, backend="local", months=6)
    finally:
        gc.unfreeze()  # before counting: gc.get_objects() does not list frozen objects
        after = alive()
        gc.enable()
    assert runner._Worker.frozen
    assert after == before, f"{after - before} chunk worlds still alive after the chunks"


def test_without_the_workers_collection_chunk_worlds_wait_for_the_collector(mini):
    """What the test above guards against: with the collector held, worlds of finished chunks
    stay alive in a process that is not a pool worker (the main process is left as it is)."""
    sim.run(mini, runs=100, seed=4, chunk_size=50, workers=1, backend="local", months=6)
    gc.collect()
    before = sum(issubclass(type(o), World) for o in gc.get_objects())
    gc.disable()
    try:
        sim.run(mini, runs=300, seed=4, chunk_size=50, workers=1, backend="local", months=6)
        after = sum(issubclass(type(o), World) for o in gc.get_objects())
    finally:
        gc.enable()
    assert after > before
