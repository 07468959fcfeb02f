"""A Dask cluster that loses workers says so: real `dask scheduler` and `dask worker`
processes on 127.0.0.1, killed while a run is going.

One worker lost: the run goes on, says which worker and which chunks were retried (on
the terminal and in the manifest) and gives the same results as in-process. Every
worker lost: after --worker-timeout seconds with none left the run stops, keeps the
chunks merged before (stopped_by: workers-lost) and exits 1. The tests wait for states
(workers registered, runs finished), set a short timeout, and assert what happened,
never how long it took.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import psutil
import pytest

import sim
from sim.runner import ChunkFailed, WorkerLost

from .simproc import SimProcess, gone, wait_for

pytest.importorskip("distributed")
pytestmark = pytest.mark.slow

DASK = str(Path(sys.executable).parent / "dask")


class Cluster:
    """A scheduler and workers (no nannies: a killed worker stays dead) started for a test."""

    def __init__(self, tmp: Path, workers: int = 2):
        self.file = tmp / "scheduler.json"
        self.procs: list[subprocess.Popen] = []
        self.scheduler = self._start([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                      "--scheduler-file", str(self.file)])
        assert wait_for(lambda: self.file.exists() and "address" in self.file.read_text()), "no scheduler"
        self.address = json.loads(self.file.read_text())["address"]
        self.workers = [self.add_worker() for _ in range(workers)]
        assert wait_for(lambda: self.count() == workers), "the workers did not register"

    def _start(self, args: list[str]) -> subprocess.Popen:
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    def add_worker(self) -> subprocess.Popen:
        return self._start([DASK, "worker", "--scheduler-file", str(self.file), "--nthreads", "1", "--no-nanny",
                            "--no-dashboard"])

    def count(self) -> int:
        from distributed import Client

        with Client(self.address, timeout=10) as c:
            return len(c.scheduler_info()["workers"])

    def kill(self, p: subprocess.Popen) -> None:
        p.kill()
        p.wait(timeout=30)

    def close(self) -> None:
        for p in self.procs:  # only the processes this test started, by their handles
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            p.wait(timeout=30)


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(tmp_path)
    try:
        yield c
    finally:
        c.close()


def test_one_worker_lost_is_reported_and_the_results_do_not_change(cluster, mini):
    killed: list[int] = []

    def progress(done: int, total: int) -> None:
        if not killed and done > 0:  # a chunk has come back: the workers are busy with the next ones
            cluster.kill(cluster.workers[0])
            killed.append(cluster.workers[0].pid)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = sim.run(mini, runs=4000, seed=1, chunk_size=100, scheduler=cluster.address, progress=progress)
    lost = [w.message for w in caught if isinstance(w.message, WorkerLost)]
    assert killed and len(lost) == 1 and "1 worker left" in str(lost[0])
    m = res.manifest
    assert res.complete and m["stopped_by"] is None
    assert [e["worker"] for e in m["workers_lost"]] == [lost[0].worker]
    assert m["chunks_retried"] == lost[0].chunks and all(isinstance(c, int) for c in m["chunks_retried"])
    local = sim.run(mini, runs=4000, seed=1, chunk_size=100, backend="local")
    assert res.summary()["outcomes"] == local.summary()["outcomes"]
    assert res.timeseries().equals(local.timeseries())


def test_every_worker_lost_stops_the_run_and_keeps_the_finished_chunks(cluster, mini):
    def progress(done: int, total: int) -> None:
        if done > 0:
            for p in cluster.workers:
                if p.poll() is None:
                    cluster.kill(p)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WorkerLost)
        with pytest.raises(ChunkFailed, match="no Dask worker left for 0.5 s") as ei:
            sim.run(mini, runs=4000, seed=1, chunk_size=100, scheduler=cluster.address, progress=progress,
                    worker_timeout=0.5)
    assert ei.value.kind == "workers-lost"
    part = ei.value.partial
    assert part.complete is False and part.manifest["stopped_by"] == "workers-lost"
    assert part.runs % 100 == 0 and 100 <= part.runs < 4000
    assert len(part.manifest["workers_lost"]) == 2 and part.manifest["worker_timeout_s"] == 0.5


def test_sim_run_says_a_worker_was_lost_and_saves_what_finished_when_none_is_left(cluster, tmp_path, mini_path):
    out = tmp_path / "run"
    proc = SimProcess(["run", str(mini_path), "--runs", "20000", "--chunk-size", "100", "--scheduler",
                       cluster.address, "--worker-timeout", "1", "--out", str(out), "--no-report"], tmp_path)
    try:
        proc.wait_runs(100)
        cluster.kill(cluster.workers[0])
        assert wait_for(lambda: "was lost" in proc.stderr or proc.p.poll() is not None)
        cluster.kill(cluster.workers[1])
        rc, _, stderr = proc.finish()
    finally:
        if proc.p.poll() is None:
            proc.p.kill()
    assert rc == 1, stderr
    assert "Traceback" not in stderr
    lost = re.findall(r"sim run: Dask worker tcp://127\.0\.0\.1:\d+ was lost; [^\n]*? \((\d) workers? left\)", stderr)
    assert lost == ["1", "0"], stderr  # one line each, as it happened (the progress bar shares the terminal)
    assert "no Dask worker left for 1 s (all were lost)" in stderr and "saved in" in stderr
    m = json.loads((out / "manifest.json").read_text())
    assert m["complete"] is False and m["stopped_by"] == "workers-lost" and len(m["workers_lost"]) == 2
    assert 100 <= m["runs_completed"] < 20000 and m["runs_completed"] % 100 == 0
    assert json.loads((out / "summary.json").read_text())["runs"] == m["runs_completed"]
    assert all(gone(psutil.Process(p.pid)) if p.poll() is None else True for p in cluster.workers)


def test_worker_timeout_is_checked(mini_path):
    from typer.testing import CliRunner

    from sim.cli import app

    r = CliRunner().invoke(app, ["run", str(mini_path), "--worker-timeout", "0"])
    assert r.exit_code == 2
    assert r.stderr.strip() == "sim run: --worker-timeout: must be a number of seconds above 0 (got 0.0)"
    r = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    assert "(default 60)" in r.output


def test_dask_s_own_early_exit_is_not_printed_as_a_traceback_but_other_task_errors_are():
    """distributed's gather stops early with AllExit when a result went with its worker and
    leaves other waiters' AllExit unread; asyncio then logs "Task exception was never
    retrieved" with a traceback (seen once in CI). The filter a scheduler run installs drops
    exactly those records: any other unread task error still reaches the terminal."""
    import asyncio
    import gc
    import logging

    from distributed.client import AllExit

    from sim.runner import _dask_internal

    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    log = logging.getLogger("asyncio")
    handler = Keep()
    log.addHandler(handler)
    log.addFilter(_dask_internal)
    try:
        for exc in (AllExit(), ValueError("a real error")):
            async def fail(e=exc):
                raise e

            loop = asyncio.new_event_loop()
            task = loop.create_task(fail())
            loop.run_until_complete(asyncio.sleep(0.01))
            assert task.done()
            del task
            gc.collect()
            loop.close()
    finally:
        log.removeFilter(_dask_internal)
        log.removeHandler(handler)
    assert [type(r.exc_info[1]).__name__ for r in seen] == ["ValueError"]
    assert "never retrieved" in seen[0].getMessage()
