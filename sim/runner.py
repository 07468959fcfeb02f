"""Monte Carlo runner: fixed-size chunks, seeded from one SeedSequence, merged in order.

Replicates are cut into chunks of ``chunk_size``; chunk i is seeded with
``SeedSequence(seed, spawn_key=(i,))`` (= the i-th child of
``SeedSequence(seed).spawn``) and results are merged in chunk order. So the same
seed, runs and chunk size give identical results whatever the backend or the number
of workers. Backends share one small interface (:class:`Backend`); the model does
not know which one runs it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

DEFAULT_CHUNK = 2000
"""Replicates per chunk (recorded in the manifest: results depend on it)."""
POOL_MIN_WORK = 1_000_000
"""Below this many replicate-months a run stays in-process (process start-up costs more)."""


class ChunkFailed(RuntimeError):
    """A chunk raised an error in a worker: says which chunk of which scenario, and why."""

    def __init__(self, scenario: str, chunk: int, first: int, last: int, error: str, trace: str = ""):
        self.scenario, self.chunk, self.error, self.trace = scenario, chunk, error, trace
        self.first, self.last = first, last
        super().__init__(
            f"chunk {chunk} (replicates {first}-{last}) of scenario '{scenario}' failed: {error}"
        )

    def __reduce__(self):  # picklable across processes
        return (ChunkFailed, (self.scenario, self.chunk, self.first, self.last, self.error, self.trace))


@dataclass(frozen=True)
class Task:
    """One chunk of work: everything a worker needs, picklable."""

    key: str  # hash of the resolved scenario (plan cache key)
    payload: Any  # (Scenario, rule settings, horizon, dtype name)
    chunk: int
    n: int
    offset: int
    seed: int
    keep_final: int
    keep_traj: int


_PLANS: dict[str, Any] = {}


def _plan_for(task: Task):
    plan = _PLANS.get(task.key)
    if plan is None:
        from .world.compile import compile_plan

        scn, rules, horizon, _ = task.payload
        plan = compile_plan(scn, rules, horizon)
        _PLANS.clear()
        _PLANS[task.key] = plan
    return plan


def simulate_chunk(task: Task):
    """Run one chunk to the horizon and return its :class:`~sim.outcomes.ChunkResult`.

    Any error is re-raised as :class:`ChunkFailed` naming the chunk and the scenario.
    ``SIM_FAULT_CHUNK=i`` makes chunk i fail on purpose (used by the tests).
    """
    try:
        if os.environ.get("SIM_FAULT_CHUNK") == str(task.chunk):
            raise RuntimeError("fault injected by SIM_FAULT_CHUNK")
        return _simulate(task)
    except ChunkFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - reported with the chunk and scenario
        import traceback

        name = task.payload[0].meta.name
        raise ChunkFailed(name, task.chunk, task.offset, task.offset + task.n - 1,
                          f"{type(exc).__name__}: {exc}", traceback.format_exc()) from None


def _simulate(task: Task):
    """One chunk, with numpy's BLAS held to one thread: the matrices are tiny, and extra
    BLAS threads only fight the other workers for the cores."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a declared dependency
        return _simulate_inner(task)
    with threadpool_limits(limits=1, user_api="blas"):
        return _simulate_inner(task)


def _simulate_inner(task: Task):
    from .outcomes import Recorder, compile_outcomes
    from .rules import build_pipeline
    from .world.model import World

    t0 = time.perf_counter()
    plan = _plan_for(task)
    dtype = np.dtype(task.payload[3])
    from .seeding import chunk_sequence, root_sequence

    ss = chunk_sequence(root_sequence(task.seed), task.chunk)
    world = World(plan, task.n, ss, build_pipeline(plan), dtype=dtype)
    try:
        rec = Recorder(world, compile_outcomes(plan), task.chunk, task.offset, task.keep_final, task.keep_traj)
        for _ in range(plan.horizon):
            world.step()
        res = rec.result(time.perf_counter() - t0)
        res.peak_rss_mb = peak_rss_mb()
        return res
    finally:
        world.release()


