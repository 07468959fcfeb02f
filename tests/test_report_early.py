"""A run's figures drawn by a painter forked before the run (:mod:`sim.report.early`): the
same bytes as drawn here; whatever goes wrong with it (killed, a figure that fails, the
results not sent), the figures are drawn here and an error raised here; it never outlives
its use, and processes forked after it do not keep it alive.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time
from pathlib import Path

import psutil
import pytest

import sim
from sim import runner
from sim.report import early, write_report
from sim.report import figures as F

from .simproc import SimProcess, gone, wait_for

pytestmark = pytest.mark.skipif(early.why_not(threading.enumerate()) in ("the platform does not fork", "one core"),
                                reason="a painter is forked only where the platform forks and a second core is free")


@pytest.fixture(scope="module")
def res():
    return sim.run("karabakh", runs=300, months=12, seed=5, workers=1)


def _figures(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("fig_*.png"))}


@pytest.fixture
def here(res, tmp_path):
    """The run's figures (and report.html) drawn in this process, without a painter."""
    out = tmp_path / "here"
    out.mkdir()
    assert early.draw(res, out) is None  # no painter: the caller draws
    write_report(res, out)
    return {**_figures(out), "report.html": hashlib.sha256((out / "report.html").read_bytes()).hexdigest()}


def _report(folder: Path) -> dict[str, str]:
    return {**_figures(folder), "report.html": hashlib.sha256((folder / "report.html").read_bytes()).hexdigest()}


@pytest.fixture
def painter():
    p = early.start(ignore=threading.enumerate())
    assert p is not None, early.why_not(threading.enumerate())
    yield p
    early.stop()


def _ended(pid: int) -> bool:
    try:
        return gone(psutil.Process(pid))
    except psutil.NoSuchProcess:
        return True


def test_the_painter_draws_the_same_figures_and_ends(res, here, painter, tmp_path, monkeypatch):
    out = tmp_path / "painted"
    out.mkdir()
    drawn_here = []
    monkeypatch.setattr(F, "write_figures", lambda *a: drawn_here.append(a) or {})  # here: nothing would be drawn
    write_report(res, out)
    assert drawn_here == []  # the painter drew them
    assert len(here) == 6 and _report(out) == here  # five figures and the page that holds them
    assert not psutil.pid_exists(painter.pid)  # ended and reaped
    assert early._current is None and early.draw(res, out) is None  # used once


def test_a_killed_painter_leaves_the_figures_to_this_process(res, here, painter, tmp_path):
    os.kill(painter.pid, signal.SIGKILL)
    assert wait_for(lambda: _ended(painter.pid))
    out = tmp_path / "after"
    out.mkdir()
    write_report(res, out)
    assert _report(out) == here
    assert not psutil.pid_exists(painter.pid)


def test_a_figure_the_painter_failed_is_drawn_here(res, here, tmp_path, monkeypatch):
    good = F.outcome_probabilities
    monkeypatch.setattr(F, "outcome_probabilities", lambda *a: 1 / 0)  # broken in the painter, forked now
    p = early.start(ignore=threading.enumerate())
    assert p is not None
    try:
        monkeypatch.setattr(F, "outcome_probabilities", good)  # and mended here
        out = tmp_path / "mended"
        out.mkdir()
        write_report(res, out)
        assert _report(out) == here
    finally:
        early.stop()
    assert not psutil.pid_exists(p.pid)


def test_a_figure_that_fails_everywhere_raises_here(res, tmp_path, monkeypatch):
    monkeypatch.setattr(F, "outcome_probabilities", lambda *a: 1 / 0)
    p = early.start(ignore=threading.enumerate())
    assert p is not None
    with pytest.raises(ZeroDivisionError):
        write_report(res, tmp_path)
    assert not psutil.pid_exists(p.pid)


def test_results_that_do_not_pickle_are_drawn_here(res, here, painter, tmp_path, monkeypatch):
    monkeypatch.setattr(res, "labels", {**res.labels, "_": threading.Lock()})  # a lock does not pickle
    out = tmp_path / "here2"
    out.mkdir()
    write_report(res, out)
    assert _report(out) == here
    assert not psutil.pid_exists(painter.pid)


