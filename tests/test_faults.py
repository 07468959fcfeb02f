"""Faults while writing: a disk that fills up or is read-only, runs killed with SIGKILL or
stopped with SIGTERM.

The tests run as root, so permissions never stop a write: the faults are injected at the
project's write layer instead (:mod:`sim.files`, pyarrow's Parquet writer), as the system
raises them -- ``OSError`` with ``ENOSPC`` or ``EROFS``. :class:`Disk` makes the folder a
test writes to behave as a small disk: a file whose data does not fit fails when it is
flushed (``fsync``), after its temporary file was created, as on a real full disk.
test_outputs.py mounts a real small tmpfs where it can.

Each assertion is on what is left on disk and what was printed, never on time.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim import files
from sim.cli import app

from .conftest import MINI, write
from .simproc import SimProcess

runner = CliRunner()


class Disk:
    """Writes under ``root`` fail as the system fails them.

    ``capacity``: bytes the folder may hold; a file flushed (``os.fsync``) while the
    folder holds more fails with ``ENOSPC`` -- the temporary file is there, its data
    written, as on a real full disk. ``fail``: a function of the file's name (and how many
    files of that name were flushed before) saying whether this flush fails, with
    ``errno``. ``read_only``: opening a file for writing under ``root`` fails with
    ``EROFS``, as on a read-only file system; ``"after the check"``: except the probe
    a command writes before it runs (:func:`sim.outputs.check_writable`), as when the disk
    turns read-only during a run.
    """

    def __init__(self, root: Path, monkeypatch, *, capacity: int | None = None, fail=None, err: int = errno.ENOSPC,
                 read_only: bool | str = False):
        self.root, self.capacity, self.fail, self.err = Path(root).resolve(), capacity, fail, err
        self.flushed: dict[str, int] = {}
        real_fsync, real_open = os.fsync, open

        def fsync(fd):
            path = Path(os.readlink(f"/proc/self/fd/{fd}"))
            if path.is_relative_to(self.root):
                name = _final_name(path.name)
                seen = self.flushed.get(name, 0)
                self.flushed[name] = seen + 1
                if self.capacity is not None and self.used() > self.capacity:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                if self.fail is not None and self.fail(name, seen):
                    raise OSError(self.err, os.strerror(self.err))
            return real_fsync(fd)

        def opener(file, mode="r", *args, **kw):
            if read_only and any(c in mode for c in "wax+") and Path(file).resolve().is_relative_to(self.root) \
                    and not (read_only == "after the check" and ".sim-write-test-" in Path(file).name):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(file))
            return real_open(file, mode, *args, **kw)

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(files, "open", opener, raising=False)

    def used(self) -> int:
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())


def _final_name(tmp_name: str) -> str:
    """``.summary.json.1234.tmp`` -> ``summary.json``."""
    if tmp_name.startswith(".") and tmp_name.endswith(".tmp"):
        return tmp_name[1:].rsplit(".", 2)[0]
    return tmp_name


def temporaries(folder: Path) -> list[Path]:
    return [p for p in Path(folder).rglob("*") if p.name.endswith((".tmp", ".partial"))]


@pytest.fixture
def mini_file(tmp_path):
    return write(tmp_path, MINI, "mini.yaml")


RUN = ["--runs", "400", "--months", "6", "--chunk-size", "100", "--seed", "3"]
SWEEP = ["--method", "lhs", "--samples", "8", "--runs", "50", "--months", "6", "--seed", "3", "--chunk-size", "100",
         "--param", "states.aa.resolve=0.3:0.9", "--param", "alliances.pact.credibility=0.1:0.5"]


def sizes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in folder.iterdir()}


# ------------------------------------------------------------------ the write layer


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EROFS])
def test_atomic_write_and_copy_keep_the_old_file_and_leave_no_temporary(tmp_path, monkeypatch, err):
    target = tmp_path / "data.csv"
    target.write_text("old\n")
    src = tmp_path / "src" / "big.bin"
    src.parent.mkdir()
    src.write_bytes(b"x" * 100_000)
    Disk(tmp_path, monkeypatch, fail=lambda name, seen: name == "data.csv", err=err)
    for write_it in (lambda: files.atomic_write(target, "new\n"), lambda: files.atomic_copy(src, target)):
        with pytest.raises(OSError) as ei:
            write_it()
        assert ei.value.errno == err
        assert target.read_text() == "old\n"
        assert temporaries(tmp_path) == []


def test_the_reason_is_the_systems_words_also_through_pyarrow():
    wrapped = OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] No space left on device")
    assert str(files.OutputError.from_os(Path("x"), wrapped)) == "cannot write to x: no space left on device"


# ------------------------------------------------------------------ sim run, sim sweep


def test_a_full_disk_while_saving_a_run_keeps_what_was_written_with_a_manifest_saying_so(tmp_path, mini_file,
                                                                                        monkeypatch):
    whole = tmp_path / "whole"
    r = runner.invoke(app, ["run", str(mini_file), *RUN, "--replicates", "--no-report", "--out", str(whole)])
    assert r.exit_code == 0, r.output
    room = sizes(whole)
    rest = sum(v for k, v in room.items() if k not in ("replicates.parquet", "manifest.json"))
    assert room["replicates.parquet"] > 3 * room["manifest.json"]  # the manifest fits where the rows do not

    disk = tmp_path / "disk"
    disk.mkdir()
    (disk / "earlier.txt").write_text("an earlier file\n")
    Disk(disk, monkeypatch, capacity=rest + 16 + 2 * room["manifest.json"])
    out = disk / "run"
    r = runner.invoke(app, ["run", str(mini_file), *RUN, "--replicates", "--no-report", "--out", str(out)])
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output and "Probability" in r.output  # the results are shown
    assert r.output.strip().splitlines()[-1] == (
        f"sim run: cannot write to {out}: no space left on device (the files written before it are kept; "
        "manifest.json marks the folder incomplete)")
    assert temporaries(disk) == []
    m = json.loads((out / "manifest.json").read_text())
    assert m["outputs_complete"] is False and m["complete"] is True and m["runs_completed"] == 400
    assert "no space left on device" in m["outputs_error"]
    assert sorted(m["outputs_written"]) == sorted(p.name for p in out.iterdir() if p.name != "manifest.json")
    assert "replicates.parquet" not in m["outputs_written"]
    assert json.loads((out / "summary.json").read_text())["runs"] == 400  # whole
    assert (disk / "earlier.txt").read_text() == "an earlier file\n"


def test_a_disk_too_full_even_for_the_manifest_leaves_no_folder(tmp_path, mini_file, monkeypatch):
    whole = tmp_path / "whole"
    r = runner.invoke(app, ["run", str(mini_file), *RUN, "--no-report", "--out", str(whole)])
    assert r.exit_code == 0, r.output
    room = sizes(whole)
    assert room["manifest.json"] > room["outcomes.csv"] > 64
    disk = tmp_path / "disk"
    disk.mkdir()
    (disk / "earlier.txt").write_text("an earlier file\n")
    # room for the first two files, then neither the third nor a manifest
    Disk(disk, monkeypatch, capacity=room["scenario.resolved.yaml"] + room["summary.json"] + 16 + 32)
    out = disk / "run"
    r = runner.invoke(app, ["run", str(mini_file), *RUN, "--no-report", "--out", str(out)])
    assert r.exit_code == 1, r.output
    assert r.output.strip().splitlines()[-1] == (
        f"sim run: cannot write to {out}: no space left on device (the partly written folder is removed: not even "
        "its manifest could be written)")
    assert not out.exists() and [p.name for p in disk.iterdir()] == ["earlier.txt"]
    assert (disk / "earlier.txt").read_text() == "an earlier file\n"


def test_a_full_disk_while_saving_a_sweep_keeps_what_was_written_with_a_manifest(tmp_path, mini_file, monkeypatch):
    disk = tmp_path / "disk"
    disk.mkdir()
    Disk(disk, monkeypatch, fail=lambda name, seen: name == "replicates.parquet")
    out = disk / "sweep"
    r = runner.invoke(app, ["sweep", str(mini_file), *SWEEP, "--replicates", "--no-report", "--out", str(out)])
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output
    assert "lhs sweep: 8 parameter sets × 50 runs" in r.output and "Outputs:" not in r.output  # the results are shown
    assert r.output.strip().splitlines()[-1] == (
        f"sim sweep: cannot write to {out}: no space left on device (the files written before it are kept; "
        "manifest.json marks the folder incomplete)")
    assert temporaries(disk) == []
    m = json.loads((out / "manifest.json").read_text())
    assert m["outputs_complete"] is False and "sets.csv" in m["outputs_written"]
    assert not (out / "replicates.parquet").exists()


def test_a_folder_that_turns_read_only_during_a_sweep_is_one_line(tmp_path, mini_file, monkeypatch):
    # read-only from the start is refused before the sweep runs (tests/test_output_checks.py)
    disk = tmp_path / "ro"
    Disk(disk, monkeypatch, read_only="after the check")
    disk.mkdir()
    out = disk / "sweep"
    r = runner.invoke(app, ["sweep", str(mini_file), *SWEEP, "--no-report", "--out", str(out)])
    assert r.exit_code == 1, r.output
    assert r.output.strip().splitlines()[-1].startswith(f"sim sweep: cannot write to {out}: read-only file system")
    assert "Traceback" not in r.output
    assert temporaries(disk) == [] and not (out / "manifest.json").exists()


def test_a_full_disk_while_saving_a_comparison_is_handled_the_same_way(tmp_path, mini_file, monkeypatch):
    disk = tmp_path / "disk"
    disk.mkdir()
    Disk(disk, monkeypatch, fail=lambda name, seen: name == "b.resolved.yaml")
    out = disk / "cmp"
    r = runner.invoke(app, ["compare", str(mini_file), "--b-set", "alliances.pact.credibility=0.9", "--runs", "200",
                            "--months", "6", "--no-report", "--out", str(out)])
    assert r.exit_code == 1, r.output
    assert r.output.strip().splitlines()[-1] == (
        f"sim compare: cannot write to {out}: no space left on device (the files written before it are kept; "
        "manifest.json marks the folder incomplete)")
    m = json.loads((out / "manifest.json").read_text())
    assert m["outputs_complete"] is False and "a.resolved.yaml" in m["outputs_written"]
    assert temporaries(disk) == []


# ------------------------------------------------------------------ Parquet streaming


class FailingWriter:
    """pyarrow's ParquetWriter, failing as the system would: ``at`` the n-th row group (or on
    opening the file, ``at=0``) with ``err``."""

    def __init__(self, at: int, err: int = errno.ENOSPC):
        import pyarrow.parquet as pq

        real, test = pq.ParquetWriter, self
        self.at, self.err = at, err

        class Writer(real):
            def __init__(self, where, *a, **kw):
                if test.at == 0:
                    raise OSError(test.err, f"Failed to open local file '{where}'. Detail: [errno {test.err}] "
                                  f"{os.strerror(test.err)}")
                super().__init__(where, *a, **kw)
                self.groups = 0

            def write_table(self, table, *a, **kw):
                self.groups += 1
                if self.groups >= test.at:
                    raise OSError(test.err, f"Error writing bytes to file. Detail: [errno {test.err}] "
                                  f"{os.strerror(test.err)}")
                return super().write_table(table, *a, **kw)

        self.cls = Writer


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_full_disk_while_streaming_the_rows_is_one_line_and_the_rest_is_saved(tmp_path, mini_file, monkeypatch,
                                                                                 command):
    import pyarrow.parquet as pq

    monkeypatch.setattr(pq, "ParquetWriter", FailingWriter(at=2).cls)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "systmp"))
    (tmp_path / "systmp").mkdir()
    monkeypatch.setattr("tempfile.tempdir", None)
    out = tmp_path / "out"
    args = RUN if command == "run" else SWEEP
    r = runner.invoke(app, [command, str(mini_file), *args, "--replicates", "--no-report", "--out", str(out)])
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output
    last = r.output.strip().splitlines()[-1]
    assert last.startswith(f"sim {command}: --replicates: cannot write to {tmp_path / 'systmp'}/sim-replicates-")
    assert last.endswith(f"/replicates.parquet: no space left on device; the rest of the {command} is saved in "
                         f"{out}/ without replicates.parquet")
    m = json.loads((out / "manifest.json").read_text())
    assert m["complete"] is True and "no space left on device" in m["replicates_error"]
    assert "outputs_complete" not in m and not (out / "replicates.parquet").exists()
    assert (out / "summary.json").is_file()
    assert list((tmp_path / "systmp").iterdir()) == []  # the scratch folder is gone, its partial file too


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EROFS])
def test_the_library_raises_the_write_error_when_the_rows_are_asked_for(tmp_path, mini, monkeypatch, err):
    import pyarrow.parquet as pq

    monkeypatch.setattr(pq, "ParquetWriter", FailingWriter(at=0 if err == errno.EROFS else 3, err=err).cls)
    path = tmp_path / "rows" / "r.parquet"
    res = sim.run(mini, runs=500, seed=1, chunk_size=100, months=6, replicates=path)
    assert res.complete and res.runs == 500  # the run itself went on
    with pytest.raises(files.OutputError, match=f"cannot write to {path}: {os.strerror(err).lower()}"):
        res.replicates()
    assert temporaries(tmp_path) == [] and not path.exists()


# ------------------------------------------------------------------ sim play


MOVES = "turns:\n  1: [armenia.appeal_to_csto]\n  2: [armenia.freeze_csto]\n"
PLAY = ["play", "karabakh", "--as", "armenia", "--seed", "9", "--months", "9", "--forecast-runs", "200"]


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EROFS])
def test_a_failed_save_during_play_is_one_line_and_the_last_save_is_whole(tmp_path, monkeypatch, err):
    from sim.play.savefile import load_game

    moves = tmp_path / "moves.yaml"
    moves.write_text(MOVES)
    out = tmp_path / "game"
    # saved before the first turn (0) and after turn 1 (1); the save after turn 2 fails
    Disk(out, monkeypatch, fail=lambda name, seen: name == "game.json" and seen >= 2, err=err)
    r = runner.invoke(app, [*PLAY, "--moves", str(moves), "--out", str(out)])
    assert r.exit_code == 1 and isinstance(r.exception, SystemExit), (r.output, r.exception)
    assert "Traceback" not in r.output
    save = out / "game.json"
    assert r.stderr.strip().splitlines()[-1] == (  # the moves are printed to stdout
        f"sim play: cannot write to {save}: {os.strerror(err).lower()}; the game as saved after turn 1 is whole in "
        f"{save} (resume with: sim play --resume {save})")
    assert temporaries(out) == []
    game = load_game(save)
    assert game.turn == 1 and [t["moves"] for t in game.turns] == [["armenia.appeal_to_csto"]]
    monkeypatch.undo()
    rest = tmp_path / "rest.yaml"
    rest.write_text("turns:\n  2: [armenia.freeze_csto]\n")
    r = runner.invoke(app, ["play", "--resume", str(save), "--moves", str(rest)])
    assert r.exit_code == 0, r.output
    assert load_game(save).turn == 3


def test_a_game_that_could_not_be_saved_at_all_says_so(tmp_path, monkeypatch):
    out = tmp_path / "game"
    Disk(out, monkeypatch, fail=lambda name, seen: name == "game.json")
    moves = tmp_path / "moves.yaml"
    moves.write_text(MOVES)
    r = runner.invoke(app, [*PLAY, "--moves", str(moves), "--out", str(out)])
    assert r.exit_code == 1, r.output
    assert r.stderr.strip().splitlines()[-1] == (
        f"sim play: cannot write to {out / 'game.json'}: no space left on device; nothing was saved")
    assert temporaries(out) == [] and not (out / "game.json").exists()


# ------------------------------------------------------------------ scratch folders


def _scratch(tmp: Path) -> list[Path]:
    return sorted(tmp.glob("sim-replicates-*"))


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_only_scratch_folders_whose_process_is_gone_are_cleaned(tmp_path, monkeypatch):
    import fcntl

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    dead = _dead_pid()

    def folder(name: str, lock: bool = True) -> Path:
        p = tmp_path / name
        p.mkdir()
        if lock:
            (p / "lock").touch()
        (p / "replicates.parquet.partial").write_bytes(b"rows")
        return p

    stale = folder(f"sim-replicates-{dead}-abc")
    live_pid = folder(f"sim-replicates-{os.getppid()}-abc")  # a running process
    held = folder(f"sim-replicates-{dead}-held")  # a process this one cannot see (another PID namespace) holds it
    fd = os.open(held / "lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    unlocked = folder(f"sim-replicates-{dead}-nolock", lock=False)  # not made by this code
    other = folder("sim-replicates-abc")  # an older kind of name
    try:
        assert files.clean_stale("replicates") == [stale]
        assert not stale.exists() and live_pid.exists() and held.exists() and unlocked.exists() and other.exists()
        mine = files.private_dir("replicates")  # cleans too: nothing more is stale
        assert mine.name.startswith(f"sim-replicates-{os.getpid()}-") and held.exists()
    finally:
        os.close(fd)
    assert files.clean_stale("replicates") == [held]  # its lock was let go: stale now
    assert mine.exists()  # this process's own folder stays
    files.release(mine)
    assert not mine.exists()


def test_a_killed_runs_scratch_folder_is_cleaned_by_the_next_run_and_a_live_ones_is_not(tmp_path):
    systmp = tmp_path / "systmp"
    systmp.mkdir()
    env = {"TMPDIR": str(systmp)}
    long = ["run", "karabakh", "--runs", "400000", "--months", "12", "--chunk-size", "500", "--workers", "1",
            "--replicates", "--no-report"]
    (tmp_path / "a").mkdir()
    killed = SimProcess([*long, "--out", str(tmp_path / "a" / "run")], tmp_path / "a", env=env)
    killed.wait_runs(1000)
    (left,) = _scratch(systmp)
    assert left.name.startswith(f"sim-replicates-{killed.p.pid}-") and (left / "replicates.parquet.partial").is_file()
    killed.signal(signal.SIGKILL)
    assert killed.finish()[0] == -signal.SIGKILL
    assert _scratch(systmp) == [left]  # what a kill leaves behind

    (tmp_path / "b").mkdir()
    live = SimProcess([*long, "--out", str(tmp_path / "b" / "run")], tmp_path / "b", env=env)
    try:
        live.wait_runs(1000)
        (mine,) = _scratch(systmp)
        assert mine != left and mine.name.startswith(f"sim-replicates-{live.p.pid}-")  # the killed run's is gone
        short = subprocess.run([sys.executable, "-m", "sim.cli", "run", "karabakh", "--runs", "200", "--months", "3",
                                "--replicates", "--no-report", "--out", str(tmp_path / "short")],
                               capture_output=True, text=True, env={**os.environ, **env})
        assert short.returncode == 0, short.stderr
        assert (tmp_path / "short" / "replicates.parquet").is_file()
        assert _scratch(systmp) == [mine]  # the live run's folder is untouched, the short run's own is gone
        assert (mine / "replicates.parquet.partial").is_file()
    finally:
        live.signal(signal.SIGTERM)
        rc, _, stderr = live.finish()
    assert rc == 143, stderr
    assert _scratch(systmp) == []


# ------------------------------------------------------------------ stopped sweeps keep their rows


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_sigterm_keeps_the_finished_runs_rows_in_a_run_and_in_a_sweep(tmp_path, command):
    out = tmp_path / "out"
    if command == "run":
        args = ["run", "karabakh", "--runs", "400000", "--months", "12", "--chunk-size", "500", "--workers", "1"]
    else:
        args = ["sweep", "karabakh", "--method", "lhs", "--samples", "40", "--runs", "10000", "--months", "12",
                "--chunk-size", "500", "--workers", "1"]
    proc = SimProcess([*args, "--replicates", "--no-report", "--out", str(out)], tmp_path)
    seen = proc.wait_runs(1000)
    proc.signal(signal.SIGTERM)
    rc, _, stderr = proc.finish()
    assert rc == 143, stderr
    assert "Traceback" not in stderr
    m = json.loads((out / "manifest.json").read_text())
    n = m["runs_completed"]
    assert m["complete"] is False and m["stopped_by"] == "SIGTERM" and seen <= n < m["runs_requested"]
    rows = pd.read_parquet(out / "replicates.parquet")
    assert len(rows) == n and rows["replicate"].tolist() == list(range(n))  # every finished run, in order
    if command == "sweep":
        assert "and their rows in" in stderr
        sets = pd.read_csv(out / "sets.csv", index_col="set")
        assert sets["runs"].sum() == n
        assert (rows.groupby("set").size() == sets["runs"][sets["runs"] > 0]).all()
