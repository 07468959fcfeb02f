"""Custom rules everywhere: the worked example of docs/EXTENDING.md — a rule with its own
parameter, state, predicate and event, and an outcome kind, all defined outside the
package — runs in-process, on 2 worker processes and on a Dask LocalCluster with
identical results; `sim rerun` finds its module, or says what is missing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import sim
from sim.parts import scoped

from .conftest import MINI, write

DOCS = Path(sim.__file__).resolve().parent.parent / "docs" / "EXTENDING.md"


def example_code() -> str:
    text = DOCS.read_text(encoding="utf-8")
    return re.search(r"## Writing a rule.*?```python\n(.*?)```", text, re.S).group(1)


def load_example(name: str = "weariness_example") -> types.ModuleType:
    """The docs' example as a module that workers cannot import (not on any path)."""
    mod = types.ModuleType(name)
    sys.modules[name] = mod
    exec(compile(example_code(), str(DOCS), "exec"), mod.__dict__)  # noqa: S102 - our own docs
    return mod


SCENARIO = MINI.replace("  frozen: {kind: membership", """  weary: {kind: weary, state: aa, above: 0.5}
  weary_and_calm: {kind: condition, when: "weariness(bb) > 0.3 and level(front) <= 2"}
  frozen: {kind: membership""") + """rules:
  weariness: {model: fatigue, gain: 0.4}
"""


def _summary(res) -> str:
    return json.dumps(sim.results._clean(res.summary()), sort_keys=True)


@pytest.mark.slow
def test_a_custom_rule_gives_identical_results_on_every_backend(tmp_path):
    with scoped():
        load_example()
        scn = sim.load_scenario(write(tmp_path, SCENARIO))
        kw = {"runs": 1200, "seed": 4, "chunk_size": 100}
        local = sim.run(scn, backend="local", **kw)
        procs = sim.run(scn, backend="processes", workers=2, oversubscribe=True, **kw)
        dask = sim.run(scn, backend="dask", workers=2, oversubscribe=True, **kw)
        p = local.probabilities()["probability"]
        assert 0 < p["weary"] < 1 and 0 < p["weary_and_calm"] < 1  # the rule acts, and not trivially
        assert local.counts().loc["weariness.tipping", "per_run"] > 0
        assert _summary(local) == _summary(procs) == _summary(dask)
        assert local.counts().equals(procs.counts()) and local.counts().equals(dask.counts())
        parts = {(p["what"], p["name"]) for p in local.manifest["custom_parts"]}
        assert {("rules", "weariness.fatigue"), ("outcomes", "weary"), ("predicates", "weariness"),
                ("state", "weariness"), ("events", "weariness.tipping")} <= parts


def test_custom_parts_are_recorded_and_forgotten_outside_their_scope(tmp_path):
    path = write(tmp_path, SCENARIO)
    with scoped():
        load_example()
        res = sim.run(sim.load_scenario(path), runs=300, seed=1)
        assert res.manifest["custom_parts"]
    base = sim.run(sim.load_scenario(write(tmp_path, MINI, "base.yaml")), runs=300, seed=1)
    assert base.manifest["custom_parts"] == []
    with pytest.raises(sim.InputError, match="unknown mechanism 'weariness'"):
        sim.load_scenario(path)  # outside the scope the rule is gone, and the file says it needs it


def _cli(args: list[str], cwd: Path, pythonpath: Path | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], capture_output=True, text=True, cwd=cwd, env=env)


def test_rerun_imports_the_module_a_run_used_or_says_what_is_missing(tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "weary_plugin.py").write_text(example_code(), encoding="utf-8")
    scn = write(tmp_path, SCENARIO)
    out = tmp_path / "run"
    r = _cli(["run", str(scn), "--runs", "200", "--no-report", "--out", str(out), "--plugin", "weary_plugin"],
             tmp_path, plugins)
    assert r.returncode == 0, r.stderr
    m = json.loads((out / "manifest.json").read_text())
    assert {"what": "rules", "name": "weariness.fatigue", "module": "weary_plugin"} in m["custom_parts"]
    # where the module is importable, rerun imports it and reproduces the run
    r = _cli(["rerun", str(out), "--out", str(tmp_path / "again")], tmp_path, plugins)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Reproduced" in r.stdout
    # where it is not, one clear line naming what is missing and where it came from
    r = _cli(["rerun", str(out), "--out", str(tmp_path / "third")], tmp_path, None)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    assert "the run used rule 'weariness.fatigue' from module 'weary_plugin', which cannot be imported here" in r.stderr
    assert not (tmp_path / "third").exists()
