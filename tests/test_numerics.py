"""Numerics written once (sim.rules.formulas): formulas compiled for kernels and run by numpy
on arrays; kernels that recompile when a formula changes, called by keyword; World.rp."""

from __future__ import annotations

import ast
import importlib
import inspect
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from numba import njit

from sim.rules import formulas as fm

RUNGS = np.arange(6)


def _compiled(f, *arrays):
    """The formula compiled into a jitted loop over the elements (what a kernel does)."""
    names = list(inspect.signature(f).parameters)
    loop = (f"def loop({', '.join(names)}, out):\n    for i in range(out.size):\n"
            f"        out[i] = f({', '.join(n + '[i]' for n in names)})\n")
    scope = {"f": f}
    exec(loop, scope)  # noqa: S102 - a loop over the formula's own parameters
    cols = [np.ascontiguousarray(c) for c in np.broadcast_arrays(*(np.asarray(a) for a in arrays))]
    out = np.empty(cols[0].shape, dtype=np.asarray(f(*(c[:1] for c in cols))).dtype)
    njit(scope["loop"])(*cols, out)
    return out


def _inputs():
    g = np.random.default_rng(7)
    x = g.normal(0.0, 2.0, 200)
    pos = g.lognormal(0.0, 1.5, 200)
    return {
        "chance": (pos,),
        "contest_success": (g.uniform(0.0, 5.0, 200), x),
        "log_ratio": (np.r_[pos[:-2], 0.0, 1e-12], np.r_[pos[::-1][:-2], 3.0, 0.0]),
        "balance": (4.0 * x,),
        "weight": (np.r_[pos[:-1], 0.0], np.r_[pos[::-1][:-1], 0.0]),
        "toll": (pos * 10, g.uniform(0.0, 2.0, 200), x, g.choice([0.0, 1.0], 200)),
        "climbs": (np.repeat(RUNGS, 3),),
        "steps_down": (np.repeat(RUNGS, 3), np.tile([0, 2, 3], 6)),
        "ema": (g.uniform(0, 1, 200), x, pos),
        "revert": (x, pos, g.uniform(0, 1, 200)),
    }


TRANSCENDENTAL = {"chance", "contest_success", "log_ratio", "toll"}  # numba's and numpy's exp/log may differ in the last bit


@pytest.mark.parametrize("name", sorted(_inputs()))
def test_a_formulas_compiled_and_numpy_forms_agree(name):
    f = getattr(fm, name)
    args = _inputs()[name]
    on_arrays = f(*args)
    one_by_one = _compiled(f, *args)
    assert on_arrays.shape == one_by_one.shape
    if name in TRANSCENDENTAL:
        np.testing.assert_array_max_ulp(on_arrays.astype(float), one_by_one.astype(float), maxulp=2)
    else:
        assert np.array_equal(on_arrays, one_by_one)


def test_the_numpy_form_keeps_the_arrays_precision():
    k = np.full(4, 1.5, dtype=np.float32)
    x = np.linspace(-1, 1, 4, dtype=np.float32)
    assert fm.contest_success(k, x).dtype == np.float32
    assert fm.balance(x * 9).dtype == np.float32


def test_a_rule_of_ones_own_that_calls_a_formula_ships_to_another_process(tmp_path):
    # custom parts go to worker processes by value (cloudpickle): the formula they call
    # must arrive as the same importable function
    import cloudpickle

    def rule(rate):
        return fm.chance(rate) + fm.contest_success(1.5, np.log(rate))

    (tmp_path / "rule.pkl").write_bytes(cloudpickle.dumps(rule))
    code = ("import pickle, numpy as np; f = pickle.load(open(r'%s', 'rb')); print(f(np.array([2.0]))[0])"
            % (tmp_path / "rule.pkl"))
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert float(p.stdout) == pytest.approx(rule(np.array([2.0]))[0])


def test_contest_success_is_the_capability_ratio_to_the_power_k():
    # a 2:1 edge wins about 74% of wars at k = 1.5 (the default's rationale)
    assert fm.contest_success(1.5, math.log(2.0)) == pytest.approx(2**1.5 / (2**1.5 + 1))
    assert fm.contest_success(1.5, math.log(2.0)) == pytest.approx(0.739, abs=1e-3)
    assert fm.contest_success(3.0, 0.0) == 0.5
    assert fm.contest_success(2.0, 0.7) + fm.contest_success(2.0, -0.7) == pytest.approx(1.0)


