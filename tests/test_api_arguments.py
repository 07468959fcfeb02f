"""The Python API names the argument and what it takes, as the CLI names its flags.

Every public argument of the facade functions (sim.run, sim.load_scenario, sim.sweep,
sim.compare, sim.save, sim.backtest, play's Game and tell) is given a wrong value in the
table below; each call raises one InputError with one problem that names that argument
and says what it takes, before anything runs. A test checks the table covers every
argument of every function (a new argument needs its row).
"""

from __future__ import annotations

import inspect

import pytest

import sim
from sim.play.game import Game
from sim.play.story import follow, tell
from sim.scenario.errors import InputError

from .conftest import MINI, write

LEVERED = MINI + """levers:
  cc:
    reassure: {description: Reassure the pact, effect: {set: {alliances.pact.credibility: 0.9}}}
play: {turn: month}
"""

LIST = "expected a list of 'ACTOR.LEVER' strings"
SCN = ("expected a scenario: loaded (sim.load_scenario), a file path, a shipped scenario's name (karabakh) or a "
       "mapping, got ")
OVR = "expected a mapping {path: value} or a list of 'PATH=VALUE' strings, e.g. ['flashpoints.lachin.level=3']"
FLAG = "expected True or False, got "
REPL = "expected True (rows in memory), False, or the path of a Parquet file to write, got "
PROG = "expected a function called with the progress, or None, got "

