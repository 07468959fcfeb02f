"""Same scenario, seed and runs -> byte-identical results, whatever runs them."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import sim
from sim.api import COMPARED, compare_runs
from sim.cli import app

runner = CliRunner()


def _save(res, path):
    res.save(path)
    return path


def test_identical_across_workers_and_repeats(tmp_path):
    scn = sim.load_scenario("kyrgyz_tajik")
    folders = []
    for i, (w, backend) in enumerate([(1, "local"), (2, "processes"), (4, "processes"), (1, "local")]):
        res = sim.run(scn, runs=2400, seed=42, chunk_size=400, workers=w, backend=backend, months=18)
        assert res.manifest["workers"] == w
        folders.append(_save(res, tmp_path / f"r{i}"))
    for f in folders[1:]:
        assert compare_runs(folders[0], f) == [], f


@pytest.mark.slow
def test_identical_on_a_dask_local_cluster(tmp_path):
    scn = sim.load_scenario("karabakh")
    local = _save(sim.run(scn, runs=1200, seed=7, chunk_size=300, workers=1, months=12), tmp_path / "local")
    dask = sim.run(scn, runs=1200, seed=7, chunk_size=300, workers=2, months=12, backend="dask")
    assert dask.manifest["backend"] == "dask" and dask.manifest["scheduler"].startswith("tcp://")
    assert compare_runs(local, _save(dask, tmp_path / "dask")) == []


def test_rerun_reproduces_and_refuses_changed_inputs(tmp_path, mini_path):
    first = tmp_path / "first"
    r = runner.invoke(app, ["run", str(mini_path), "--runs", "500", "--seed", "9", "--out", str(first), "--no-report"])
    assert r.exit_code == 0
    r = runner.invoke(app, ["rerun", str(first / "manifest.json"), "--out", str(tmp_path / "again")])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("Reproduced: summary.json, outcomes.csv, timeseries.csv are identical")
    for f in COMPARED:
        assert (first / f).read_bytes() == (tmp_path / "again" / f).read_bytes()
    # a changed resolved scenario is refused unless forced
    resolved = first / "scenario.resolved.yaml"
    resolved.write_text(resolved.read_text().replace("credibility: 0.3", "credibility: 0.31"))
    r = runner.invoke(app, ["rerun", str(first)])
    assert r.exit_code == 2
    assert "scenario.resolved.yaml has changed since the run" in r.output and "--force" in r.output
    r = runner.invoke(app, ["rerun", str(first), "--force", "--out", str(tmp_path / "forced")])
    assert r.exit_code == 1 and "Results differ" in r.output
    # another sim version is refused too
    m = json.loads((first / "manifest.json").read_text())
    m["versions"]["sim"] = "0.0.1"
    (first / "manifest.json").write_text(json.dumps(m))
    r = runner.invoke(app, ["rerun", str(first)])
    assert r.exit_code == 2 and "made by sim 0.0.1" in r.output


def test_rerun_of_something_that_is_not_a_run(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    r = runner.invoke(app, ["rerun", str(tmp_path)])
    assert r.exit_code == 2 and "not a run manifest (invalid JSON" in r.output
    r = runner.invoke(app, ["rerun", str(tmp_path / "nope")])
    assert r.exit_code == 2 and "no such manifest" in r.output