def empty_result(task: Task):
    """A chunk result of zero replicates: the shapes every merge starts from."""
    import dataclasses

    return _simulate(dataclasses.replace(task, n=0, chunk=0, offset=0))


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux and macOS)."""
    try:
        import resource
        import sys

        r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return r / (1024 * 1024) if sys.platform == "darwin" else r / 1024
    except (ImportError, OSError):  # pragma: no cover
        return float("nan")


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the main process, which stops them."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Backend(Protocol):
    """Runs chunk tasks; yields results as they finish (any order)."""

    name: str
    workers: int

    def run(self, fn: Callable[[Task], Any], tasks: list[Task]) -> Iterator[Any]: ...

    def close(self, abort: bool = False) -> None: ...


class InProcess:
    """Runs chunks one after another in this process."""

    name = "in-process"
    workers = 1

    def run(self, fn: Callable[[Task], Any], tasks: list[Task]) -> Iterator[Any]:
        for t in tasks:
            yield fn(t)

    def close(self, abort: bool = False) -> None:
        pass


class ProcessPool:
    """Runs chunks in a pool of worker processes (``spawn``), a few tasks in flight each."""

    name = "processes"

    def __init__(self, workers: int):
        import multiprocessing as mp

        self.workers = workers
        self.pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=mp.get_context("spawn"), initializer=_ignore_sigint
        )

    def run(self, fn: Callable[[Task], Any], tasks: list[Task]) -> Iterator[Any]:
        from concurrent.futures.process import BrokenProcessPool

        pending: set[Future] = set()
        task_of: dict[Future, Task] = {}
        it = iter(tasks)
        limit = self.workers * 2

        def submit(t: Task) -> None:
            f = self.pool.submit(fn, t)
            task_of[f] = t
            pending.add(f)

        for t in it:
            submit(t)
            if len(pending) >= limit:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                t = task_of.pop(f)
                try:
                    res = f.result()
                except BrokenProcessPool:
                    raise ChunkFailed(t.payload[0].meta.name, t.chunk, t.offset, t.offset + t.n - 1,
                                      "a worker process died (killed, or out of memory?)") from None
                yield res
                nxt = next(it, None)
                if nxt is not None:
                    submit(nxt)

    def close(self, abort: bool = False) -> None:
        """Shut the pool down; on ``abort`` (Ctrl-C, a failed chunk) stop workers at once."""
        if abort:
            procs = list(getattr(self.pool, "_processes", {}).values())
            self.pool.shutdown(wait=False, cancel_futures=True)
            for p in procs:
                if p.is_alive():
                    p.terminate()
            for p in procs:
                p.join(timeout=5)
        else:
            self.pool.shutdown(wait=True, cancel_futures=True)


class DaskBackend:
    """Runs chunks on a Dask cluster: an existing scheduler, or a LocalCluster it starts.

    Chunks are submitted as tasks (``simulate_chunk`` on each ``Task``); results come
    back as they finish and are merged in chunk order by :func:`execute`, so results are
    identical to the local backends. Workers need ``sim`` installed (same version).
    """

    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None):
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - depends on the install
            from .scenario.errors import option_error

            raise option_error("--backend", "dask needs the dask extra: pip install 'sim[dask]'") from exc
        self.cluster = None
        if scheduler:
            self.client = Client(scheduler, timeout="20s")
        else:
            n = workers or os.cpu_count() or 1
            self.cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                        dashboard_address=None, silence_logs=40)
            self.client = Client(self.cluster)
        self.workers = len(self.client.scheduler_info().get("workers", {})) or (workers or 1)
        self.scheduler = scheduler or self.cluster.scheduler_address

    def run(self, fn: Callable[[Task], Any], tasks: list[Task]) -> Iterator[Any]:
        from distributed import as_completed

        limit = max(2, self.workers * 2)
        it = iter(tasks)
        futures = [self.client.submit(fn, t, pure=False) for t, _ in zip(it, range(limit), strict=False)]
        ac = as_completed(futures)
        for fut in ac:
            yield fut.result()
            nxt = next(it, None)
            if nxt is not None:
                ac.add(self.client.submit(fn, nxt, pure=False))

    def close(self, abort: bool = False) -> None:
        try:
            if abort:
                self.client.cancel(list(self.client.futures.values()) if hasattr(self.client, "futures") else [])
        finally:
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()


def choose_workers(workers: int | None, runs: int, months: int, chunks: int) -> int:
    """How many processes to use: the request, or all cores for runs big enough to pay."""
    if workers is not None:
        return max(1, min(workers, chunks))
    if runs * months < POOL_MIN_WORK:
        return 1
    return max(1, min(os.cpu_count() or 1, chunks))


def make_tasks(key: str, payload: Any, runs: int, seed: int, chunk_size: int, keep_final: int, keep_traj: int) -> list[Task]:
    tasks = []
    for i, off in enumerate(range(0, runs, chunk_size)):
        tasks.append(Task(key, payload, i, min(chunk_size, runs - off), off, seed, keep_final, keep_traj))
    return tasks


def execute(
    tasks: list[Task],
    backend: Backend,
    merge: Callable[[Any], None],
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Run tasks on a backend, merging results strictly in chunk order.

    Returns the number of replicates merged. On KeyboardInterrupt or a failed chunk
    the chunks already merged are kept, the backend is stopped at once, and the
    exception is re-raised.
    """
    total = sum(t.n for t in tasks)
    buffer: dict[int, Any] = {}
    nxt = 0
    done = 0
    ok = False
    try:
        for res in backend.run(simulate_chunk, tasks):
            buffer[res.chunk] = res
            while nxt in buffer:
                r = buffer.pop(nxt)
                merge(r)
                done += r.n
                nxt += 1
            if progress:
                progress(done, total)
        ok = True
    finally:
        backend.close(abort=not ok)
    return done
