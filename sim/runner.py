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
POOL_MIN_WORK = 400_000
"""Below this many replicate-months a run stays in-process (process start-up costs more)."""


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
    """Run one chunk to the horizon and return its :class:`~sim.outcomes.ChunkResult`."""
    from .outcomes import Recorder, compile_outcomes
    from .rules import build_pipeline
    from .world.model import World

    t0 = time.perf_counter()
    plan = _plan_for(task)
    dtype = np.dtype(task.payload[3])
    ss = np.random.SeedSequence(task.seed, spawn_key=(task.chunk,))
    world = World(plan, task.n, ss, build_pipeline(plan), dtype=dtype)
    try:
        rec = Recorder(world, compile_outcomes(plan), task.chunk, task.offset, task.keep_final, task.keep_traj)
        for _ in range(plan.horizon):
            world.step()
        return rec.result(time.perf_counter() - t0)
    finally:
        world.release()


class Backend(Protocol):
    """Runs chunk tasks; yields results as they finish (any order)."""

    name: str
    workers: int

    def run(self, fn: Callable[[Task], Any], tasks: list[Task]) -> Iterator[Any]: ...

    def close(self) -> None: ...


class InProcess:
    """Runs chunks one after another in this process."""

    name = "in-process"
    workers = 1

    def run(self, fn: Callable[[Task], Any], tasks: list[Task]) -> Iterator[Any]:
        for t in tasks:
            yield fn(t)

    def close(self) -> None:
        pass


class ProcessPool:
    """Runs chunks in a pool of worker processes (``spawn``), a few tasks in flight each."""

    name = "processes"

    def __init__(self, workers: int):
        import multiprocessing as mp

        self.workers = workers
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))

    def run(self, fn: Callable[[Task], Any], tasks: list[Task]) -> Iterator[Any]:
        pending: set[Future] = set()
        it = iter(tasks)
        limit = self.workers * 2
        for t in it:
            pending.add(self.pool.submit(fn, t))
            if len(pending) >= limit:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                yield f.result()
                nxt = next(it, None)
                if nxt is not None:
                    pending.add(self.pool.submit(fn, nxt))

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


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

    Returns the number of replicates merged (all of them unless interrupted; on
    KeyboardInterrupt the chunks already merged are kept and the exception re-raised
    after ``backend.close()``).
    """
    total = sum(t.n for t in tasks)
    buffer: dict[int, Any] = {}
    nxt = 0
    done = 0
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
    finally:
        backend.close()
    return done
