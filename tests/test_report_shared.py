"""A run's figures drawn in two processes (:func:`sim.report.canvas.drawn_shared`): this one
and a child forked from it take the figures one at a time; what the child does not finish
is drawn here, its errors raised here; the child never outlives the call.

The jobs here are stand-ins for figures (each writes a file saying which process drew it);
the last test draws a real run's figures both ways and compares the bytes.
"""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from sim.report import canvas

from .simproc import SIM, wait_for

pytestmark = pytest.mark.skipif(canvas.share_unsafe(threading.enumerate()) == "the platform does not fork",
                                reason="figures are shared with a forked child only where the platform forks")


def jobs(folder: Path, n: int, act=None) -> list:
    """``n`` stand-in figures: job i writes ``i.txt`` with the pid that drew it (after
    ``act(i)``)."""
    def draw(i: int) -> Path:
        if act is not None:
            act(i)
        p = folder / f"{i}.txt"
        p.write_text(str(os.getpid()))
        return p

    return [(f"fig{i}", lambda i=i: draw(i)) for i in range(n)]


def drawers(folder: Path) -> dict[int, int]:
    return {int(p.stem): int(p.read_text()) for p in folder.glob("*.txt")}


def both_started(folder: Path):
    """An ``act`` that holds jobs 0 and 1 until each has been taken by a different process
    (so that the child takes one whatever the timing); a cap, not a time bound: with no
    child the wait ends and the assertions say so."""
    def act(i: int) -> None:
        if i < 2:
            (folder / f"started-{i}-{os.getpid()}").touch()
            wait_for(lambda: len({p.name.rsplit("-", 1)[1] for p in folder.glob("started-*")}) == 2, cap=60)
    return act


def test_the_figures_are_shared_with_one_child_and_returned_in_their_order(tmp_path):
    idle = threading.enumerate()  # threads earlier tests left waiting: not counted
    assert canvas.share_unsafe(idle) is None
    out = canvas.drawn_shared(jobs(tmp_path, 7, both_started(tmp_path)), ignore=idle)
    assert list(out) == [f"fig{i}" for i in range(7)]
    assert all(out[f"fig{i}"] == tmp_path / f"{i}.txt" for i in range(7))
    by = drawers(tmp_path)
    assert sorted(by) == list(range(7))
    assert set(by.values()) - {os.getpid()} and len(set(by.values())) == 2  # this process and one child
    child = (set(by.values()) - {os.getpid()}).pop()
    assert not psutil.pid_exists(child)  # ended and reaped


def test_without_a_fork_every_figure_is_drawn_here(tmp_path, monkeypatch):
    idle = threading.enumerate()
    monkeypatch.setenv(canvas.SHARE_ENV, "0")
    assert canvas.share_unsafe(idle) == "SIM_FIGURES_FORK=0"
    (tmp_path / "a").mkdir()
    canvas.drawn_shared(jobs(tmp_path / "a", 4), ignore=idle)
    assert set(drawers(tmp_path / "a").values()) == {os.getpid()}
    monkeypatch.delenv(canvas.SHARE_ENV)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, name="a notebook's kernel")
    other.start()
    try:
        assert canvas.share_unsafe(idle) == "other threads are running"  # a child would inherit its locks
        (tmp_path / "b").mkdir()
        canvas.drawn_shared(jobs(tmp_path / "b", 4), ignore=idle)
        assert set(drawers(tmp_path / "b").values()) == {os.getpid()}
    finally:
        stop.set()
        other.join()