def test_a_hazard_gives_a_monthly_probability():
    assert fm.chance(0.0) == 0.0
    assert fm.chance(1e-9) == pytest.approx(1e-9)  # expm1: exact for small rates
    assert fm.chance(math.log(2.0)) == pytest.approx(0.5)
    assert fm.chance(50.0) == 1.0


def test_a_toll_is_rounded_and_a_clash_kills_at_least_one():
    assert fm.toll(40.0, 0.8, 0.0, 1.0) == 40.0  # z = 0: the median
    assert fm.toll(4.0, 0.5, 1.0, 0.0) == round(4.0 * math.exp(0.5))
    assert fm.toll(0.2, 0.8, 0.0, 1.0) == 1.0  # a clash that breaks out
    assert fm.toll(0.2, 0.8, 0.0, 0.0) == 0.0  # a quiet month at a rung


def test_rung_gating():
    assert [fm.climbs(int(L)) for L in RUNGS] == [True] * 5 + [False]
    assert [fm.steps_down(int(L), 0) for L in RUNGS] == [False, True, True, True, True, False]
    assert [fm.steps_down(int(L), 2) for L in RUNGS] == [False, False, False, True, True, False]  # a blockade holds rung 2


def test_balance_weight_ratio_and_averages():
    assert fm.balance(7.0) == 3.0 and fm.balance(-7.0) == -3.0 and fm.balance(0.5) == 0.5
    assert fm.log_ratio(2.0, 1.0) == pytest.approx(math.log(2.0))
    assert fm.log_ratio(0.0, 1.0) == pytest.approx(math.log(1e-9))  # floored, not -inf
    assert fm.weight(0.0, 0.0) == 0.0 and fm.weight(3.0, 1.0) == pytest.approx(0.75)
    assert fm.ema(0.9, 1.0, 0.0) == pytest.approx(0.9)
    assert fm.revert(1.0, 0.0, 0.25) == 0.75


def test_every_kernel_cache_follows_the_formulas_file():
    import numba.core.dispatcher

    found = 0
    for path in sorted(Path(fm.__file__).parent.glob("*_kernel.py")):
        mod = importlib.import_module(f"sim.rules.{path.stem}")
        for name, obj in vars(mod).items():
            if isinstance(obj, numba.core.dispatcher.Dispatcher) and obj.py_func.__module__ == mod.__name__:
                stamp = obj._cache._cache_file._source_stamp
                assert isinstance(stamp, tuple) and fm._SOURCE in stamp, f"{path.stem}.{name}"
                found += 1
    assert found >= 10


STAGE = """
import sys
sys.path.insert(0, {here!r})
import hashlib
from numba import njit
from sim.rules.formulas import depends_on
import dep

@njit(cache=True)
def k(x):
    return dep.f(x) * 2.0

depends_on(k, hashlib.sha256(open(dep.__file__, "rb").read()).hexdigest())
print(k(1.0), sum(k.stats.cache_hits.values()))
"""


def test_a_kernel_recompiles_when_a_formula_in_another_file_changes(tmp_path):
    # numba's own cache follows only the kernel's file: without depends_on, the second
    # run below would load the kernel compiled with the old formula
    (tmp_path / "dep.py").write_text("from numba import njit\n\n@njit(cache=True)\ndef f(x):\n    return x + 1.0\n")
    (tmp_path / "run.py").write_text(textwrap.dedent(STAGE.format(here=str(tmp_path))))
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}

    def run() -> tuple[float, int]:
        p = subprocess.run([sys.executable, str(tmp_path / "run.py")], capture_output=True, text=True, env=env,
                           timeout=300)
        assert p.returncode == 0, p.stderr
        value, hits = p.stdout.split()
        return float(value), int(hits)

    assert run() == (4.0, 0)  # compiled
    assert run() == (4.0, 1)  # loaded from the cache
    (tmp_path / "dep.py").write_text("from numba import njit\n\n@njit(cache=True)\ndef f(x):\n    return x + 100.0\n")
    assert run() == (202.0, 0)  # the formula changed: compiled again, not the stale copy


