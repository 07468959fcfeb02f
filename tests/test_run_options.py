"""`sim run` options: checked before anything is created, one line each; workers capped at
the cores; a run that comes back short without a reason is an internal error."""

from __future__ import annotations

import json
import os
import subprocess
import warnings

import pytest
from typer.testing import CliRunner

import sim
import sim.runner
from sim.cli import app

from .simproc import SIM

runner = CliRunner()


class DeadScheduler:
    """Stands in for distributed.Client: records its arguments, then fails to connect."""

    calls: list[tuple[tuple, dict]] = []

    def __init__(self, *args, **kwargs):
        DeadScheduler.calls.append((args, kwargs))
        raise OSError(f"Timed out trying to connect to {args[0]} after {kwargs.get('timeout')} s")


@pytest.fixture
def dead_scheduler(monkeypatch):
    import distributed

    DeadScheduler.calls = []
    monkeypatch.setattr(distributed, "Client", DeadScheduler)
    return DeadScheduler


REJECTED = [
    (["--seed", "-1"], "sim run: --seed: must be at least 0 (got -1)"),
    (["--seed", "1.5"], "sim run: --seed: must be a whole number (got '1.5')"),
    (["--seed", str(2**63)], f"sim run: --seed: must be at most {2**63 - 1} (got {2**63})"),
    (["--backend", "nope"], "sim run: --backend: must be auto, local, processes or dask (got 'nope')"),
    (["--precision", "float16"], "sim run: --precision: must be float32 or float64 (got 'float16')"),
    (["--scheduler", "tcp://127.0.0.1:1"],
     "sim run: --scheduler: cannot connect to a Dask scheduler at tcp://127.0.0.1:1 "
     "(OSError: Timed out trying to connect to tcp://127.0.0.1:1 after 5 s); is `dask scheduler` running there?"),
]


@pytest.mark.parametrize("args, message", REJECTED, ids=[" ".join(a) for a, _ in REJECTED])
def test_bad_options_are_one_line_and_create_nothing(mini_path, tmp_path, monkeypatch, dead_scheduler, args, message):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "new"
    r = runner.invoke(app, ["run", str(mini_path), "--runs", "20", *args, "--out", str(out)])
    assert r.exit_code == 2, r.output
    assert r.output.strip() == message
    assert not out.exists()
    r = runner.invoke(app, ["run", str(mini_path), "--runs", "20", *args])  # the default folder
    assert r.exit_code == 2 and not (tmp_path / "outputs").exists()


def test_the_library_names_its_own_arguments(mini, dead_scheduler):
    cases = [({"seed": -1}, "seed: must be at least 0 (got -1)"),
             ({"seed": 1.5}, "seed: must be a whole number (got 1.5)"),
             ({"dtype": "float16"}, "dtype: must be float32 or float64 (got 'float16')"),
             ({"backend": "nope"}, "backend: must be auto, local, processes or dask (got 'nope')"),
             ({"runs": 0}, "runs: must be at least 1 (got 0)"),
             ({"chunk_size": 0}, "chunk_size: must be at least 1 (got 0)"),
             ({"scheduler": "tcp://127.0.0.1:1"}, "scheduler: cannot connect to a Dask scheduler at tcp://127.0.0.1:1")]
    for kwargs, message in cases:
        with pytest.raises(sim.InputError) as ei:
            sim.run(mini, **{"runs": 10, **kwargs})
        assert message in str(ei.value) and "--" not in str(ei.value), str(ei.value)


def test_the_scheduler_connection_has_a_short_timeout(mini, dead_scheduler):
    with pytest.raises(sim.InputError):
        sim.run(mini, runs=10, scheduler="tcp://127.0.0.1:1")
    (args, kwargs), = dead_scheduler.calls
    assert args == ("tcp://127.0.0.1:1",)
    assert 0 < float(kwargs["timeout"]) <= 10  # seconds; dask's default is 30 s


def test_a_dead_scheduler_is_one_line_through_the_real_command(mini_path, tmp_path):
    out = tmp_path / "new"
    p = subprocess.run([SIM, "run", str(mini_path), "--runs", "20", "--scheduler", "tcp://127.0.0.1:1", "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sim run: --scheduler: cannot connect to a Dask scheduler at tcp://127.0.0.1:1 ")
    assert "Traceback" not in p.stderr and not out.exists()


@pytest.fixture
def one_core(monkeypatch):
    """The machine, as far as sim can tell, has one core."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)


def test_workers_are_capped_at_the_cores_available(mini_path, tmp_path, one_core):
    out = tmp_path / "run"
    r = runner.invoke(app, ["run", str(mini_path), "--runs", "400", "--chunk-size", "100", "--workers", "3",
                            "--out", str(out), "--no-report"])
    assert r.exit_code == 0, r.output
    assert r.stderr.strip() == "sim run: --workers: 3 is more than the 1 core available; using 1 (--oversubscribe to use more)"
    m = json.loads((out / "manifest.json").read_text())
    assert m["workers_requested"] == 3 and m["workers"] == 1 and m["complete"] is True


def test_oversubscribe_uses_the_workers_asked_for(mini_path, tmp_path, one_core):
    out = tmp_path / "run"
    r = runner.invoke(app, ["run", str(mini_path), "--runs", "400", "--chunk-size", "100", "--workers", "2",
                            "--oversubscribe", "--out", str(out), "--no-report"])
    assert r.exit_code == 0, r.output
    assert r.stderr == ""
    m = json.loads((out / "manifest.json").read_text())
    assert m["workers_requested"] == 2 and m["workers"] == 2 and m["backend"] == "processes"


def test_the_library_warns_when_it_caps_workers(mini, one_core):
    with pytest.warns(sim.runner.WorkersCapped, match=r"workers=5 is more than the 1 core available; using 1 \(oversubscribe=True"):
        res = sim.run(mini, runs=300, chunk_size=100, workers=5)
    assert res.manifest["workers"] == 1 and res.manifest["workers_requested"] == 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sim.run(mini, runs=300, chunk_size=100).manifest["workers_requested"] is None


def test_a_backend_that_loses_chunks_is_an_internal_error(mini, monkeypatch):
    """Fewer runs than asked for with nothing that stopped the run is a bug, never a quiet complete=False."""

    def lossy(self, fn, tasks):
        for t in tasks[:-1]:
            yield fn(t)

    monkeypatch.setattr(sim.runner.InProcess, "run", lossy)
    with pytest.raises(RuntimeError, match=r"internal error: .*4 of 5 chunks"):
        sim.run(mini, runs=500, chunk_size=100, workers=1)