def test_a_painter_not_asked_is_ended_by_stop(painter):
    early.stop()
    assert not psutil.pid_exists(painter.pid)
    assert early.draw(None, Path(".")) is None


def test_processes_forked_after_it_do_not_keep_it_alive(painter):
    """The painter ends when the run's process closes its end of the pipe, even while a
    process forked from the run after the painter (a worker) still runs."""
    pid = os.fork()
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    try:
        os.close(painter.to_painter)  # as the run's end would be closed: the painter reads the pipe's end
        painter.to_painter = -1
        assert wait_for(lambda: _ended(painter.pid), cap=60)
        assert psutil.pid_exists(pid) and not _ended(pid)  # the forked process still runs
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def test_the_painters_cpu_counts_as_free_where_the_run_measures_how_busy_the_machine_is(monkeypatch):
    pid = os.fork()
    if pid == 0:
        end = time.process_time() + 0.3
        while time.process_time() < end:
            pass
        os._exit(0)
    try:
        child = psutil.Process(pid)
        assert wait_for(lambda: child.status() == psutil.STATUS_ZOMBIE, cap=60)  # ended, not reaped: its times final
        runner.side_process(pid)
        ticks = os.sysconf("SC_CLK_TCK")
        used = sum(child.cpu_times()[:2]) * ticks
        assert used >= 0.25 * ticks  # the child's 0.3 s of CPU
        assert abs(runner._side_ticks() - used) <= 2  # /proc/PID/stat's utime + stime, in clock ticks
        monkeypatch.setattr(runner, "_side_ticks", lambda: 1e6)
        with_side = runner.cpu_times()
        runner.side_process(pid, False)
        without = runner.cpu_times()
        assert with_side[0] - without[0] >= 1e6 - 1000  # counted as idle (a few ticks pass between the calls)
    finally:
        runner.side_process(pid, False)
        os.waitpid(pid, 0)


@pytest.mark.skipif(runner.available_cores() < 2, reason="one core: no painter")
def test_sim_run_draws_with_a_painter_the_figures_it_draws_without_and_leaves_no_process(tmp_path):
    got = {}
    for on in ("1", "0"):
        out = tmp_path / on
        proc = SimProcess(["run", "karabakh", "--runs", "3000", "--months", "12", "--seed", "5", "--out", str(out)],
                          tmp_path, env={early.ENV: on, "SIM_COMPILE_AHEAD": "0"})
        proc.wait_runs(1)
        kids = proc.children()
        lines = []
        for k in kids:
            try:
                lines.append(" ".join(k.cmdline()))
            except psutil.NoSuchProcess:
                lines.append("(ended)")
        rc, _, stderr = proc.finish()
        assert rc == 0, stderr
        got[on] = _figures(out)
        if on == "1":  # the painter: a child with the run's own command line, alive before the report
            assert any(" run karabakh " in line for line in lines), lines
        assert wait_for(lambda kids=kids: all(gone(k) for k in kids)), [(k.pid, k.cmdline()) for k in kids if not gone(k)]
    assert len(got["1"]) == 5 and got["1"] == got["0"]


@pytest.mark.skipif(runner.available_cores() < 2, reason="one core: no painter")
def test_ctrl_c_leaves_the_painter_to_draw_the_finished_runs_figures(tmp_path):
    out = tmp_path / "run"
    proc = SimProcess(["run", "karabakh", "--runs", "400000", "--months", "12", "--chunk-size", "500",
                       "--workers", "1", "--out", str(out)], tmp_path, env={"SIM_COMPILE_AHEAD": "0"})
    proc.wait_runs(500)
    kids = proc.children()
    proc.signal(signal.SIGINT)
    rc, _, stderr = proc.finish()
    assert rc == 130, stderr
    m = json.loads((out / "manifest.json").read_text())
    assert m["complete"] is False and m["stopped_by"] == "interrupt"
    assert len(_figures(out)) == 5 and (out / "report.html").is_file()
    assert wait_for(lambda: all(gone(k) for k in kids)), [(k.pid, k.cmdline()) for k in kids if not gone(k)]
