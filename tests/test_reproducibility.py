"""Same scenario, seed and runs -> byte-identical results, whatever runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.manifests import COMPARED, compare_runs

from .simproc import CAP, wait_for

runner = CliRunner()


def _save(res, path):
    res.save(path)
    return path


def test_identical_across_workers_and_repeats(tmp_path):
    scn = sim.load_scenario("kyrgyz_tajik")
    folders = []
    for i, (w, backend) in enumerate([(1, "local"), (2, "processes"), (4, "processes"), (1, "local")]):
        res = sim.run(scn, runs=2400, seed=42, chunk_size=400, workers=w, backend=backend, months=18, oversubscribe=True)
        assert res.manifest["workers"] == w
        folders.append(_save(res, tmp_path / f"r{i}"))
    for f in folders[1:]:
        assert compare_runs(folders[0], f) == [], f


# 40 chunks on 2 workers: many chunks per worker, so every backend has to keep feeding
# its workers and merge far more chunks than it holds in flight.
MANY = ["--runs", "400", "--chunk-size", "10", "--months", "6", "--seed", "3", "--no-report"]


@pytest.fixture(scope="module")
def in_process(tmp_path_factory):
    out = tmp_path_factory.mktemp("local") / "run"
    r = runner.invoke(app, ["run", "karabakh", *MANY, "--backend", "local", "--out", str(out)])
    assert r.exit_code == 0, r.output
    return out


@pytest.fixture(scope="module")
def dask_scheduler(tmp_path_factory):
    """A real `dask scheduler` and two `dask worker` processes on 127.0.0.1, stopped after."""
    from distributed import Client

    d = tmp_path_factory.mktemp("dask")
    dask = str(Path(sys.executable).parent / "dask")
    info = d / "scheduler.json"
    log = open(d / "dask.log", "wb")  # noqa: SIM115 - closed below
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(info)], cwd=d, stdout=log, stderr=log)]
    try:
        assert wait_for(info.exists), (d / "dask.log").read_text()
        address = json.loads(info.read_text())["address"]
        for i in range(2):
            procs.append(subprocess.Popen([dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                                           "--no-nanny", "--no-dashboard", "--name", f"w{i}"],
                                          cwd=d, stdout=log, stderr=log))
        with Client(address, timeout="60s") as c:
            c.wait_for_workers(2, timeout=CAP)
        yield address
    finally:
        for p in reversed(procs):  # the workers first: without a scheduler they retry for a while
            p.terminate()
            try:
                p.wait(timeout=CAP)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()


@pytest.mark.parametrize("backend", ["processes", "dask-local", "dask-scheduler"])
def test_many_chunks_per_worker_identical_on_every_backend(backend, in_process, tmp_path, request):
    how = {
        "processes": ["--backend", "processes", "--workers", "2", "--oversubscribe"],
        "dask-local": ["--backend", "dask", "--workers", "2", "--oversubscribe"],
        "dask-scheduler": ["--scheduler", request.getfixturevalue("dask_scheduler")] if backend == "dask-scheduler" else [],
    }[backend]
    out = tmp_path / "run"
    r = runner.invoke(app, ["run", "karabakh", *MANY, *how, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "Interrupted" not in r.output
    m = json.loads((out / "manifest.json").read_text())
    assert m["complete"] is True and m["runs_completed"] == 400 and m["chunks"] == 40 and m["workers"] == 2
    assert m["backend"] == backend.split("-")[0]
    if m["backend"] == "dask":
        assert m["scheduler"].startswith("tcp://127.0.0.1:")
    assert compare_runs(in_process, out) == []


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
