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


# --- a plugin that registers a part under a stock part's name ---------------------------------

CALM = '''"""Registers a rule under the stock name escalation.spells: no escalation at all."""
from sim.rules import register
from sim.rules.spells import SpellParams


@register("escalation", "spells", SpellParams)
def build(plan):
    """Nothing ever escalates."""
    def step(w):
        pass
    return step
'''

TALLY = '''"""Registers an outcome kind under the stock name 'casualties' (same detector)."""
from sim.parts import registry, register_outcome

_stock = registry().outcomes["casualties"]


def detect(o, plan):
    return _stock.build(o, plan)


register_outcome("casualties", _stock.spec, detect, _stock.describe, check=_stock.check)
'''

REFUSED = ("sim {cmd}: --plugin: '{mod}' registers {what} under the name of the stock one, which it would replace; "
           "add --replace-rule to run with it in place of the stock one, or register it under another name")


@pytest.fixture()
def plugins(tmp_path, monkeypatch):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "calm_plugin.py").write_text(CALM, encoding="utf-8")
    (folder / "tally_plugin.py").write_text(TALLY, encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    return folder


def test_a_plugin_replacing_a_stock_rule_is_refused_unless_asked_for(tmp_path, plugins):
    scn = write(tmp_path, MINI)
    out = tmp_path / "refused"
    r = _cli(["run", str(scn), "--runs", "300", "--plugin", "calm_plugin", "--out", str(out)], tmp_path, plugins)
    assert r.returncode == 2 and r.stdout == "" and not out.exists()
    assert r.stderr.splitlines() == [REFUSED.format(cmd="run", mod="calm_plugin", what="rule 'escalation.spells'")]
    out = tmp_path / "replaced"
    r = _cli(["run", str(scn), "--runs", "300", "--seed", "1", "--plugin", "calm_plugin", "--replace-rule",
              "--out", str(out)], tmp_path, plugins)
    assert r.returncode == 0, r.stderr
    assert "sim run: --plugin 'calm_plugin' replaces the stock rule 'escalation.spells' (--replace-rule)" in r.stderr
    m = json.loads((out / "manifest.json").read_text())
    assert {"what": "rules", "name": "escalation.spells", "module": "calm_plugin", "replaces_stock": True} in m["custom_parts"]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert ("<b>Stock parts replaced:</b> the stock rule <code>escalation.spells</code> by module "
            "<code>calm_plugin</code>") in report
    # the replacement acts: the clash probability moves by far more than Monte Carlo error (sd ~0.04)
    replaced = json.loads((out / "summary.json").read_text())["outcomes"]["clash"]["probability"]
    stock = sim.run(sim.load_scenario(scn), runs=300, seed=1)
    assert abs(replaced - stock.probabilities()["probability"]["clash"]) > 0.1 and stock.manifest["custom_parts"] == []
    # a rerun replaces what the run replaced (its manifest says so), and says it
    r = _cli(["rerun", str(out), "--out", str(tmp_path / "again")], tmp_path, plugins)
    assert r.returncode == 0 and "Reproduced" in r.stdout, r.stderr
    assert "sim rerun: as in the original run, 'calm_plugin' replaces the stock rule 'escalation.spells'" in r.stderr
    # ... and nothing more without --replace-rule
    r = _cli(["rerun", str(out), "--plugin", "tally_plugin", "--out", str(tmp_path / "third")], tmp_path, plugins)
    assert r.returncode == 2 and not (tmp_path / "third").exists()
    assert r.stderr.splitlines() == [REFUSED.format(cmd="rerun", mod="tally_plugin", what="outcome kind 'casualties'")]


def test_every_command_with_plugins_refuses_a_stock_replacement(tmp_path, plugins):
    from typer.testing import CliRunner

    from sim.cli import app

    scn = str(write(tmp_path, MINI))
    cmds = {"validate": ["validate", scn], "sweep": ["sweep", scn, "--param", "alliances.pact.credibility=0.1:0.4"],
            "compare": ["compare", scn, "--b-set", "alliances.pact.credibility=0.9"],
            "backtest": ["backtest", scn, "--questions", str(tmp_path / "q.yaml")]}
    for cmd, args in cmds.items():
        with scoped():
            r = CliRunner().invoke(app, [*args, "--runs", "20", "--plugin", "tally_plugin"] if cmd != "validate"
                                   else [*args, "--plugin", "tally_plugin"])
            assert r.exit_code == 2, (cmd, r.output)
            assert r.stderr.splitlines() == [REFUSED.format(cmd=cmd, mod="tally_plugin", what="outcome kind 'casualties'")]
            assert sim.parts.registry().outcomes["casualties"].module == "sim.outcomes.kinds.casualties"
    with scoped():
        r = CliRunner().invoke(app, ["validate", scn, "--plugin", "tally_plugin", "--replace-rule"])
        assert r.exit_code == 0, r.output
        assert "sim validate: --plugin 'tally_plugin' replaces the stock outcome kind 'casualties' (--replace-rule)" in r.stderr


def test_the_python_api_refuses_a_stock_replacement_unless_asked(plugins):
    with scoped() as reg:
        stock = reg.rules["escalation"]["spells"]
        with pytest.raises(sim.InputError) as exc:
            sim.api.load_plugins(["calm_plugin"])
        assert str(exc.value) == ("sim: plugins: 'calm_plugin' registers rule 'escalation.spells' under the name of the "
                                  "stock one, which it would replace; pass replace_rules=True to run with it in place "
                                  "of the stock one, or register it under another name")
        assert exc.value.problems[0].mark.option == "plugins"
        assert reg.rules["escalation"]["spells"] is stock  # nothing of it stays registered
        notes = sim.api.load_plugins(["calm_plugin"], replace_rules=True)  # imported again, not from the cache
        assert notes == ["'calm_plugin' replaces the stock rule 'escalation.spells'"]
        assert reg.rules["escalation"]["spells"].module == "calm_plugin"
    assert sim.parts.registry().rules["escalation"]["spells"] is stock
