"""Writing the run folder: a full disk or a read-only folder is one clear line, the results
are still shown, nothing half-written stays behind, nothing earlier is touched; intervals
contain their point estimates."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.results import wilson

SIM = [sys.executable, "-m", "sim.cli"]


# ----------------------------------------------------------------------- intervals


def test_wilson_interval_contains_its_estimate_with_exact_ends():
    for n in (1, 2, 3, 7, 10, 100, 999, 10_000, 1_000_000):
        for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            if not 0 <= k <= n:
                continue
            lo, hi = wilson(k, n)
            p = k / n
            assert 0.0 <= lo <= p <= hi <= 1.0, (k, n, lo, hi)
    assert wilson(0, 10_000)[0] == 0.0  # was 1.08e-19, above the estimate
    assert wilson(10_000, 10_000)[1] == 1.0
    assert wilson(0, 10_000)[1] > 0 and wilson(10_000, 10_000)[0] < 1


def test_summary_intervals_contain_probabilities(tmp_path):
    out = tmp_path / "run"
    r = subprocess.run([*SIM, "run", "kyrgyz_tajik", "--runs", "300", "--months", "6", "--no-report", "--out", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    s = json.loads((out / "summary.json").read_text())
    zero = [o for o in s["outcomes"].values() if o["probability"] == 0]
    assert zero, "expected some outcome that never happens in 6 months"
    for o in s["outcomes"].values():
        lo, hi = o["ci95"]
        assert lo <= o["probability"] <= hi
    assert all(o["ci95"][0] == 0 for o in zero)


# --------------------------------------------------------------- real file systems


def _mount_tmpfs(where: Path, opts: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(where)], capture_output=True)
    return r.returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    """A 600 kB tmpfs (too small for a run folder with its report)."""
    mnt = tmp_path / "disk"
    if not _mount_tmpfs(mnt, "size=600k"):
        if os.environ.get("CI"):
            pytest.fail("cannot mount a tmpfs in CI (needs root)")
        pytest.skip("needs root to mount a small tmpfs")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.fixture
def read_only_disk(tmp_path):
    mnt = tmp_path / "ro"
    if not _mount_tmpfs(mnt, "size=1m,ro"):
        if os.environ.get("CI"):
            pytest.fail("cannot mount a tmpfs in CI (needs root)")
        pytest.skip("needs root to mount a read-only tmpfs")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def _no_temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".tmp" in p.name]


@pytest.mark.parametrize("as_json", [False, True])
def test_full_disk_is_one_line_with_results_shown(small_disk, as_json):
    earlier = small_disk / "earlier-run.txt"
    earlier.write_text("an earlier run's file\n")
    out = small_disk / "run"
    cmd = [*SIM, "run", "karabakh", "--runs", "400", "--months", "12", "--out", str(out)]
    r = subprocess.run(cmd + (["--json"] if as_json else []), capture_output=True, text=True)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith(f"sim run: cannot write to {out}: no space left on device (")
    _incomplete_or_gone(out, last)
    if as_json:
        summary = json.loads(r.stdout)
        assert summary["runs"] == 400 and summary["outcomes"]
    else:
        assert "Probability" in r.stdout and "95% interval" in r.stdout
        assert "Outputs:" not in r.stdout
    assert _no_temporaries(small_disk) == []
    assert earlier.read_text() == "an earlier run's file\n"


def _incomplete_or_gone(out: Path, message: str) -> None:
    """What a full disk leaves (sim.files.write_folder): the files written and a manifest saying the
    folder is incomplete, or, if not even that fitted, no folder; the message says which."""
    if "manifest.json marks the folder incomplete" in message:
        m = json.loads((out / "manifest.json").read_text())
        assert m["outputs_complete"] is False and "no space left on device" in m["outputs_error"]
        assert sorted(m["outputs_written"]) == sorted(p.name for p in out.iterdir() if p.name != "manifest.json")
    else:
        assert "the partly written folder is removed" in message
        assert not out.exists()


def test_read_only_out_is_one_line_before_the_run(read_only_disk):
    """A real read-only mount: --out is found unwritable before anything runs (exit 2); a disk
    that fills up or turns read-only during the run is the case above (results shown, exit 1)."""
    out = read_only_disk / "run"
    r = subprocess.run([*SIM, "run", "karabakh", "--runs", "200", "--months", "6", "--out", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.strip() == (f"sim run: --out: cannot write in {read_only_disk} (where {out} would be made): "
                                "read-only file system; choose a folder you can write to")
    assert r.stdout == ""


# ------------------------------------------------------------- injected failures


def test_failed_write_removes_its_temporary_file_and_keeps_the_old_file(tmp_path, monkeypatch):
    from sim import files as results

    target = tmp_path / "summary.json"
    target.write_text("old\n")
    real_fsync = os.fsync

    def full(fd):  # the data is written, then the disk turns out to be full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(results.os, "fsync", full)
    with pytest.raises(OSError):
        results.atomic_write(target, "new\n")
    monkeypatch.setattr(results.os, "fsync", real_fsync)
    assert target.read_text() == "old\n"
    assert _no_temporaries(tmp_path) == []


def test_disk_full_midway_through_the_report_in_process(tmp_path, monkeypatch):
    """Through the CLI in-process: the fourth file written fails with ENOSPC."""
    from sim import cli, results

    real = results.atomic_write
    calls = {"n": 0}

    def flaky(path, data):
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data)

    monkeypatch.setattr(results, "atomic_write", flaky)
    out = tmp_path / "run"
    r = CliRunner().invoke(cli.app, ["run", "karabakh", "--runs", "200", "--months", "6", "--no-report", "--out", str(out)])
    assert r.exit_code == 1, r.output
    assert f"sim run: cannot write to {out}: no space left on device" in r.output
    assert "Probability" in r.output
    assert _no_temporaries(tmp_path) == []
    # the files written before the failure are whole; the manifest says the folder is not
    assert json.loads((out / "summary.json").read_text())["runs"] == 200
    m = json.loads((out / "manifest.json").read_text())
    assert m["outputs_complete"] is False and m["complete"] is True
    assert sorted(m["outputs_written"]) == ["outcomes.csv", "scenario.resolved.yaml", "summary.json"]
    assert not (out / "timeseries.csv").exists()
