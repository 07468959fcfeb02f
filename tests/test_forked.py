"""Runs too small for spawned workers fork theirs once they are set up, and run the first chunk beside them (sim.runner.Forked).

Same results as in-process and as the spawned pool; no worker left behind when a chunk
fails, a worker is killed, or the run is interrupted (from the library, and through `sim
run` with Ctrl-C and SIGKILL); in-process as before where another thread runs, where the
other cores are busy, or with SIM_FORK=0. Nothing here asserts how long anything took.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import threading

import psutil
import pytest

import sim
from sim import montecarlo, runner
from sim.manifests import COMPARED
from sim.runner import ChunkFailed

from .simproc import SimProcess, gone, wait_for

# pythons: also on 3.12 and 3.13 in CI, whose process pools differ (a broken pool's lock: sim.runner._kill_when_broken)
pytestmark = [pytest.mark.skipif(not runner.can_fork(), reason="forks only where the platform does (not macOS, not Windows)"),
              pytest.mark.pythons]


@pytest.fixture
def forking(monkeypatch):
    """Small runs fork two workers here (whatever the machine's cores). Threads that earlier tests
    of the session left waiting (Dask's offload thread lives as long as the process) are not
    counted; any thread started by the test is (:func:`sim.runner.fork_unsafe`)."""
    monkeypatch.setattr(montecarlo, "FORK_MIN_WORK", 0)
    monkeypatch.setattr(montecarlo, "available_cores", lambda: 2)
    monkeypatch.setattr(runner, "free_cores", lambda since: 2)  # the machine may be busy with other tests
    runner.close_workers()  # a pool kept from an earlier test: its timer thread ends
    left = frozenset(t for t in threading.enumerate() if t is not threading.main_thread())
    real = runner.fork_unsafe
    monkeypatch.setattr(runner, "fork_unsafe", lambda: real(ignore=left))
    assert runner.fork_unsafe() is None
    return left


@pytest.fixture
def workers():
    """``workers()``: this process's children that were not there before the test (the forked
    workers), zombies included; after the test, none must be left."""
    before = {c.pid for c in psutil.Process().children()}  # multiprocessing's resource tracker, say

    def new() -> list[psutil.Process]:
        return [c for c in psutil.Process().children() if c.pid not in before and not _tracker(c)]

    yield new
    assert wait_for(lambda: not new(), cap=10), [(c.pid, c.status()) for c in new()]


def _tracker(c: psutil.Process) -> bool:
    """Whether ``c`` is multiprocessing's resource tracker (a spawned pool's, kept for the session)."""
    try:
        return "resource_tracker" in " ".join(c.cmdline())
    except psutil.Error:  # a zombie, or gone
        return False


def _files(res, folder) -> dict[str, bytes]:
    res.save(folder, report=None)
    return {f: (folder / f).read_bytes() for f in COMPARED}


def test_forked_workers_give_the_results_of_one_process_and_of_the_spawned_pool(mini, tmp_path, forking, workers):
    frozen = gc.get_freeze_count()
    forked = sim.run(mini, runs=1000, seed=5, chunk_size=100)
    assert (forked.manifest["backend"], forked.manifest["workers"]) == ("forked", 2)
    assert gc.get_freeze_count() == frozen  # frozen while the workers ran, not after
    assert not workers()  # ended with the run: none kept, none a zombie
    local = sim.run(mini, runs=1000, seed=5, chunk_size=100, backend="local")
    assert (local.manifest["backend"], local.manifest["workers"]) == ("in-process", 1)
    pool = sim.run(mini, runs=1000, seed=5, chunk_size=100, workers=2, backend="processes", oversubscribe=True)
    runner.close_workers()
    assert pool.manifest["backend"] == "processes"
    want = _files(local, tmp_path / "local")
    assert _files(forked, tmp_path / "forked") == want
    assert _files(pool, tmp_path / "pool") == want


def test_per_replicate_rows_are_the_same_when_forked(mini, forking):
    forked = sim.run(mini, runs=600, seed=2, chunk_size=100, replicates=True)
    local = sim.run(mini, runs=600, seed=2, chunk_size=100, backend="local", replicates=True)
    assert forked.manifest["backend"] == "forked"
    assert forked.replicates().equals(local.replicates())


def test_small_runs_and_runs_asking_for_workers_do_not_fork(mini, monkeypatch, forking):
    few = sim.run(mini, runs=200, seed=1, chunk_size=100)  # two chunks: the first here, one left
    assert few.manifest["backend"] == "in-process"
    one = sim.run(mini, runs=400, seed=1, chunk_size=100, workers=1)
    assert (one.manifest["backend"], one.manifest["workers"]) == ("in-process", 1)
    monkeypatch.setattr(montecarlo, "FORK_MIN_WORK", 10**9)
    small = sim.run(mini, runs=400, seed=1, chunk_size=100)
    assert small.manifest["backend"] == "in-process"


def test_where_another_thread_runs_every_chunk_runs_in_process(mini, forking, tmp_path):
    """A notebook's kernel, a kept pool's timer: forking then could leave a worker waiting for ever
    on a lock the thread held, so the run stays in this process, as before."""
    stop = threading.Event()
    t = threading.Thread(target=stop.wait, name="someone-elses", daemon=True)
    t.start()
    try:
        res = sim.run(mini, runs=500, seed=5, chunk_size=100)
    finally:
        stop.set()
        t.join()
    assert (res.manifest["backend"], res.manifest["workers"]) == ("in-process", 1)
    assert res.manifest["not_forked"] == "other threads are running (someone-elses)"
    assert res.manifest["peak_rss_mb"]["workers_max"] is None
    local = sim.run(mini, runs=500, seed=5, chunk_size=100, backend="local")
    assert _files(res, tmp_path / "a") == _files(local, tmp_path / "b")


def test_a_busy_machine_or_sim_fork_0_keeps_the_run_in_process_and_sim_fork_1_forks_even_so(mini, forking, monkeypatch):
    monkeypatch.setattr(runner, "free_cores", lambda since: 1)  # the other core was busy
    busy = sim.run(mini, runs=500, seed=5, chunk_size=100)
    assert (busy.manifest["backend"], busy.manifest["workers"]) == ("in-process", 1)
    assert busy.manifest["not_forked"] == "1 core free: the others were busy (SIM_FORK=1 forks even so)"
    monkeypatch.setenv("SIM_FORK", "1")
    forced = sim.run(mini, runs=500, seed=5, chunk_size=100)
    assert (forced.manifest["backend"], forced.manifest["workers"]) == ("forked", 2)
    monkeypatch.setenv("SIM_FORK", "0")
    never = sim.run(mini, runs=500, seed=5, chunk_size=100)
    assert never.manifest["backend"] == "in-process" and never.manifest["not_forked"] == "SIM_FORK=0"
    assert "not_forked" not in forced.manifest
    assert busy.summary() == forced.summary() == never.summary()


def test_free_cores_are_this_processs_and_those_idle_beside_it_since_the_run_began(monkeypatch):
    import sim.ahead

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(runner, "available_cores", lambda: 2)
    monkeypatch.setattr(sim.ahead, "idle_cores", lambda: 0)  # the load average: busy
    for idle, free in ((100, 2), (60, 2), (40, 1), (0, 1)):  # of 200 ticks on 2 cores; this process used 100
        monkeypatch.setattr(runner, "cpu_times", lambda idle=idle: (1000.0 + idle, 5000.0 + 200))
        assert runner.free_cores((1000.0, 5000.0)) == free, idle
    monkeypatch.setattr(runner, "cpu_times", lambda: (1010.0, 5020.0))  # too short a time to tell: the load average
    assert runner.free_cores((1000.0, 5000.0)) == 0
    assert runner.free_cores(None) == 0


def test_a_failed_chunk_in_a_forked_worker_is_named_and_no_worker_is_left(mini, forking, workers, monkeypatch):
    monkeypatch.setenv("SIM_FAULT_CHUNK", "3")
    seen: list[psutil.Process] = []

    def progress(done: int, total: int) -> None:
        seen.extend(c for c in workers() if c not in seen)

    frozen = gc.get_freeze_count()
    with pytest.raises(ChunkFailed, match=r"chunk 3 \(replicates 300-399\) of scenario 'mini' failed: "
                                          r"RuntimeError: fault injected by SIM_FAULT_CHUNK") as ei:
        sim.run(mini, runs=1000, seed=1, chunk_size=100, progress=progress)
    part = ei.value.partial
    assert part.manifest["backend"] == "forked" and part.manifest["stopped_by"] == "chunk-failed"
    assert part.complete is False and part.runs % 100 == 0 and 100 <= part.runs <= 300
    assert not workers()
    assert all(gone(c) for c in seen)
    assert gc.get_freeze_count() == frozen


def test_a_killed_forked_worker_is_a_lost_worker(mini, forking, workers):
    killed: list[int] = []

    def progress(done: int, total: int) -> None:
        procs = workers()
        if not killed and procs:  # the workers are forked when the run is set up
            procs[0].kill()
            killed.append(procs[0].pid)

    with pytest.raises(ChunkFailed, match="worker process died") as ei:
        sim.run(mini, runs=4000, seed=1, chunk_size=50, progress=progress)
    part = ei.value.partial
    assert part.manifest["stopped_by"] == "worker-lost" and 50 <= part.runs < 4000
    assert not workers()


def test_an_interrupt_keeps_the_chunks_merged_and_ends_the_forked_workers(mini, forking, workers):
    merged: list[int] = []

    def progress(done: int, total: int) -> None:
        merged.append(done)
        if done >= 300:
            raise KeyboardInterrupt

    res = sim.run(mini, runs=2000, seed=1, chunk_size=100, progress=progress)
    assert res.complete is False and res.manifest["stopped_by"] == "interrupt"
    assert res.manifest["backend"] == "forked"
    assert res.runs == merged[-1] and res.runs % 100 == 0 and 300 <= res.runs < 2000
    assert not workers()


@pytest.mark.skipif(runner.available_cores() < 2, reason="one core: the run does not fork")
def test_ctrl_c_stops_a_forked_sim_run_saves_the_finished_chunks_and_leaves_no_worker(tmp_path):
    """`sim run` at a terminal (its progress bar on a pseudo-terminal): a run too small for
    spawned workers forks two once it is set up; Ctrl-C as for the spawned pool."""
    out = tmp_path / "run"
    proc = SimProcess(["run", "karabakh", "--runs", "80000", "--months", "12", "--chunk-size", "500", "--out", str(out),
                       "--no-report"], tmp_path, env={"SIM_COMPILE_AHEAD": "0", "SIM_FORK": "1"})  # even on a busy machine
    seen = proc.wait_runs(500)  # the first chunk, run in the main process, is merged
    assert wait_for(lambda: len(proc.children()) == 2 or proc.p.poll() is not None)
    workers = proc.children()
    assert proc.p.poll() is None and len(workers) == 2, [c.cmdline() for c in workers]
    proc.signal(signal.SIGINT)
    rc, _, stderr = proc.finish()
    assert rc == 130, stderr
    assert "Traceback" not in stderr and "leaked semaphore" not in stderr
    m = json.loads((out / "manifest.json").read_text())
    assert m["backend"] == "forked" and m["workers"] == 2
    assert m["complete"] is False and m["stopped_by"] == "interrupt"
    assert seen <= m["runs_completed"] < m["runs_requested"] and m["runs_completed"] % 500 == 0
    assert wait_for(lambda: all(gone(c) for c in workers)), [c.pid for c in workers if not gone(c)]


def test_forked_workers_are_not_kept_and_the_parent_waits_for_none(mini, forking, workers):
    sim.run(mini, runs=500, seed=1, chunk_size=100)
    assert runner.kept_workers() == []
    import multiprocessing as mp

    assert mp.active_children() == []
    # the pool's threads ended too: `sim run` exits at once (sim.cli.leave)
    assert wait_for(lambda: set(threading.enumerate()) - forking == {threading.main_thread()}, cap=10), threading.enumerate()


@pytest.mark.skipif(runner.available_cores() < 2, reason="one core: the run does not fork")
def test_forked_workers_end_when_the_main_process_is_killed(tmp_path):
    proc = SimProcess(["run", "karabakh", "--runs", "80000", "--months", "12", "--chunk-size", "500", "--out",
                       str(tmp_path / "run"), "--no-report"], tmp_path, env={"SIM_COMPILE_AHEAD": "0", "SIM_FORK": "1"})
    proc.wait_runs(500)
    assert wait_for(lambda: len(proc.children()) == 2 or proc.p.poll() is not None)
    workers = proc.children()
    assert proc.p.poll() is None and len(workers) == 2
    proc.signal(signal.SIGKILL)
    assert proc.finish()[0] == -signal.SIGKILL
    assert wait_for(lambda: all(gone(c) for c in workers)), [c.pid for c in workers if not gone(c)]


def test_a_fork_that_fails_leaves_the_run_in_process_with_the_same_results(mini, forking, workers, monkeypatch):
    import multiprocessing.popen_fork as popen_fork

    def no_fork():
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(popen_fork.os, "fork", no_fork)
    res = sim.run(mini, runs=1000, seed=5, chunk_size=100)
    assert (res.manifest["backend"], res.manifest["workers"]) == ("in-process", 1)
    assert res.manifest["not_forked"].startswith("the workers could not be forked") and "memory" in res.manifest["not_forked"]
    assert res.complete and res.runs == 1000
    local = sim.run(mini, runs=1000, seed=5, chunk_size=100, backend="local")
    assert res.probabilities().equals(local.probabilities())
    assert not workers()