# ------------------------------------------------------------------ kernel calls


def _kernel_calls():
    """(module, kernel, call) for every call of a compiled kernel in the rule modules."""
    rules = Path(fm.__file__).parent
    out = []
    for path in sorted(rules.glob("*.py")):
        if path.stem.endswith("_kernel"):
            continue
        tree = ast.parse(path.read_text())
        kernels = {(a.asname or a.name): a.name for node in ast.walk(tree)
                   if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("_kernel")
                   for a in node.names}
        out += [(path.stem, kernels[node.func.id], node) for node in ast.walk(tree)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in kernels]
    return out


def test_kernels_are_called_by_keyword():
    # twenty-odd arrays of the same shape and dtype: a positional call could swap two silently
    calls = _kernel_calls()
    assert len(calls) >= 10
    for module, name, call in calls:
        assert not call.args, f"sim.rules.{module}:{call.lineno}: call {name} by keyword (its parameters' names)"
        kernel_args = [a.arg for a in ast.parse(inspect.getsource(getattr(
            importlib.import_module(f"sim.rules.{_home(name, module)}"), name).py_func)).body[0].args.args]
        assert sorted(k.arg for k in call.keywords) == sorted(kernel_args), f"sim.rules.{module}:{call.lineno}"


def _home(kernel: str, module: str) -> str:
    """The kernel module a rule module imports ``kernel`` from."""
    tree = ast.parse((Path(fm.__file__).parent / f"{module}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("_kernel"):
            if any(a.name == kernel for a in node.names):
                return node.module
    raise LookupError(kernel)


# ------------------------------------------------------------------ World.rp


def test_rp_gives_float64_contiguous_or_the_worlds_precision(mini):
    from .conftest import make_world

    w = make_world(mini, n=50)
    w32 = type(w)(w.plan, 50, np.random.SeedSequence(0, spawn_key=(0,)), dtype=np.float32)
    for world in (w, w32):
        for kind, rs in world.plan.rules.items():
            for name in rs.params:
                v = world.rp(kind, name)
                assert v.dtype == np.float64 and v.flags.c_contiguous and v.shape[0] == 50, f"{kind}.{name}"
                own = world.rp(kind, name, world.dtype)
                assert own.dtype == world.dtype and np.array_equal(own.astype(np.float64), v)
    base_up = w32.rp("escalation", "base_up")
    assert base_up.shape == (50, 6) and base_up.flags.c_contiguous


def test_a_rule_gets_another_slots_parameter_only_if_it_declares_it_reads_it(mini_path):
    import sim
    from sim.parts import register, registry, scoped
    from sim.rules import RuleParams

    from .conftest import make_world

    reads = registry().rules["offensive"]["fait_accompli"].reads
    assert set(reads) == {("escalation", "patron_weight"), ("escalation", "casualties_major_clash"),
                          ("escalation", "casualty_sigma")}
    with scoped():
        class NoParams(RuleParams):
            pass

        @register("escalation", "frozen_conflict", NoParams)
        def build(plan):
            return lambda w: None

        w = make_world(sim.load_scenario(mini_path, overrides=["rules.escalation.model=frozen_conflict"]), n=7)
        # the offensive (on) declared these: the default model's defaults, lent
        assert np.array_equal(w.rp("escalation", "casualty_sigma"), np.full(7, 0.8))
        assert np.array_equal(w.rp("escalation", "casualties_major_clash"), np.full(7, 40.0))
        with pytest.raises(KeyError, match="no rule in use declares that it reads it"):
            w.rp("escalation", "beta_shift")  # nobody declared it
        w = make_world(sim.load_scenario(mini_path, overrides=["rules.escalation.model=frozen_conflict",
                                                               "rules.offensive.model=off"]), n=7)
        with pytest.raises(KeyError):
            w.rp("escalation", "casualty_sigma")  # the rule that declared it is off

        with pytest.raises(ValueError, match="no model of slot 'escalation' has a parameter 'casualty_sigmaa'"):
            register("watch", "typo", NoParams, phase="escalation", reads=("escalation.casualty_sigmaa",))
        with pytest.raises(ValueError, match="give 'slot.parameter' of a slot registered before it"):
            register("watch", "typo", NoParams, phase="escalation", reads=("escalatio.casualty_sigma",))
