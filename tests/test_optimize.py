"""sim optimize / sim.optimize: robust policy search on common random numbers."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.analysis.optimize import Robustness, _Evaluator, measure, parse_robustness, regret
from sim.cli import app
from sim.scenario.errors import InputError

from .conftest import write

TINY = """
meta:
  name: tiny
  title: Tiny policy world
  start: 2023-07
  horizon_months: 24
  runs: 500
  seed: 7
states:
  aa: {name: A, capability: 2.0, resolve: 0.7, affinity: {cc: 0.8}}
  bb: {name: B, capability: 1.0, resolve: 0.6}
  cc: {name: C, capability: 10.0, available_capacity: 0.5}
  dd: {name: D, capability: 1.0}
alliances:
  pact:
    name: Pact
    leader: cc
    members: [cc, bb, dd]
    credibility: 0.3
    trust: {bb: 0.5}
territories:
  land: {controller: bb, claimants: [aa, bb]}
flashpoints:
  front: {sides: [aa, bb], stakes: land, location: bb, level: 2, mediators: []}
levers:
  bb:
    calm: {description: Stand down, effect: {set: {flashpoints.front.level: 1}}}
    talk: {description: Open talks, effect: {set: {flashpoints.front.talks: 1}}}
    mediate: {description: Ask C to mediate, effect: {add: {flashpoints.front.mediators: [cc]}}}
    arm: {description: Arm, effect: {multiply: {states.bb.capability: 2.0}}}
uncertainties:
  alliances.pact.credibility: {uniform: [0.1, 0.5]}
  states.aa.resolve: {uniform: [0.5, 0.9]}
outcomes:
  clash: {kind: escalation, flashpoint: front, reaches: 3}
  war: {kind: escalation, flashpoint: front, reaches: 5}
  deal: {kind: agreement, flashpoint: front}
