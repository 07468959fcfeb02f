"""Nothing is lost: interrupts, worker failures, atomic files, no overwriting."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest

import sim
from sim.results import atomic_write
from sim.runner import ChunkFailed

from .simproc import SIM, SimProcess, gone, wait_for


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_keeps_finished_chunks(tmp_path, workers):
    """A real SIGINT once the progress bar shows finished runs: those runs are saved, marked."""
    out = tmp_path / "run"
    proc = SimProcess(["run", "karabakh", "--runs", "400000", "--months", "12", "--workers", workers,
                       "--oversubscribe", "--chunk-size", "500", "--out", str(out), "--no-report"], tmp_path)
    seen = proc.wait_runs(500)
    children = proc.children()
    proc.signal(signal.SIGINT)
    rc, _, stderr = proc.finish()
    assert rc == 130, stderr
    assert "Interrupted:" in stderr and "Traceback" not in stderr and "leaked semaphore" not in stderr
    m = json.loads((out / "manifest.json").read_text())
    assert m["complete"] is False and m["stopped_by"] == "interrupt"
    assert seen <= m["runs_completed"] < 400000 and m["runs_completed"] % 500 == 0  # whole chunks only
    s = json.loads((out / "summary.json").read_text())
    assert s["complete"] is False and s["runs"] == m["runs_completed"]
    for f in ("outcomes.csv", "timeseries.csv", "scenario.resolved.yaml"):
        assert (out / f).is_file(), f
    assert not list(out.glob(".*tmp*"))  # no temporary files left behind
    assert wait_for(lambda: all(gone(c) for c in children)), [c for c in children if not gone(c)]


def test_a_failing_chunk_is_one_clear_error_and_keeps_the_rest(tmp_path, monkeypatch):
    out = tmp_path / "f"
    env = {**os.environ, "SIM_FAULT_CHUNK": "2"}
    p = subprocess.run([SIM, "run", "karabakh", "--runs", "8000", "--workers", "2", "--oversubscribe", "--out", str(out)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 1
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert lines[0] == (
        "sim run: chunk 2 (replicates 4000-5999) of scenario 'karabakh' failed: "
        "RuntimeError: fault injected by SIM_FAULT_CHUNK (run with --debug for the traceback)"
    )
    assert "Traceback" not in p.stderr
    m = json.loads((out / "manifest.json").read_text())
    # chunks finished and merged in order before the failure are kept (0, 1 or 2 of them)
    assert m["complete"] is False and "chunk 2" in m["stopped"] and m["runs_completed"] in (0, 2000, 4000)
    assert m["stopped_by"] == "chunk-failed"
    # in-process: the API raises with the partial results attached
    monkeypatch.setenv("SIM_FAULT_CHUNK", "1")
    with pytest.raises(ChunkFailed) as ei:
        sim.run("karabakh", runs=3000, seed=1, chunk_size=1000, workers=1)
    assert ei.value.partial.runs == 1000 and ei.value.partial.complete is False
    assert ei.value.partial.manifest["stopped_by"] == "chunk-failed"


def test_atomic_write_leaves_whole_files_only(tmp_path):
    target = tmp_path / "a.json"
    atomic_write(target, "first")
    atomic_write(target, "second")
    assert target.read_text() == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_runs_never_overwrite_each_other(tmp_path, mini):
    from sim.api import default_output_dir

    res = sim.run(mini, runs=50, seed=1)
    a = default_output_dir(res, tmp_path)
    b = default_output_dir(res, tmp_path)
    assert a != b and a.parent == b.parent