# function, argument, a wrong value, the message
TABLE = [
    ("run", "scenario", 5, SCN + "int 5"),
    ("run", "runs", "10", "must be a whole number (got '10')"),
    ("run", "seed", 1.5, "must be a whole number (got 1.5)"),
    ("run", "months", 0, "must be between 1 and 600 (got 0)"),
    ("run", "workers", 0, "must be at least 1 (got 0)"),
    ("run", "chunk_size", "big", "must be a whole number (got 'big')"),
    ("run", "dtype", "float16", "must be float32 or float64 (got 'float16')"),
    ("run", "progress", 5, PROG + "int 5"),
    ("run", "keep_trajectories", -1, "must be at least 0 (got -1)"),
    ("run", "backend", "gpu", "must be auto, local, processes or dask (got 'gpu')"),
    ("run", "scheduler", "", "must be a scheduler address such as tcp://host:8786 (got '')"),
    ("run", "oversubscribe", "yes", FLAG + "a string 'yes'"),
    ("run", "levers", "a.b", LIST + ", got a string 'a.b' (did you mean ['a.b']?)"),
    ("run", "levers", 5, LIST + ", e.g. ['armenia.freeze_csto'], got int 5"),
    ("run", "levers", ["cc.reassure", 7], LIST + ", e.g. ['armenia.freeze_csto']; item 1 is int 7"),
    ("run", "replicates", 5, REPL + "int 5"),
    ("run", "ci_halfwidth", 2, "must be a number between 0 and 0.5, e.g. 0.01 for +/- one point (got 2)"),
    ("run", "trajectories", 5, REPL + "int 5"),
    ("run", "worker_timeout", 0, "must be a number of seconds above 0 (got 0)"),
    ("load_scenario", "ref", 5, "expected a file path, a shipped scenario's name (karabakh) or a mapping, got int 5"),
    ("load_scenario", "overrides", 5, OVR + ", got int 5"),
    ("load_scenario", "overrides", "states.aa.resolve=0.5",
     OVR + ", got a string 'states.aa.resolve=0.5' (did you mean ['states.aa.resolve=0.5']?)"),
    ("load_scenario", "seeds", "/no/such/folder", "'/no/such/folder' is not a folder"),
    ("sweep", "scenario", [1], SCN + "a list [1]"),
    ("sweep", "method", "sobolx", "must be one of sobol, morris, lhs, grid, fast, delta (got 'sobolx')"),
    ("sweep", "samples", "8", "must be a whole number, at least 1 (got '8')"),
    ("sweep", "runs", 0, "must be at least 1 (got 0)"),
    ("sweep", "params", "states.aa.resolve=0.1:0.5",
     "expected a mapping {path: (lo, hi)} or a list of 'PATH=LO:HI' strings, e.g. ['alliances.csto.credibility=0.1:0.5'], "
     "got a string 'states.aa.resolve=0.1:0.5' (did you mean ['states.aa.resolve=0.1:0.5']?)"),
    ("sweep", "levers", "cc.reassure", LIST + ", got a string 'cc.reassure' (did you mean ['cc.reassure']?)"),
    ("sweep", "pull", "cc.reassure", LIST + ", got a string 'cc.reassure' (did you mean ['cc.reassure']?)"),
    ("sweep", "seed", -1, "must be at least 0 (got -1)"),
    ("sweep", "months", 601, "must be between 1 and 600 (got 601)"),
    ("sweep", "chunk_size", 0, "must be at least 1 (got 0)"),
    ("sweep", "workers", "two", "must be a whole number (got 'two')"),
    ("sweep", "backend", 5, "must be auto, local, processes or dask (got 5)"),
    ("sweep", "scheduler", 5, "must be a scheduler address such as tcp://host:8786 (got 5)"),
    ("sweep", "dtype", 64, "must be float32 or float64 (got 64)"),
    ("sweep", "second_order", "no", FLAG + "a string 'no'"),
    ("sweep", "ci_halfwidth", "tight", "must be a number between 0 and 0.5, e.g. 0.01 for +/- one point (got 'tight')"),
    ("sweep", "replicates", 3, REPL + "int 3"),
    ("sweep", "progress", "bar", PROG + "a string 'bar'"),
    ("sweep", "oversubscribe", 1, FLAG + "int 1"),
    ("sweep", "worker_timeout", "soon", "must be a number of seconds above 0 (got 'soon')"),
    ("evaluate", "scenario", 5, SCN + "int 5"),
    ("evaluate", "design", 5, "expected a DataFrame (or a mapping of columns) with one row per parameter set, the path "
                              "of such a CSV, or a SALib ProblemSpec with samples, got int 5"),
    ("evaluate", "runs", 0, "must be at least 1 (got 0)"),
    ("evaluate", "pull", "cc.reassure", LIST + ", got a string 'cc.reassure' (did you mean ['cc.reassure']?)"),
    ("evaluate", "seed", -1, "must be at least 0 (got -1)"),
    ("evaluate", "months", 0, "must be between 1 and 600 (got 0)"),
    ("evaluate", "chunk_size", 0, "must be at least 1 (got 0)"),
    ("evaluate", "workers", 0, "must be at least 1 (got 0)"),
    ("evaluate", "backend", "gpu", "must be auto, local, processes or dask (got 'gpu')"),
    ("evaluate", "scheduler", 5, "must be a scheduler address such as tcp://host:8786 (got 5)"),
    ("evaluate", "dtype", "half", "must be float32 or float64 (got 'half')"),
    ("evaluate", "ci_halfwidth", 1, "must be a number between 0 and 0.5, e.g. 0.01 for +/- one point (got 1)"),
    ("evaluate", "replicates", 3, REPL + "int 3"),
    ("evaluate", "trajectories", 3, REPL + "int 3"),
    ("evaluate", "progress", "bar", PROG + "a string 'bar'"),
    ("evaluate", "oversubscribe", 1, FLAG + "int 1"),
    ("evaluate", "worker_timeout", -1, "must be a number of seconds above 0 (got -1)"),
    ("compare", "a", None, SCN + "None"),
    ("compare", "b", 5, SCN + "int 5"),
    ("compare", "a_set", 5, OVR + ", got int 5"),
    ("compare", "b_set", "x=1", OVR + ", got a string 'x=1' (did you mean ['x=1']?)"),
    ("compare", "a_levers", "cc.reassure", LIST + ", got a string 'cc.reassure' (did you mean ['cc.reassure']?)"),
    ("compare", "b_levers", {"cc": "reassure"}, LIST + ", e.g. ['armenia.freeze_csto'], got a dict {'cc': 'reassure'}"),
    ("compare", "runs", -5, "must be at least 1 (got -5)"),
    ("compare", "seed", "s", "must be a whole number (got 's')"),
    ("compare", "months", 0, "must be between 1 and 600 (got 0)"),
    ("compare", "chunk_size", 1.5, "must be a whole number (got 1.5)"),
    ("compare", "workers", -1, "must be at least 1 (got -1)"),
    ("compare", "backend", "cloud", "must be auto, local, processes or dask (got 'cloud')"),
    ("compare", "independent", "yes", FLAG + "a string 'yes'"),
    ("compare", "labels", "ab", "expected two names (label of A, label of B), got a string 'ab'"),
    ("compare", "progress", 3, PROG + "int 3"),
    ("save", "res", {"runs": 1}, "expected the results of sim.run, got a dict {'runs': 1}"),
    ("save", "folder", 5, "expected a folder path (a string or a Path), got int 5"),
    ("save", "report", "yes", FLAG + "a string 'yes'"),
    ("backtest", "questions", 5, "expected a question file's path (or read_questions(path)), got int 5"),
    ("backtest", "scenario", 5, SCN + "int 5"),
    ("backtest", "runs", 0, "must be at least 1 (got 0)"),
    ("backtest", "seed", "x", "must be a whole number (got 'x')"),
    ("backtest", "bins", 0, "must be a whole number from 1 to 100 (got 0)"),
    ("backtest", "workers", 0, "must be at least 1 (got 0)"),
    ("backtest", "chunk_size", 0, "must be at least 1 (got 0)"),
    ("backtest", "dtype", "half", "must be float32 or float64 (got 'half')"),
    ("backtest", "progress", 1, PROG + "int 1"),
    ("Game", "scn", "karabakh", "expected a loaded scenario (sim.load_scenario(...)), got a string 'karabakh'"),
    ("Game", "played", "cc", "expected a list of actor strings, got a string 'cc' (did you mean ['cc']?)"),
    ("Game", "seed", "x", "must be a whole number (got 'x')"),
    ("Game", "months", 0, "must be between 1 and 600 (got 0)"),
    ("Game", "deck", 5, "expected a list of injects (sim.play.injects.load_injects), got int 5"),
    ("Game", "forecast_runs", "x", "expected a whole number, at least 1, got a string 'x'"),
    ("Game", "forecast_runs", 2_000_000, "must be between 1 and 1,000,000 (got 2000000)"),
    ("Game", "dtype", "float16", "must be float32 or float64 (got 'float16')"),
    ("Game", "chunk_size", 0, "must be at least 1 (got 0)"),
    ("tell", "scn", "karabakh", "expected a loaded scenario (sim.load_scenario(...)), got a string 'karabakh'"),
    ("tell", "seed", "x", "must be a whole number (got 'x')"),
    ("tell", "replicate", "x", "expected a whole number, at least 0, got a string 'x'"),
    ("tell", "replicate", -1, "must be at least 0 (got -1)"),
    ("tell", "runs", 0, "must be at least 1 (got 0)"),
    ("tell", "months", 0, "must be between 1 and 600 (got 0)"),
    ("tell", "chunk_size", 0, "must be at least 1 (got 0)"),
    ("tell", "dtype", "f", "must be float32 or float64 (got 'f')"),
    ("tell", "levers", "cc.reassure", LIST + ", got a string 'cc.reassure' (did you mean ['cc.reassure']?)"),
]