"""
"""Four levers (16 combinations) of one actor, two uncertainties, three outcomes."""

LEVERS = ["bb.calm", "bb.talk", "bb.mediate", "bb.arm"]


def _no_uncertainties(text: str) -> str:
    head, _, tail = text.partition("uncertainties:")
    return head + tail[tail.index("outcomes:"):]


@pytest.fixture
def tiny(tmp_path):
    return sim.load_scenario(write(tmp_path, TINY, "tiny.yaml"))


@pytest.fixture
def tiny_fixed(tmp_path):
    return sim.load_scenario(write(tmp_path, _no_uncertainties(TINY), "tiny_fixed.yaml"))


# ------------------------------------------------------------------ robustness measures by hand

Y = np.array([[0.10, 0.50, 0.30, 0.20],   # policy 0, four worlds
              [0.20, 0.20, 0.20, 0.20],   # policy 1
              [0.05, 0.60, 0.40, 0.10]])  # policy 2


def test_mean_and_percentiles_by_hand():
    assert measure(Y, "minimize", Robustness("mean")) == pytest.approx([0.275, 0.2, 0.2875])
    # numpy's linear percentile: position 0.1*(4-1) = 0.3 between the two smallest
    assert measure(Y, "minimize", Robustness("p10"))[0] == pytest.approx(0.10 + 0.3 * (0.20 - 0.10))
    assert measure(Y, "minimize", Robustness("p90"))[2] == pytest.approx(0.40 + 0.7 * (0.60 - 0.40))
    assert measure(Y, "maximize", Robustness("p90"))[1] == pytest.approx(0.2)


def test_regret_is_minimax_against_the_best_policy_in_each_world():
    # to minimise: best per world is 0.05, 0.20, 0.20, 0.10
    r = regret(Y, "minimize")
    assert r[0] == pytest.approx([0.05, 0.30, 0.10, 0.10])
    assert r[1] == pytest.approx([0.15, 0.00, 0.00, 0.10])
    assert r[2] == pytest.approx([0.00, 0.40, 0.20, 0.00])
    assert measure(Y, "minimize", Robustness("regret")) == pytest.approx([0.30, 0.15, 0.40])
    # to maximise: best per world is 0.20, 0.60, 0.40, 0.20
    assert measure(Y, "maximize", Robustness("regret")) == pytest.approx([0.10, 0.40, 0.15])
    # policy 1 is best on no world's mean but has the smallest largest regret
    assert int(np.argmin(measure(Y, "minimize", Robustness("regret")))) == 1


def test_satisficing_share_of_worlds_meeting_the_threshold():
    assert measure(Y, "minimize", Robustness("satisficing", 0.2)) == pytest.approx([0.5, 1.0, 0.5])
    assert measure(Y, "maximize", Robustness("satisficing", 0.3)) == pytest.approx([0.5, 0.0, 0.5])
    assert Robustness("satisficing", 0.2).direction("minimize") == "maximize"
    assert Robustness("regret").direction("maximize") == "minimize"


def test_parse_robustness():
    assert parse_robustness("satisficing:0.25") == Robustness("satisficing", 0.25)
    assert parse_robustness("p90") == Robustness("p90")
    with pytest.raises(InputError, match="did you mean 'regret'"):
        parse_robustness("regert")
    with pytest.raises(InputError, match="threshold"):
        parse_robustness("satisficing")
    with pytest.raises(InputError, match="threshold"):
        parse_robustness("satisficing:1.5")


# ------------------------------------------------------------------ common random numbers


def test_every_policy_sees_the_streams_a_run_with_its_levers_pulled_sees(tiny_fixed):
    """One world (no uncertainties), one chunk per policy: each policy's probabilities in the
    batched Monte Carlo are exactly those of `sim.run` with its levers pulled, same seed."""
    R = 300
    opt = sim.optimize(tiny_fixed, minimize=["clash"], maximize=["deal"], runs=R, seed=11, chunk_size=R)
    assert opt.method == "enumerated" and len(opt.X) == 16 and opt.worlds.shape[0] == 1
    names = [o.name for o in opt.outcomes]
    for x, y in zip(opt.X, opt.Y, strict=True):
        pulled = [lv for lv, on in zip(LEVERS, x, strict=True) if on]
        res = sim.run(tiny_fixed, runs=R, seed=11, chunk_size=R, levers=pulled or None)
        p = res.probabilities()["probability"]
        for k, name in enumerate(names):
            assert y[0, k] == p[name], (pulled, name)


def _enumerated_best(scn, objective: str, sense: str, runs: int, seed: int) -> tuple[str, ...]:
    """The best lever combination found by running every combination with `sim.run` (the same
    seed: common random numbers), independently of sim.optimize."""
    best, best_v = None, None
    for bits in itertools.product([False, True], repeat=len(LEVERS)):
        pulled = [lv for lv, on in zip(LEVERS, bits, strict=True) if on]
        v = sim.run(scn, runs=runs, seed=seed, chunk_size=runs, levers=pulled or None).probabilities().loc[
            objective, "probability"]
        if best_v is None or (v < best_v if sense == "minimize" else v > best_v):
            best, best_v = tuple(pulled), v
    return best


def _pulled(opt, i) -> tuple[str, ...]:
    return tuple(g.name for g, v in zip(opt.genes, opt.X[i], strict=True) if v >= 0.5)


@pytest.mark.parametrize("exhaustive", [True, False])
def test_finds_the_enumerated_optimum(tiny_fixed, exhaustive):
    """The policy that maximises the agreement, found by running every combination with
    `sim.run`, is what sim.optimize returns, enumerating and with NSGA-II (small population)."""
    R = 300
    best = _enumerated_best(tiny_fixed, "deal", "maximize", R, 5)
    opt = sim.optimize(tiny_fixed, maximize=["deal"], runs=R, seed=5, chunk_size=R, exhaustive=exhaustive,
                       population=6, generations=6)
    assert opt.method == ("enumerated" if exhaustive else "nsga2")
    # a lever without effect on the deal (arming, when launches do not follow the balance) ties:
    # among equal scores the policy pulling fewest levers is the one named, as the enumeration names it
    par = opt.pareto(distinct=True)
    assert len(par) == 1
    assert _pulled(opt, par.index[0]) == best
    if not exhaustive:
        assert len(opt.X) <= 16  # each policy evaluated once (the search proposes some again)
        assert [c["generation"] for c in opt.convergence] == list(range(6))
        hv = [c["hypervolume"] for c in opt.convergence]
        assert hv == sorted(hv)  # the mean's front only improves


@pytest.mark.parametrize("robustness", ["mean", "regret", "p90", "satisficing:0.3"])
def test_nsga2_finds_what_enumeration_finds_across_worlds(tiny, robustness):
    """With uncertainties (6 worlds): NSGA-II's best policy is the best of every combination
    evaluated on the same worlds and random numbers."""
    kw = dict(minimize=["clash"], robustness=robustness, worlds=6, runs=100, seed=3)
    full = sim.optimize(tiny, exhaustive=True, **kw)
    ga = sim.optimize(tiny, exhaustive=False, population=8, generations=6, **kw)
    assert full.worlds.shape == (6, 2) and np.array_equal(full.worlds, ga.worlds)
    best = {_pulled(full, i) for i in full.pareto().index}
    assert {_pulled(ga, i) for i in ga.pareto().index} <= best
    # the policies both evaluated got the same per-world probabilities (same worlds, same streams)
    rows = {tuple(x): y for x, y in zip(full.X, full.Y, strict=True)}
    for x, y in zip(ga.X, ga.Y, strict=True):
        assert np.array_equal(rows[tuple(x)], y)


def test_continuous_policy_parameter_within_tolerance_of_the_grid_optimum(tiny_fixed):
    """A real gene (C's spare capacity, which makes its mediation count): NSGA-II's value is
    within 0.1 (a tenth of the range) of the best of a fine grid evaluated on the same numbers."""
    kw = dict(maximize=["deal"], levers=["bb.mediate"], policy_params=["states.cc.available_capacity=0:1"],
              runs=200, seed=2)
    ga = sim.optimize(tiny_fixed, population=10, generations=8, **kw)
    assert ga.method == "nsga2" and not ga.genes[1].lever
    best_ga = ga.pareto().iloc[0]
    ev = _Evaluator(tiny_fixed, ga.genes, [], np.zeros((1, 0)), 200, 2, months=None, chunk_size=None,
                    dtype="float32", workers=None, backend="local", scheduler=None, oversubscribe=False,
                    progress=None, expected=0)
    xs = np.linspace(0, 1, 21)
    X = np.array([[1.0, v] for v in xs])
    Yg, _ = ev(X)
    deal = [o.name for o in ga.outcomes].index("deal")
    p = Yg[:, 0, deal]
    assert best_ga["deal (mean)"] >= p.max() - 0.02  # as good as the grid's best, within two points
    good = xs[p >= p.max() - 0.02]
    assert np.min(np.abs(good - best_ga["states.cc.available_capacity"])) <= 0.1


# ------------------------------------------------------------------ the command


def test_cli_writes_the_folder_and_prints_policies_in_words(tmp_path):
    p = write(tmp_path, TINY, "tiny.yaml")
    out = tmp_path / "o"
    r = CliRunner().invoke(app, ["optimize", str(p), "--minimize", "clash", "--maximize", "deal", "--worlds", "3",
                                 "--runs", "60", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "every combination of 4 levers evaluated (16 policies)" in " ".join(r.output.split())
    assert "pull bb.calm, bb.talk" in r.output
    for name in ("pareto.csv", "policies.csv", "per_world.csv", "worlds.csv", "convergence.csv", "summary.json",
                 "manifest.json", "report.html", "fig_parallel.png", "fig_convergence.png", "scenario.resolved.yaml"):
        assert (out / name).is_file(), name
    pw = pd.read_csv(out / "per_world.csv")
    assert len(pw) == 16 * 3 and set(pw.columns) == {"id", "world", "clash", "deal"}
    par = pd.read_csv(out / "pareto.csv")
    assert par["policy"].str.startswith("pull").all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["method"] == "enumerated" and summary["policies_evaluated"] == 16
    m = json.loads((out / "manifest.json").read_text())
    assert m["optimize"]["runs_total"] == 16 * 3 * 60 and m["complete"] is True
    assert "Pareto front" in (out / "report.html").read_text()
    r = CliRunner().invoke(app, ["rerun", str(out)])  # not a run: refused, not rerun as one
    assert r.exit_code == 2 and r.output.strip() == (
        f"{out}/manifest.json: optimize: a policy search's folder (sim optimize) is not rerun; run sim optimize again "
        "with the options in its summary.json (same seed: same worlds, same random numbers)")


@pytest.mark.parametrize("args, message", [
    (["--minimize", "clsh"], "--minimize: 'clsh' is not an outcome of tiny (did you mean 'clash'?)"),
    (["--minimize", "clash", "--robustness", "regrett"], "--robustness: unknown robustness measure 'regrett' (did you mean 'regret'?)"),
    (["--minimize", "clash", "--robustness", "satisficing"], "--robustness: satisficing needs a threshold"),
    (["--minimize", "clash", "--lever", "bb.clam"], "--lever: 'bb.clam': bb has no lever 'clam' (did you mean 'calm'?)"),
    (["--minimize", "clash", "--actor", "bbb"], "--actor: 'bbb' has no levers in tiny (did you mean 'bb'?)"),
    (["--minimize", "clash", "--worlds", "0"], "--worlds: must be at least 1"),
    ([], "--minimize: nothing to optimise"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, args, message):
    p = write(tmp_path, TINY, "tiny.yaml")
    out = tmp_path / "o"
    r = CliRunner().invoke(app, ["optimize", str(p), *args, "--out", str(out)])
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sim optimize: ") and message in lines[0], r.output
    assert not out.exists() or not any(out.iterdir())


def test_a_scenario_without_levers_is_one_line_exit_2(tmp_path):
    text = TINY[:TINY.index("levers:")] + TINY[TINY.index("uncertainties:"):]
    p = write(tmp_path, text, "nolevers.yaml")
    r = CliRunner().invoke(app, ["optimize", str(p), "--minimize", "clash"])
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert lines == [f"{p}: levers: nothing to search: the scenario declares no levers; declare some under levers:, "
                     "or give policy parameters with --policy-param PATH=LO:HI"], r.output


def test_cli_defaults_are_the_library_defaults():
    import inspect

    from sim.analysis import optimize as O
    from sim.cli.optimize import optimize as command

    params = inspect.signature(command).parameters
    lib = inspect.signature(O.optimize).parameters
    for name in ("worlds", "runs", "population", "generations"):
        assert params[name].default == lib[name].default == getattr(O, f"DEFAULT_{name.upper()}"), name
    r = CliRunner().invoke(app, ["optimize", "--help"], env={"COLUMNS": "200"})
    assert r.exit_code == 0
    assert "30 worlds x 50 runs, population 40 x 20 generations" in " ".join(r.output.split()).replace("│", "").replace("  ", " ")
