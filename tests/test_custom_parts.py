"""Custom rules everywhere: the worked example of docs/EXTENDING.md — a rule with its own
parameter, state, predicate and event, and an outcome kind, all defined outside the
package — runs in-process, on 2 worker processes and on a Dask LocalCluster with
identical results; what its state declares it shows appears, labelled, in the run's
timeseries and figures and on a game's situation screen, without touching another file;
`sim rerun` finds its module, or says what is missing."""

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
from sim.parts import registry, scoped
from sim.play.game import Game, continuations
from sim.play.situation import situation
from sim.play.terminal import render_situation
from sim.report.figures import chart_lines, write_figures

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


GAME = SCENARIO + """levers:
  aa:
    rest:
      description: Stand down at the front.
      effect: {set: {flashpoints.front.level: 1}}
      source: {assumption: "test"}
"""


def _summary(res) -> str:
    return json.dumps(sim.results._clean(res.summary()), sort_keys=True)


def _shown(res, folder: Path) -> tuple:
    """What a run shows of the weariness state: its timeseries columns, its figure (file
    bytes) and the labelled lines drawn in it."""
    ts = res.timeseries()
    cols = [c for c in ts.columns if c.endswith(".weariness")]
    folder.mkdir(parents=True, exist_ok=True)
    figs = write_figures(res, folder)
    shows = [sh for sh in res.shows if sh.chart == "weariness"]
    lines = [(label, values.round(6).tolist()) for _, ls in chart_lines(res, shows) for label, values in ls]
    return ts[cols], figs["weariness"].read_bytes(), lines


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
        # what the state declares it shows: identical, labelled, on every backend
        shown = [_shown(r, tmp_path / name) for r, name in ((local, "local"), (procs, "procs"), (dask, "dask"))]
        assert list(shown[0][0].columns) == ["aa.weariness", "bb.weariness", "cc.weariness", "dd.weariness"]
        assert shown[0][0]["aa.weariness"].max() > 0
        assert {label for label, _ in shown[0][2]} >= {"A's war-weariness", "B's war-weariness"}
        for other in shown[1:]:
            assert other[0].equals(shown[0][0]) and other[1] == shown[0][1] and other[2] == shown[0][2]
        # a game's forecasts (its continuations) on every backend show it the same way too
        game_scn = sim.load_scenario(write(tmp_path, GAME, "game.yaml"))
        g = Game(game_scn, ["aa"], seed=3, months=12, forecast_runs=100)
        g.play_turn([])
        conts = [continuations(game_scn, g.snapshots[1], 3, 1, runs=400, months=12, chunk_size=100, **kw)
                 for kw in ({"backend": "local"}, {"backend": "processes", "workers": 2, "oversubscribe": True},
                            {"backend": "dask", "workers": 2, "oversubscribe": True})]
        series = [c.timeseries()[["aa.weariness", "bb.weariness"]] for c in conts]
        assert series[0].equals(series[1]) and series[0].equals(series[2])


def test_a_custom_rules_state_shows_labelled_in_the_report_and_on_a_games_screen(tmp_path):
    """One code cell (the docs' example) and nothing else: its state is a timeseries column,
    a figure of the report with a line per side labelled by its phrase, an attribute of the
    Mesa agents, and a line of a game's situation screen."""
    with scoped():
        load_example()
        scn = sim.load_scenario(write(tmp_path, SCENARIO))
        res = sim.run(scn, runs=400, seed=2)
        ts, png, lines = _shown(res, tmp_path / "figs")
        assert ts["aa.weariness"].between(0, 1).all() and ts["aa.weariness"].max() > 0
        assert png.startswith(b"\x89PNG")
        labels = dict(lines)
        assert {"A's war-weariness", "B's war-weariness"} <= set(labels)
        sample = labels["A's war-weariness"]  # (k, H): the sampled runs' months, a band in the figure
        assert len(sample) >= 5 and max(map(max, sample)) > 0
        folder = sim.save(res, tmp_path / "run")
        assert (folder / "fig_weariness.png").exists()
        assert 'alt="weariness"' in (folder / "report.html").read_text(encoding="utf-8")

        g = Game(sim.load_scenario(write(tmp_path, GAME, "game.yaml")), ["aa"], seed=3, months=12, forecast_runs=50)
        for _ in range(3):
            g.play_turn([])
        assert "weariness" in g.track.frames
        sit = situation(g)
        (sec,) = [d for d in sit["declared"] if d["title"] == "War-weariness (0-1; at the start)"]
        rows = {r["label"]: r for r in sec["rows"]}
        assert set(rows) == {"A's war-weariness", "B's war-weariness"}  # the played state and the sides
        si = g.plan.index_of("state")
        assert rows["A's war-weariness"]["value"] == pytest.approx(float(g.world.st.weariness[0, si["aa"]]))
        assert rows["A's war-weariness"]["start"] == 0.0
        text = render_situation(sit)
        assert "War-weariness (0-1; at the start):  A's war-weariness" in text
        assert g.world.by_key["aa"].weariness.shape == (1,)
    assert "weariness" not in {sh.state for sh in registry().shows()}  # forgotten outside the scope


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