@pytest.fixture(scope="module")
def scn(tmp_path_factory):
    return sim.load_scenario(write(tmp_path_factory.mktemp("api"), LEVERED))


@pytest.fixture(scope="module")
def res(scn):
    return sim.run(scn, runs=10, months=2)


def call(fn: str, arg: str, value, scn, res, tmp):
    """``fn`` with valid arguments but ``arg=value``."""
    if fn == "run":
        kw = {"scenario": scn, "runs": 10, "months": 2, arg: value}
        return sim.run(**kw)
    if fn == "load_scenario":
        kw = {"ref": scn.path, arg: value}
        return sim.load_scenario(**kw)
    if fn == "sweep":
        kw = {"scenario": scn, "method": "lhs", "samples": 6, "runs": 5, "months": 2, arg: value}
        return sim.sweep(**kw)
    if fn == "evaluate":
        kw = {"scenario": scn, "design": {"alliances.pact.credibility": [0.3, 0.6]}, "runs": 5, "months": 2, arg: value}
        return sim.evaluate(**kw)
    if fn == "compare":
        kw = {"a": scn, "runs": 10, "months": 2, arg: value}
        return sim.compare(**kw)
    if fn == "save":
        kw = {"res": res, "folder": tmp / "saved", "report": False, arg: value}
        return sim.save(**kw)
    if fn == "backtest":
        kw = {"questions": tmp / "questions.yaml", arg: value}
        return sim.backtest(**kw)
    if fn == "Game":
        kw = {"scn": scn, "played": ["cc"], "months": 2, "forecast_runs": 10, arg: value}
        return Game(**kw)
    if fn == "tell":
        kw = {"scn": scn, "runs": 10, "months": 2, arg: value}
        return tell(**kw)
    raise AssertionError(fn)


@pytest.mark.parametrize("fn, arg, value, message", TABLE, ids=[f"{r[0]}-{r[1]}-{r[2]!r}" for r in TABLE])
def test_a_wrong_argument_is_one_problem_naming_it(fn, arg, value, message, scn, res, tmp_path):
    with pytest.raises(InputError) as info:
        call(fn, arg, value, scn, res, tmp_path)
    got = [(p.mark.option, p.message) for p in info.value.problems]
    assert got == [(arg, message)]
    assert str(info.value) == f"sim: {arg}: {message}"
    assert not (tmp_path / "saved").exists()


def test_the_table_covers_every_argument_of_every_facade_function():
    functions = {"run": sim.run, "load_scenario": sim.load_scenario, "sweep": sim.sweep, "evaluate": sim.evaluate,
                 "compare": sim.compare,
                 "save": sim.save, "backtest": sim.backtest, "Game": Game, "tell": tell}
    covered = {(fn, arg) for fn, arg, _, _ in TABLE}
    for name, f in functions.items():
        params = [p for p in inspect.signature(f).parameters if p != "options"]
        if name == "tell":  # tell(scn, seed=, replicate=, **options): the options are follow's
            params += [p for p in inspect.signature(follow).parameters if p not in ("scn", "replicates", "seed")]
        missing = [p for p in params if (name, p) not in covered]
        assert not missing, f"{name}: no row for {missing}"


def test_every_wrong_argument_is_named_at_once(scn):
    with pytest.raises(InputError) as info:
        sim.run(scn, runs=0, levers="cc.reassure", replicates=5, seed="x")
    assert sorted(p.mark.option for p in info.value.problems) == ["levers", "replicates", "runs", "seed"]
