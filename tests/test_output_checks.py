"""Where results go and how big a run is are checked before the run, not after it.

* ``--out`` on a read-only or full disk (and, without ``--out``, ``outputs/`` in a folder
  that cannot be written) is one line, exit 2, before anything runs. Tests run as root,
  for whom permissions do not stop writes, so the fault is injected at the write layer
  (:func:`sim.files.atomic_write` raising ``EROFS`` / ``ENOSPC``).
* ``sim story --out`` is written as ``sim run`` writes its folder: a disk that refuses
  while the story is written is one line (exit 1), not a traceback.
* A run too large for this machine is refused with the time, memory and disk it would
  take; a large one is started with those figures (:mod:`sim.budget`). The figures come
  from a calibration run; no test asserts how long anything takes.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sim
import sim.files
from sim import budget
from sim.cli import app

from .conftest import MINI, write

runner = CliRunner()


REAL_WRITE = sim.files.atomic_write


def refuse_writes(monkeypatch, code: int, *, probe_too: bool = True) -> None:
    """Make the write layer fail as a read-only (EROFS) or full (ENOSPC) disk does
    (with ``probe_too=False`` only after the check before the run: the disk turns read-only)."""
    real = REAL_WRITE

    def atomic_write(path, data):
        if probe_too or not Path(path).name.startswith(".sim-write-test"):
            raise OSError(code, {errno.EROFS: "Read-only file system", errno.ENOSPC: "No space left on device"}[code])
        return real(path, data)

    monkeypatch.setattr(sim.files, "atomic_write", atomic_write)
    monkeypatch.setattr(sim.results, "atomic_write", atomic_write)


@pytest.mark.parametrize("code, reason", [(errno.EROFS, "read-only file system"),
                                          (errno.ENOSPC, "no space left on device")])
def test_run_out_on_a_disk_that_refuses_is_one_line_before_the_run(code, reason, mini_path, tmp_path, monkeypatch):
    refuse_writes(monkeypatch, code)
    out = tmp_path / "run"
    r = runner.invoke(app, ["run", str(mini_path), "--runs", "50", "--out", str(out)])
    assert r.exit_code == 2
    assert r.output.strip() == (f"sim run: --out: cannot write in {tmp_path} (where {out} would be made): {reason}; "
                                "choose a folder you can write to")
    assert not out.exists() and list(tmp_path.iterdir()) == [mini_path]  # nothing ran, nothing left


def test_without_out_the_outputs_folder_is_checked_too(mini_path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    refuse_writes(monkeypatch, errno.EROFS)
    r = runner.invoke(app, ["run", str(mini_path), "--runs", "50"])
    assert r.exit_code == 2
    assert r.output.strip() == (f"sim run: --out: cannot write in {tmp_path} (where outputs would be made): read-only "
                                "file system; choose a folder you can write to")


def test_an_empty_out_folder_that_cannot_be_written(mini_path, tmp_path, monkeypatch):
    out = tmp_path / "empty"
    out.mkdir()
    refuse_writes(monkeypatch, errno.EROFS)
    r = runner.invoke(app, ["run", str(mini_path), "--runs", "50", "--out", str(out)])
    assert r.exit_code == 2
    assert r.output.strip() == (f"sim run: --out: cannot write in {out}: read-only file system; choose a folder you "
                                "can write to")


def test_story_out_read_only_before_and_while_writing(mini_path, tmp_path, monkeypatch):
    out = tmp_path / "story"
    refuse_writes(monkeypatch, errno.EROFS)
    r = runner.invoke(app, ["story", str(mini_path), "--out", str(out)])
    assert r.exit_code == 2
    assert r.output.strip() == (f"sim story: --out: cannot write in {tmp_path} (where {out} would be made): read-only "
                                "file system; choose a folder you can write to")
    # the disk turns read-only after the check: the story is told, then one line says it could not be saved
    refuse_writes(monkeypatch, errno.EROFS, probe_too=False)
    r = runner.invoke(app, ["story", str(mini_path), "--out", str(out)])
    assert r.exit_code == 1
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert r.output.strip().splitlines()[-1] == f"sim story: cannot write to {out}: read-only file system"
    assert "Traceback" not in r.output


def test_an_absurd_run_is_refused_with_what_it_would_take(mini_path):
    r = runner.invoke(app, ["run", str(mini_path), "--runs", str(10**15)])
    assert r.exit_code == 2
    line = r.output.strip()
    assert line.startswith("sim run: --runs: 1,000,000,000,000,000 runs x 24 months would take about ")
    assert "replicate-months a second per worker, on 4,000 runs of this scenario) and about " in line
    assert line.endswith("MB of memory per process: that is not a run that finishes here; use fewer --runs, "
                         "--ci-halfwidth H to stop once every interval is within +/- H, or a Dask cluster "
                         "(--scheduler tcp://HOST:8786)")
    assert len(line.splitlines()) == 1


def test_rows_that_would_not_fit_on_the_disk_are_refused(mini_path, monkeypatch):
    pytest.importorskip("pyarrow")
    monkeypatch.setattr(budget.shutil, "disk_usage", lambda p: type("U", (), {"free": 1_000_000})())
    monkeypatch.setattr(budget, "REFUSE_S", float("inf"))
    r = runner.invoke(app, ["run", str(mini_path), "--runs", "10000000", "--replicates"])
    assert r.exit_code == 2
    assert "; replicates.parquet would be about " in r.output and "(1.0 MB free): the rows would not fit on the disk" \
        in r.output


def test_trajectories_that_would_not_fit_on_the_disk_are_refused(mini_path, monkeypatch):
    """--trajectories (every run's months: far more rows than --replicates) is estimated too."""
    pytest.importorskip("pyarrow")
    monkeypatch.setattr(budget.shutil, "disk_usage", lambda p: type("U", (), {"free": 1_000_000})())
    monkeypatch.setattr(budget, "REFUSE_S", float("inf"))
    r = runner.invoke(app, ["run", str(mini_path), "--runs", "10000000", "--trajectories"])
    assert r.exit_code == 2
    assert "; trajectories.parquet would be about " in r.output
    assert "(1.0 MB free): the rows would not fit on the disk; use fewer --runs, or leave out --trajectories" \
        in r.output


def test_a_large_run_starts_with_its_estimate(mini_path, tmp_path, monkeypatch):
    """The policy: above WARN_S the run starts with the figures on one line (a fixed estimate here)."""
    fixed = budget.Estimate(runs=50, months=24, workers=2, rate=1e6, seconds=3 * 3600, memory_mb=300, calibrated_on=4000)
    monkeypatch.setattr(budget, "CALIBRATE_ABOVE", 0)
    monkeypatch.setattr(budget, "estimate", lambda *a, **k: fixed)
    r = runner.invoke(app, ["run", str(mini_path), "--runs", "50", "--no-report", "--out", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    assert ("sim run: 50 runs x 24 months would take about 3.0 hours with 2 workers (measured just now: 1,000,000 "
            "replicate-months a second per worker, on 4,000 runs of this scenario) and about 300 MB of memory per "
            "process; Ctrl-C stops it and keeps the runs finished") in r.output
    assert (tmp_path / "run" / "summary.json").is_file()


def test_the_estimate_is_the_calibration_rate_scaled(tmp_path):
    scn = sim.load_scenario(write(tmp_path, MINI))
    est = budget.estimate(scn, 10**9, workers=2)
    assert est.rate > 0 and est.months == 24 and est.workers == 2
    assert est.seconds == pytest.approx(10**9 * 24 / (est.rate * 2))
    assert est.memory_mb > 10**9 / 2000 * budget.BYTES_PER_CHUNK / 1e6  # the per-chunk bookkeeping at least


def test_tasks_are_made_as_needed():
    """A run of ten billion replicates is prepared at once: its chunk tasks are not a list."""
    from sim import montecarlo
    from sim.runner import Tasks

    scn = sim.load_scenario("karabakh")
    job = montecarlo.prepare(scn, runs=10**10)
    assert isinstance(job.tasks, Tasks) and len(job.tasks) == 5_000_000
    last = job.tasks[-1]
    assert (last.chunk, last.offset, last.n) == (4_999_999, 10**10 - 2000, 2000)
    small = montecarlo.prepare(scn, runs=4500, chunk_size=2000).tasks
    assert [(t.chunk, t.offset, t.n) for t in small] == [(0, 0, 2000), (1, 2000, 2000), (2, 4000, 500)]
    assert [t.chunk for t in small[1:]] == [1, 2]
    with pytest.raises(IndexError):
        small[3]