@pytest.mark.parametrize("how", ["raises", "dies"])
def test_a_figure_the_child_failed_is_drawn_here(tmp_path, how):
    idle = threading.enumerate()
    parent = os.getpid()
    start = both_started(tmp_path)
    failed: list[int] = []

    def act(i: int) -> None:
        start(i)
        if os.getpid() != parent:  # every figure the child takes fails there
            (tmp_path / f"failed-{i}").touch()
            if how == "raises":
                raise OSError(errno.EIO, "input/output error")
            os._exit(3)  # killed, say

    out = canvas.drawn_shared(jobs(tmp_path, 5, act), ignore=idle)
    failed = sorted(int(p.name.split("-")[1]) for p in tmp_path.glob("failed-*"))
    assert failed  # the child took one (and failed it)
    assert sorted(drawers(tmp_path)) == list(range(5)) and set(drawers(tmp_path).values()) == {parent}
    assert all(out[f"fig{i}"] == tmp_path / f"{i}.txt" for i in range(5))


def test_a_figure_that_fails_everywhere_raises_here_and_leaves_no_child(tmp_path):
    idle = threading.enumerate()
    pids: set[int] = set()
    start = both_started(tmp_path)

    def act(i: int) -> None:
        (tmp_path / f"pid-{os.getpid()}").touch()  # before the wait: this process may be interrupted once the other fails
        start(i)
        if i == 3:
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        canvas.drawn_shared(jobs(tmp_path, 6, act), ignore=idle)
    pids = {int(p.name.split("-")[1]) for p in tmp_path.glob("pid-*")}
    assert len(pids) == 2
    assert not any(psutil.pid_exists(p) for p in pids - {os.getpid()})


def test_an_interrupt_here_ends_the_child_at_once(tmp_path):
    # this process is interrupted (a Ctrl-C) while the child draws a figure that would take a
    # minute: the call raises at once and the child is ended and reaped
    idle = threading.enumerate()
    parent = os.getpid()
    start = both_started(tmp_path)

    def act(i: int) -> None:
        start(i)
        if os.getpid() != parent:
            (tmp_path / "child.tmp").write_text(str(os.getpid()))
            os.replace(tmp_path / "child.tmp", tmp_path / "child")  # seen whole or not at all
            for _ in range(600):  # a slow figure
                time.sleep(0.1)
        elif i >= 1:
            wait_for(lambda: (tmp_path / "child").exists(), cap=60)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        canvas.drawn_shared(jobs(tmp_path, 4, act), ignore=idle)
    child = int((tmp_path / "child").read_text())
    assert not psutil.pid_exists(child)


def _figures(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("fig_*.png"))}


def test_a_runs_figures_are_the_same_bytes_drawn_shared_or_not(tmp_path):
    got = {}
    for share in ("1", "0"):
        out = tmp_path / share
        env = {**os.environ, canvas.SHARE_ENV: share}
        p = subprocess.run([SIM, "run", "karabakh", "--runs", "300", "--months", "12", "--seed", "5", "--out",
                            str(out)], capture_output=True, text=True, env=env, timeout=600)
        assert p.returncode == 0, p.stderr
        got[share] = _figures(out)
    assert len(got["1"]) == 5 and got["1"] == got["0"]
    assert sys.platform != "win32"


def test_leaving_early_empties_the_queue_so_a_child_holding_its_interrupt_ends_after_its_figure(tmp_path):
    # `sim run` holds Ctrl-C back while it writes its folder (the child inherits that): when
    # this process leaves early (an error), the child finishes the figure it draws, takes no
    # other, and ends
    import signal

    idle = threading.enumerate()
    parent = os.getpid()
    start = both_started(tmp_path)

    def act(i: int) -> None:
        if os.getpid() != parent:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # held back, as sim.interrupts.SignalDeferral does
        start(i)
        if os.getpid() != parent:
            wait_for(lambda: (tmp_path / "parent-failed").exists(), cap=60)
            time.sleep(0.2)
        else:
            wait_for(lambda: len(list(tmp_path.glob("started-*"))) == 2, cap=60)
            (tmp_path / "parent-failed").touch()
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        canvas.drawn_shared(jobs(tmp_path, 12, act), ignore=idle)
    by = drawers(tmp_path)
    assert len(by) == 1 and set(by.values()) != {parent}  # the child's one figure, whole; none after it
    assert not psutil.pid_exists(next(iter(by.values())))
