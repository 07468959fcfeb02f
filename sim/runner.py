"""Monte Carlo runner: fixed-size chunks, seeded from one SeedSequence, merged in order.

Replicates are cut into chunks of ``chunk_size`` and results are merged in chunk
order. Every random number is addressed by the seed and the replicate's global index
(:mod:`sim.seeding`), not by its chunk: so the same seed gives identical per-replicate
results whatever the chunk size, the backend or the number of workers. Backends share one small interface (:class:`Backend`); the model does
not know which one runs it.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .interrupts import SignalDeferral, interrupt_behind, worker_init
from .outcomes import Recorder, compile_outcomes
from .parts import RuleFailed, receive
from .scenario.errors import InputError, option_error
from .scenario.schema import scenario_model
from .scenario.validation import validate_model
from .world.compile import compile_plan

DEFAULT_CHUNK = 2000
"""Replicates per chunk (recorded in the manifest; results do not depend on it)."""
POOL_MIN_WORK = 1_000_000
"""Below this many replicate-months a run uses no spawned workers (their start, each loading the
kernels, costs more); it may fork some once it is set up (:data:`FORK_MIN_WORK`)."""
FORK_MIN_WORK = 100_000
"""From this many replicate-months (and :data:`FORK_MIN_CHUNKS` chunks) a run too small for
spawned workers runs its first chunk in this process and the rest on workers forked from it
when it is set up (:class:`Forked`), where it can; below, it stays in-process (a chunk of karabakh, 2,000 runs
over 36 months, is 72,000 replicate-months, about 0.3 s of one core)."""
FORK_MIN_CHUNKS = 3
"""Fewest chunks for :class:`Forked`: the first runs here, and at least two are left for its workers."""
DEAD_LOOK_S = 1.0
"""While a pool's workers run, how often the run looks for a worker that died unreported."""
SCHEDULER_TIMEOUT_S = 5
"""Seconds to wait for a Dask scheduler to answer (dask's own default is 30)."""
WORKER_TIMEOUT_S = 60.0
"""Seconds a Dask run waits with no worker left (all lost) before it stops (``workers-lost``)."""
WATCH_S = 0.5
"""How often a Dask run looks at the cluster's workers (and waits for a chunk at most)."""


class WorkerLost(UserWarning):
    """A Dask worker left the cluster during a run (killed, out of memory, its host gone).

    The scheduler gives the chunks it held to the other workers: the run goes on and its
    results do not change. ``chunks`` are those it was running or had queued, as last seen.
    """

    def __init__(self, worker: str, chunks: list[int], left: int):
        self.worker, self.chunks, self.left = worker, chunks, left
        what = (f"chunk{'s' if len(chunks) > 1 else ''} {', '.join(map(str, chunks))} it held "
                f"{'are' if len(chunks) > 1 else 'is'} retried on another worker") if chunks else \
            "it held no chunk when last looked at"
        super().__init__(f"Dask worker {worker} was lost; {what} ({left} worker{'s' if left != 1 else ''} left)")


class ChunkFailed(RuntimeError):
    """A chunk could not be computed: says which chunk of which scenario, and why.

    ``kind`` is ``"chunk-failed"`` (the chunk raised an error), ``"worker-lost"``
    (the process running it died: killed, or out of memory) or ``"workers-lost"`` (a Dask
    cluster with no worker left for the time allowed).
    """

    def __init__(self, scenario: str, chunk: int, first: int, last: int, error: str, trace: str = "",
                 kind: str = "chunk-failed"):
        self.scenario, self.chunk, self.error, self.trace = scenario, chunk, error, trace
        self.first, self.last, self.kind = first, last, kind
        super().__init__(
            f"chunk {chunk} (replicates {first}-{last}) of scenario '{scenario}' failed: {error}"
        )

    def __reduce__(self):  # picklable across processes
        return (ChunkFailed, (self.scenario, self.chunk, self.first, self.last, self.error, self.trace, self.kind))


class IncompleteRun(RuntimeError):
    """Internal error: fewer chunks came back than were sent, and nothing stopped the run."""


class WorkersCapped(UserWarning):
    """More workers were asked for than there are cores; the run uses the cores."""

    def __init__(self, requested: int, used: int, cores: int):
        self.requested, self.used, self.cores = requested, used, cores
        super().__init__(
            f"workers={requested} is more than the {cores} core{'s' if cores != 1 else ''} available; "
            f"using {used} (oversubscribe=True to use more)"
        )


def _worker_lost(t: Task, why: str = "a worker process died (killed, or out of memory?)") -> ChunkFailed:
    return ChunkFailed(t.spec.name, t.chunk, t.offset, t.offset + t.n - 1, why, kind="worker-lost")


@dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs to build a run's world, as plain picklable data.

    The scenario travels as its resolved data (validated again in the worker, against
    the same declarations), and parts declared outside the package (a notebook's rule)
    travel pickled by value (:func:`sim.parts.ship`), so workers that cannot import them
    still run them.

    Attributes:
        key: Hash of everything below (plan cache key in a worker).
        name: The scenario's name (for messages).
        scenario: The resolved scenario as plain data.
        horizon: Months to simulate from the start.
        dtype: ``float32`` or ``float64``.
        levers: ``(actor, lever)`` pulled from the start.
        parts: Custom parts, pickled by value, or None.
        seed_entropy, seed_key: The run's root SeedSequence.
        fixed: Per-replicate values of some parameters over the whole run
            (``{path: array (runs,)}`` or :class:`PerSet`): a study's parameter sets.
            Tasks carry only their own slice (:attr:`Task.fixed`), so a big sweep
            does not ship its whole table with every chunk.
        switch: Levers switched on for some replicates only: ``(actor, lever)``; the
            replicates where each is on are given as ``fixed["lever:actor.lever"]``
            (values >= 0.5 mean on), and its effect is applied to them at the start.
        record: Parameter paths whose per-replicate values are returned with the
            chunk's per-replicate data; None returns no per-replicate data.
        start: A world snapshot to continue from (its replicate ``start_replicate``)
            instead of the scenario's start: the continuations of a played game. A
            ``history`` entry (:meth:`sim.outcomes.recorder.Recorder.history`) makes the
            results cover the game's months so far.
        keep_final, keep_traj: Replicates (from the start of the run) whose final values
            and trajectories are kept.
        block: Replicates per block (0: none). A run of several blocks of the same
            layout (the policies of a policy search, each on the same worlds) is cut into
            chunks within each block, and a replicate draws the random numbers of its place in
            its block, so replicate i of every block draws the same random numbers (common random
            numbers across blocks within one Monte Carlo).
        series: Return every replicate's monthly values of the recorded states with the
            per-replicate data (``--trajectories``; needs ``record``).
        month_effects: Effects applied at the start of a month, before its rules, as a
            game applies its deck's injects (the injects still to come in a game's
            continuations): ``{"at": "YYYY-MM" or None, "when": predicate or None,
            "effect": effect data}`` in the order given, each at most once per replicate:
            in its month (``at``) or the first month its condition holds (``when``).
    """

    key: str
    name: str
    scenario: dict
    horizon: int
    dtype: str
    levers: tuple = ()
    parts: bytes | None = None
    seed_entropy: int = 0
    seed_key: tuple = ()
    fixed: dict | None = None
    switch: tuple = ()
    record: tuple | None = None
    start: dict | None = None
    start_replicate: int = 0
    keep_final: int = 10_000
    keep_traj: int = 300
    block: int = 0
    series: bool = False
    month_effects: tuple = ()

    def root(self) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.seed_entropy, spawn_key=self.seed_key)


@dataclass(frozen=True)
class Task:
    """One chunk of work: the run's spec and which replicates (picklable)."""

    spec: RunSpec
    chunk: int
    n: int
    offset: int
    fixed: dict | None = None  # this chunk's slice of the per-replicate parameter values
    stream: int | None = None  # its place in its block (None: no blocks; see RunSpec.block)

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def first(self) -> int:
        """The global index of the task's first replicate in the random numbers: its offset
        in the run, or in its block (:attr:`RunSpec.block`)."""
        return self.offset % self.spec.block if self.spec.block else self.offset


_PLANS: dict[str, Any] = {}


def remember_plan(key: str, plan: Any) -> None:
    """Give this process a plan already compiled (the main process compiles it once)."""
    _PLANS.clear()
    _PLANS[key] = plan


def plan_from_spec(spec: RunSpec):
    """Validate the spec's scenario data and compile its plan (in a worker)."""
    from .rules import resolve_rules

    receive(spec.parts)
    try:
        scn = validate_model(scenario_model(), spec.scenario, file=f"<{spec.name}>")
        rules, problems = resolve_rules(spec.scenario.get("rules"), f"<{spec.name}>")
    except InputError as exc:  # the data was valid in the main process: a version mismatch
        raise RuntimeError(f"the scenario does not validate in this worker: {exc.format('worker')}") from None
    if problems:
        raise RuntimeError("the rules do not validate in this worker: " + InputError(problems).format("worker"))
    return compile_plan(scn, rules, spec.horizon, list(spec.levers))


def _plan_for(task: Task):
    plan = _PLANS.get(task.key)
    if plan is None:
        plan = plan_from_spec(task.spec)
        remember_plan(task.key, plan)
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
        stop = interrupt_behind(exc)
        if stop is not None:  # Ctrl-C or SIGTERM landed in a kernel's call: a stop, not a failed chunk
            raise stop from None
        raise chunk_failure(task, exc) from None
    finally:
        _tidy_worker()


class _Worker:
    own = False  # this process is one of sim's own pool workers (worker_start ran)
    frozen = False
    chunks = 0
    EVERY = 8  # chunks between collections: at most this many worlds wait to be freed


def worker_start(parent: int) -> None:
    """Each pool worker's initializer: :func:`sim.interrupts.worker_init`, and the note that
    the process is sim's own (see :func:`_tidy_worker`)."""
    worker_init(parent)
    _Worker.own = True


def _tidy_worker() -> None:
    """In sim's own pool workers, every :attr:`_Worker.EVERY` chunks: free the finished chunks' worlds. A world and
    its Mesa agents refer to each other, so only the cycle collector frees them, and its full
    collections come rarely in a process with numba loaded (about 150,000 long-lived objects,
    ~45 ms a collection): a worker running hundreds of chunks held many chunks' worlds at
    once (a million karabakh runs: 520-770 MB a worker, growing with the chunks). After the
    first chunk the objects alive (modules, kernels, plans) are frozen out of the collector's
    sight (``gc.freeze``), so each later collection looks at the new objects only. A
    collection after every chunk looked about 6% slower on a 300,000-run, two-worker karabakh
    run (two pairs, noisy); every 8 chunks no slower within the noise, the workers at 330 MB.
    Not done in the main process or a Dask worker, whose objects are not all sim's to freeze."""
    if not _Worker.own:
        return
    _Worker.chunks += 1
    if _Worker.frozen and _Worker.chunks % _Worker.EVERY:
        return
    import gc

    gc.collect()
    if not _Worker.frozen:
        gc.freeze()
        _Worker.frozen = True


def chunk_failure(task: Task, exc: Exception) -> ChunkFailed:
    """The :class:`ChunkFailed` for an error of a chunk (a rule's names the rule and its module)."""
    import traceback


    error = str(exc) if isinstance(exc, RuleFailed) else f"{type(exc).__name__}: {exc}"
    return ChunkFailed(task.spec.name, task.chunk, task.offset, task.offset + max(task.n, 1) - 1, error,
                       traceback.format_exc())


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
    from .ahead import settle
    from .rules.kernels import counts
    from .world.opening import opened

    t0 = time.perf_counter()
    spec = task.spec
    plan = _plan_for(task)
    settle(plan)  # a background compile of the kernels under way: wait for it rather than compile beside it
    k0 = counts()
    fixed = dict(task.fixed) if task.fixed is not None else _slice_fixed(spec.fixed, task.offset, task.n)
    switched = {k: fixed.pop(k) for k in list(fixed or {}) if k.startswith(LEVER_PREFIX)} if fixed else {}
    switch = {(actor, lever): np.asarray(switched[f"{LEVER_PREFIX}{actor}.{lever}"]) >= 0.5  # on in some sets only
              for actor, lever in spec.switch}
    with opened(plan, task.n, spec.root(), dtype=np.dtype(spec.dtype), fixed=fixed or None, switch=switch,
                start=spec.start, start_replicate=spec.start_replicate, first=task.first) as world:
        rec = Recorder(world, compile_outcomes(plan), task.chunk, task.offset, spec.keep_final, spec.keep_traj,
                       record=spec.record, switched=switched, series=spec.series)
        if spec.start is not None and spec.start.get("history") is not None:
            rec.preload(spec.start["history"])  # a played game's outcomes and months so far
        due = month_effects(plan, spec.month_effects, task.n)
        while world.elapsed < plan.horizon:
            due(world)
            world.step()
        res = rec.result(time.perf_counter() - t0)
        res.peak_rss_mb = peak_rss_mb()
        k1 = counts()
        res.kernels = {k: k1[k] - k0[k] for k in k1}  # loaded or compiled by this chunk, in its process
        return res


def month_effects(plan: Any, items: Sequence[dict], n: int) -> Callable[[Any], None]:
    """What applies :attr:`RunSpec.month_effects` at the start of each month of a world of
    ``n`` replicates: ``due(world)`` before ``world.step()``."""
    if not items:
        return lambda w: None
    from .scenario.expr import month_index
    from .scenario.schema import Effect
    from .world.predicates import compile_predicate

    table = [(month_index(e["at"]) if e.get("at") else None, compile_predicate(e["when"], plan) if e.get("when") else None,
              Effect.model_validate(e["effect"])) for e in items]
    done = np.zeros((len(table), n), dtype=bool)

    def due(w) -> None:
        month = plan.start + w.elapsed  # the month about to be simulated
        for i, (at, when, effect) in enumerate(table):
            if at is not None:
                mask = np.full(n, at == month) & ~done[i]
            elif when is not None:
                mask = np.asarray(when(w), dtype=bool) & ~done[i]
            else:
                continue
            if mask.any():
                w.apply_effect(effect, mask)
                done[i] |= mask

    return due


def empty_result(task: Task):
    """A chunk result of zero replicates: the shapes every merge starts from."""
    import dataclasses

    fixed = {k: v[:0] for k, v in task.fixed.items()} if task.fixed else None
    return _simulate(dataclasses.replace(task, n=0, chunk=0, offset=0, fixed=fixed))


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux and macOS)."""
    try:
        import resource
        import sys

        r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return r / (1024 * 1024) if sys.platform == "darwin" else r / 1024
    except (ImportError, OSError):  # pragma: no cover
        return float("nan")


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the system tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS, Windows
        return max(1, os.cpu_count() or 1)


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


POOL_IDLE_S = 300.0
"""Seconds the worker processes of a finished run are kept for the next run in this process."""


class _Kept:
    """The worker processes a finished run left for the next run (at most one pool per process)."""

    lock = threading.Lock()
    pool: ProcessPoolExecutor | None = None
    key: tuple | None = None
    timer: threading.Timer | None = None


def _context(workers: int) -> tuple:
    """What a pool's workers were started with, which a later run must share to use them: the
    number of workers, and this process's environment variables, import path and folder
    (a spawned worker copies them when it starts)."""
    return (workers, tuple(sorted(os.environ.items())), tuple(sys.path), os.getcwd())


def _processes(pool: ProcessPoolExecutor) -> list:
    """The pool's worker processes now (a private attribute of the executor: none if it has none)."""
    return list((getattr(pool, "_processes", None) or {}).values())


def _alive(pool: ProcessPoolExecutor) -> bool:
    """The pool can take work: not broken or shut down, and none of its workers died while idle."""
    if getattr(pool, "_broken", False) or getattr(pool, "_shutdown_thread", False):
        return False
    return all(p.is_alive() for p in _processes(pool))


def _end(pool: ProcessPoolExecutor, graceful: bool = True) -> None:
    """Shut ``pool`` down and make sure its workers are gone: ``graceful``, idle workers end
    on the pool's word (a few seconds at most, then killed); otherwise (a run stopped, a pool
    broken) they are killed at once. Workers ignore SIGTERM, which is all a broken pool sends
    them: its own shutdown would wait for them for ever."""
    procs = _processes(pool)
    manager = getattr(pool, "_executor_manager_thread", None)
    results = getattr(pool, "_result_queue", None)
    if not graceful:
        # first: from Python 3.12 a broken pool's manager thread holds the pool's shutdown lock
        # while it waits for the workers it sent SIGTERM to end, so shutdown() would wait for it
        # for ever (a worker killed while another was sending a result hung the run on 3.12)
        for p in procs:
            if p.is_alive():
                p.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    if graceful:
        for p in procs:
            p.join(timeout=5)
    for p in procs:
        if p.is_alive():
            p.kill()
    for p in procs:
        p.join(timeout=5)
    _unblock(manager, results)


def _kill_when_broken(pool: ProcessPoolExecutor, stop: threading.Event) -> None:
    """Until ``stop``: once ``pool`` is broken (a worker died), kill its other workers. A broken
    pool sends them SIGTERM, which they ignore (:func:`sim.interrupts.worker_init`), and from
    Python 3.12 its manager thread then waits for them to end holding the pool's lock, so the
    run's next ``submit`` or ``shutdown`` waited for ever (a worker killed while another sent a
    result hung the run on 3.12)."""
    while not stop.wait(DEAD_LOOK_S / 4):
        if getattr(pool, "_broken", False):
            try:
                procs = _processes(pool)
            except RuntimeError:  # changed while read: look again
                continue
            for p in procs:
                if p.is_alive():
                    p.kill()
            return


def _take_kept(key: tuple) -> ProcessPoolExecutor | None:
    """The kept pool, if it was started like ``key`` and is whole; any other kept pool ends."""
    with _Kept.lock:
        pool, same = _Kept.pool, _Kept.key == key
        if _Kept.timer is not None:
            _Kept.timer.cancel()
        _Kept.pool, _Kept.key, _Kept.timer = None, None, None
    if pool is None:
        return None
    alive = _alive(pool)
    if same and alive:
        return pool
    _end(pool, graceful=alive)
    return None


def _keep(key: tuple, pool: ProcessPoolExecutor) -> None:
    """Keep a finished run's pool for the next run (it ends after :data:`POOL_IDLE_S` idle)."""
    with _Kept.lock:
        old = _Kept.pool
        if _Kept.timer is not None:
            _Kept.timer.cancel()
        _Kept.pool, _Kept.key = pool, key
        _Kept.timer = threading.Timer(POOL_IDLE_S, _expire, args=(pool,))
        _Kept.timer.daemon = True
        _Kept.timer.start()
    if old is not None and old is not pool:
        _end(old, graceful=_alive(old))


def _expire(pool: ProcessPoolExecutor) -> None:
    with _Kept.lock:
        if _Kept.pool is not pool:
            return
        _Kept.pool, _Kept.key, _Kept.timer = None, None, None
    _end(pool, graceful=_alive(pool))


def close_workers() -> None:
    """End the worker processes kept from a finished run now (they end by themselves after
    :data:`POOL_IDLE_S` seconds idle, and when this process ends)."""
    with _Kept.lock:
        pool = _Kept.pool
        if _Kept.timer is not None:
            _Kept.timer.cancel()
        _Kept.pool, _Kept.key, _Kept.timer = None, None, None
    if pool is not None:
        _end(pool, graceful=_alive(pool))


def kept_workers() -> list[int]:
    """The process ids of the workers kept from a finished run (none: an empty list)."""
    with _Kept.lock:
        pool = _Kept.pool
    return sorted((getattr(pool, "_processes", None) or {}).keys()) if pool is not None else []


class ProcessPool:
    """Runs chunks in a pool of worker processes (``spawn``), a few tasks in flight each.

    Workers ignore SIGINT and SIGTERM (the main process stops them) and end by
    themselves when the main process dies.

    A run that ends normally leaves its workers to the next run in this process that asks
    for as many, from the same environment (variables, import path, folder) and with the
    same custom parts: a worker pays its start (imports, the kernels loaded from numba's
    cache) once, not once per run. A run stopped (Ctrl-C, SIGTERM, a failed chunk) ends
    its workers at once. Kept workers end after :data:`POOL_IDLE_S` seconds idle, when
    this process ends, or with :func:`close_workers`. Results do not depend on which
    processes run the chunks (each chunk is seeded by its number); a worker's peak memory
    (``peak_rss_mb`` of the manifest) is its peak since it started.
    """

    name = "processes"

    def __init__(self, workers: int):
        self.workers = workers
        self.key = _context(workers)
        kept = _take_kept(self.key)
        self.reused = kept is not None
        self.pool = kept or self._start()
        self.closed = False

    def _start(self) -> ProcessPoolExecutor:
        import multiprocessing as mp

        return ProcessPoolExecutor(
            max_workers=self.workers, mp_context=mp.get_context("spawn"), initializer=worker_start,
            initargs=(os.getpid(),),
        )

    def run(self, fn: Callable[[Task], Any], tasks: list[Task]) -> Iterator[Any]:
        parts = getattr(getattr(tasks[0], "spec", None), "parts", None) if len(tasks) else None
        served = getattr(self.pool, "sim_parts", parts)
        if served != parts:  # its workers registered other custom parts, which would stay registered
            self._restart()
        if self.reused:
            given = False
            try:
                for res in self._run(fn, tasks, parts):
                    given = True
                    yield res
                return
            except ChunkFailed as exc:
                if given or exc.kind != "worker-lost":
                    raise
            # a kept worker died while idle (killed, out of memory) and the pool found out only now:
            # nothing of this run was given yet, so it starts again on new workers
            self._restart()
        yield from self._run(fn, tasks, parts)

    def _restart(self) -> None:
        _end(self.pool, graceful=_alive(self.pool))
        self.pool = self._start()
        self.reused = False

    def _run(self, fn: Callable[[Task], Any], tasks: list[Task], parts: bytes | None,
             here: Callable[[], Any] | None = None) -> Iterator[Any]:
        """Run ``tasks`` on the pool, yielding each result as it comes; ``here``, if given,
        runs in this process once the first tasks are submitted (the workers started), and
        its result is yielded first (:class:`Forked`: the first chunk)."""
        from concurrent.futures.process import BrokenProcessPool

        self.pool.sim_parts = parts  # type: ignore[attr-defined]
        pending: set[Future] = set()
        task_of: dict[Future, Task] = {}
        it = iter(tasks)

        def submit(t: Task) -> None:
            try:
                f = self.pool.submit(fn, t)
            except BrokenProcessPool:
                raise _worker_lost(t) from None
            task_of[f] = t
            pending.add(f)

        # watching from before the first submit: a kept pool may be broken already (a worker died
        # while idle), and from Python 3.12 its manager thread then holds the lock submit takes
        # until the other workers end, which they do only when killed
        watch = threading.Event()
        watcher = threading.Thread(target=_kill_when_broken, args=(self.pool, watch), name="sim-pool-watch",
                                   daemon=True)
        watcher.start()
        try:
            for t in itertools.islice(it, self.workers * 2):
                submit(t)
            if here is not None:
                yield here()
            dead_seen = 0
            while pending:
                done, pending = wait(pending, timeout=DEAD_LOOK_S, return_when=FIRST_COMPLETED)
                if not done:
                    # a worker killed while it sent a result leaves the pool's manager thread waiting
                    # for the rest of that message, and no future ever ends: a dead worker the pool
                    # has not reported by the next look is reported here
                    dead = [p for p in _processes(self.pool) if p.exitcode is not None]
                    dead_seen = dead_seen + 1 if dead else 0
                    if dead_seen >= 2:
                        raise _worker_lost(min((task_of[f] for f in pending), key=lambda t: t.chunk))
                    continue
                dead_seen = 0
                for f in sorted(done, key=lambda f: task_of[f].chunk):
                    t = task_of.pop(f)
                    try:
                        res = f.result()
                    except BrokenProcessPool:
                        raise _worker_lost(t) from None
                    yield res
                    nxt = next(it, None)
                    if nxt is not None:
                        submit(nxt)
        finally:
            watch.set()
            watcher.join(timeout=5)  # gone before the run ends: a later run may fork only where no thread runs

    def close(self, abort: bool = False) -> None:
        """Keep the workers for the next run; on ``abort`` (Ctrl-C, SIGTERM, a failed chunk)
        stop them at once."""
        if self.closed:
            return
        self.closed = True
        if not abort and _alive(self.pool):
            # the environment now, not at the start: a library the run imported may have set a
            # variable of its own (threadpoolctl's KMP_DUPLICATE_LIB_OK), which is no change of the user's
            _keep(_context(self.workers), self.pool)
            return
        _end(self.pool, graceful=False)  # stopped, or broken: workers ignore SIGTERM, so they are killed


def can_fork() -> bool:
    """Whether this platform forks worker processes safely: Linux and the other POSIX systems
    but macOS, whose system libraries are not safe to use in a forked child (Python itself
    spawns there)."""
    import multiprocessing as mp

    return sys.platform != "darwin" and "fork" in mp.get_all_start_methods()


def fork_unsafe(ignore: Collection[threading.Thread] = ()) -> str | None:
    """Why this process should not fork now, or None: another thread is running (the child
    would inherit any lock it holds, held for ever: a notebook's kernel, a progress bar that
    redraws itself, a kept pool's timer), or the platform does not fork (:func:`can_fork`).
    ``ignore``: threads not to count (the tests': those earlier tests left idle)."""
    if not can_fork():
        return "the platform does not fork"
    others = [t.name for t in threading.enumerate() if t is not threading.current_thread() and t not in ignore]
    if others or threading.current_thread() is not threading.main_thread():
        return f"other threads are running ({', '.join(others) or 'this is not the main thread'})"
    return None


FORK_ENV = "SIM_FORK"
"""``SIM_FORK=0``: a run never forks its workers (:class:`Forked`: in-process, as before);
``SIM_FORK=1``: it forks them even where the other cores were busy (:func:`free_cores`)."""


def fork_verdict(left: int, workers: int, since: tuple[float, float] | None = None) -> tuple[str | None, int]:
    """Whether :class:`Forked` forks for the ``left`` chunks after its first: (why not, or None;
    how many workers, at most ``workers``). ``since``: :func:`cpu_times` when the run began."""
    from .ahead import OFF, ON

    asked = os.environ.get(FORK_ENV, "").strip().lower()
    if asked in OFF:
        return f"{FORK_ENV}={os.environ[FORK_ENV]}", 1
    if left < 2:
        return "one chunk left", 1
    why = fork_unsafe()
    if why is not None:
        return why, 1
    n = workers if asked in ON else min(workers, free_cores(since))
    if n < 2:
        return (f"{n} core{'s' if n != 1 else ''} free: the others were busy ({FORK_ENV}=1 forks even so)"), 1
    return None, min(n, left)


_SIDE: set[int] = set()


def side_process(pid: int, on: bool = True) -> None:
    """Count process ``pid``'s CPU time as free in :func:`cpu_times` (``on``), or no longer:
    a helper of this run's own (the report's painter, :mod:`sim.report.early`), whose work
    on a second core does not mean that another program took it."""
    if on:
        _SIDE.add(pid)
    else:
        _SIDE.discard(pid)


def _side_ticks() -> float:
    """CPU time (user and system, clock ticks) of the :func:`side_process` processes so far."""
    total = 0.0
    for pid in list(_SIDE):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += float(fields[11]) + float(fields[12])  # utime, stime (fields 14 and 15 of stat)
        except (OSError, ValueError, IndexError):
            pass
    return total


def cpu_times() -> tuple[float, float] | None:
    """The machine's idle and total CPU time so far, all cores together (``/proc/stat``, in
    clock ticks; idle counts waiting for the disk, and the CPU time of this run's
    :func:`side_process` helpers), or None where there is no such file."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        ticks = [float(x) for x in fields[1:9]]
    except (OSError, ValueError):
        return None
    if not fields or fields[0] != "cpu" or len(ticks) < 5:
        return None
    return ticks[3] + ticks[4] + (_side_ticks() if _SIDE else 0.0), sum(ticks)


MEASURE_MIN_TICKS = 50
"""Fewest clock ticks (all cores together: half a second of one core at 100 a second) over
which :func:`free_cores` trusts what ``/proc/stat`` says; less, and it asks the load average."""


def free_cores(since: tuple[float, float] | None) -> int:
    """The cores a run could use now: this process's own, and those that were idle beside it
    since ``since`` (:func:`cpu_times` when it began: its set-up, which kept
    one core busy), at most the cores available to it. Where that cannot be measured (no
    ``/proc/stat``, too short a time), the cores the load average of the last minute leaves
    idle (:func:`sim.ahead.idle_cores`) -- which counts the runs just before this one, so a
    run that follows another at once would find the machine busy."""
    now = cpu_times()
    if since is not None and now is not None and now[1] - since[1] >= MEASURE_MIN_TICKS:
        idle = (now[0] - since[0]) / (now[1] - since[1]) * (os.cpu_count() or 1)
        return max(1, min(available_cores(), 1 + int(idle + 0.5)))
    from .ahead import idle_cores

    return idle_cores()


class Forked(ProcessPool):
    """Forks worker processes once the run is set up, and runs the first chunk in this process
    beside them while they run the others.

    For runs too small to pay for spawned workers (:data:`POOL_MIN_WORK`), each of which
    imports sim and loads the kernels from numba's cache before its first chunk (0.2-0.9 s).
    The run's set-up has loaded the kernels here (its chunk of no replicates calls them, all
    but the draws' and counts' few that skip empty arrays); workers forked after it have them,
    and the plan. The first chunk runs here at the same time, so that the chunks' work spreads
    over the cores from the start: with two cores, this process and two workers share them
    for one chunk's time, and karabakh's five chunks take about two and a half chunks' time
    rather than three (``sim run --runs 10000`` against forking after the first chunk: 2.51 ->
    2.39 s, medians of 12 alternated pairs, faster in 10; the paired ratio's median was 0.95,
    0.95 and 1.02 in three batches of 12, 8 and 8 pairs, the last at a load of 2). It forks one
    worker per free core (at most ``workers``, and one per chunk left after the first), and
    only where two cores at least are free: its own, and one that stayed idle beside it
    through its set-up (:func:`free_cores`; on a busy machine the workers would only share the cores the run had:
    measured, no faster, and a little slower; ``SIM_FORK=1`` forks even so, ``SIM_FORK=0``
    never: :data:`FORK_ENV`), and where no other thread runs (:func:`fork_unsafe`). Where it
    does not fork, the other chunks run here too, one after the other; :attr:`name` and
    :attr:`workers` then say ``in-process`` and 1, and :attr:`why_not` why. The objects alive
    when the workers are forked are frozen out of this process's garbage collector until they
    end (``gc.freeze``, unless something froze some before), so that the workers' collections
    do not touch, and copy, the memory they share with it.

    Once forked, as :class:`ProcessPool`, whose pool it uses (with ``fork`` for this pool only:
    multiprocessing's start method is not changed): chunks merged in order as they come,
    a failed chunk is :class:`ChunkFailed` naming it, a worker that dies is ``worker-lost``,
    Ctrl-C and SIGTERM stop the workers at once, and workers end with this process. The
    workers are not kept for the next run (they hold this run's plan): they end with the run.
    Results are those of any other backend (each chunk is seeded by its number).
    """

    name = "forked"

    def __init__(self, workers: int):
        self.workers = workers
        self.pool = None  # type: ignore[assignment]  # forked when the run is set up
        self.reused = False
        self.closed = False
        self.why_not: str | None = None  # why the workers were not forked (chunks ran here)
        self._frozen = False
        self.since = cpu_times()  # made before the run's set-up: how busy the machine is is measured from here

    def _start(self) -> ProcessPoolExecutor:
        import multiprocessing as mp

        return ProcessPoolExecutor(
            max_workers=self.workers, mp_context=mp.get_context("fork"), initializer=worker_start,
            initargs=(os.getpid(),),
        )

    def run(self, fn: Callable[[Task], Any], tasks: list[Task]) -> Iterator[Any]:
        if not len(tasks):
            return
        rest = tasks[1:]
        self.why_not, n = fork_verdict(len(rest), self.workers, self.since)
        if self.why_not is not None:
            self.name, self.workers = "in-process", 1
            for t in tasks:
                yield fn(t)
            return
        import gc

        self._frozen = gc.get_freeze_count() == 0
        if self._frozen:
            gc.freeze()
        self.workers = n
        self.pool = self._start()
        given = False
        try:
            # the workers are forked with the first chunk submitted to them; the first chunk
            # then runs here, beside them
            for res in self._run(fn, rest, None, here=lambda: fn(tasks[0])):
                given = True
                yield res
        except OSError as exc:  # the fork itself failed (out of memory, too many processes)
            if given:
                raise
            _end(self.pool, graceful=False)
            self.pool = None  # type: ignore[assignment]
            self.why_not = f"the workers could not be forked ({exc})"
            self.name, self.workers = "in-process", 1
            for t in tasks:
                yield fn(t)

    def close(self, abort: bool = False) -> None:
        """End the workers: at once on ``abort`` (Ctrl-C, SIGTERM, a failed chunk), else when idle."""
        if self.closed:
            return
        self.closed = True
        try:
            if self.pool is not None:
                _end(self.pool, graceful=not abort and _alive(self.pool))
        finally:
            if self._frozen:
                import gc

                gc.unfreeze()
                self._frozen = False


def _unblock(manager: Any, results: Any) -> None:
    """A worker killed while it was sending a result leaves the pool's result-reading
    thread waiting for the rest of that message, and the interpreter would wait for that
    thread forever when it exits. With the workers gone, closing this process's end of
    the result pipe gives the reader an end of file, and the thread ends."""
    if manager is None or not manager.is_alive():
        return
    manager.join(timeout=2)
    if manager.is_alive() and results is not None:
        try:
            results._writer.close()
        except (AttributeError, OSError):  # pragma: no cover - another Python's internals
            return
        manager.join(timeout=5)


def _dask_internal(record: Any) -> bool:
    """False for asyncio's "Task exception was never retrieved" about distributed's
    ``AllExit``: the client's gather stops early with it on purpose when a result is lost
    with its worker, and leaves the other waiters' copies unread (a traceback on the
    terminal that says nothing the lost-worker line has not said)."""
    exc = record.exc_info[1] if record.exc_info else None
    return not (exc is not None and type(exc).__name__ == "AllExit" and type(exc).__module__.startswith("distributed"))


class DaskBackend:
    """Runs chunks on a Dask cluster: an existing scheduler, or a LocalCluster it starts.

    Chunks are submitted as tasks (``simulate_chunk`` on each ``Task``), a few in flight
    per worker; results come back as they finish and are merged in chunk order by
    :func:`execute`, so results are identical to the local backends. Workers need
    ``sim`` installed (same version). A scheduler that does not answer within
    :data:`SCHEDULER_TIMEOUT_S` is an :class:`~sim.scenario.errors.InputError` naming
    its address.

    While it runs it watches the cluster's workers (every :data:`WATCH_S` seconds): a
    worker that leaves is said at once (a :class:`WorkerLost` warning, which ``sim run``
    prints as one line) and recorded in :attr:`events` (the manifest's ``workers_lost``),
    with the chunks it held, which the scheduler runs again elsewhere (the results do not
    change). When no worker is left for ``worker_timeout`` seconds the run stops with
    :class:`ChunkFailed` of kind ``workers-lost``, the chunks merged before kept.
    """

    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None,
                 worker_timeout: float | None = None):
        self.worker_timeout = WORKER_TIMEOUT_S if worker_timeout is None else float(worker_timeout)
        self.events: list[dict[str, Any]] = []
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise option_error("backend", "dask needs the dask extra: pip install 'sim[dask]'") from exc
        self.cluster = None
        self.closed = False
        if scheduler:
            import logging

            # "Couldn't gather keys, rescheduling" and the like: a lost worker is said once, by _watch
            logging.getLogger("distributed.client").setLevel(logging.ERROR)
            if _dask_internal not in logging.getLogger("asyncio").filters:
                logging.getLogger("asyncio").addFilter(_dask_internal)
            try:
                self.client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
            except (OSError, TimeoutError, ValueError, TypeError) as exc:
                why = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
                raise option_error("scheduler", f"cannot connect to a Dask scheduler at {scheduler} ({why}); "
                                   "is `dask scheduler` running there?") from None
        else:
            n = workers or available_cores()
            self.cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                        dashboard_address=None, silence_logs=40)
            self.client = Client(self.cluster)
        self.workers = len(self.client.scheduler_info().get("workers", {})) or (workers or 1)
        self.scheduler = scheduler or self.cluster.scheduler_address

    def run(self, fn: Callable[[Task], Any], tasks: list[Task]) -> Iterator[Any]:
        from distributed import wait as dask_wait

        try:
            from distributed import KilledWorker
        except ImportError:  # pragma: no cover - older distributed
            from distributed.scheduler import KilledWorker

        it = iter(tasks)
        task_of: dict[Any, Task] = {}
        pending: dict[Any, Any] = {}

        def submit(t: Task) -> None:
            fut = self.client.submit(fn, t, pure=False)
            task_of[fut.key] = t
            pending[fut.key] = fut

        for t in itertools.islice(it, max(2, self.workers * 2)):
            submit(t)
        self._left = len(tasks)  # chunks not yet come back
        self._t0 = time.monotonic()
        self._known = self._workers()
        self._holding: dict[str, set] = {}
        self._alone_since: float | None = None
        while pending:
            try:
                done = dask_wait(list(pending.values()), timeout=WATCH_S, return_when="FIRST_COMPLETED").done
            except TimeoutError:
                done = set()
            for fut in sorted(done, key=lambda f: task_of[f.key].chunk):
                try:
                    res = self._result(fut, pending, task_of)
                except KilledWorker:
                    raise _worker_lost(task_of[fut.key], "the Dask workers running it died, again and again "
                                       "(killed, or out of memory?)") from None
                pending.pop(fut.key, None)
                self._left -= 1
                yield res
                nxt = next(it, None)
                if nxt is not None:
                    submit(nxt)
            if pending:
                self._watch(pending, task_of)

    def _result(self, fut: Any, pending: dict[Any, Any], task_of: dict[Any, Task]) -> Any:
        """A finished chunk's result. Its data may have been on a worker lost since (the
        scheduler then computes it again): wait for it while watching the workers, so a
        cluster with none left stops the run instead of waiting for ever."""
        while True:
            try:
                return fut.result(timeout=WATCH_S)
            except TimeoutError:
                self._watch(pending, task_of)

    def _workers(self) -> set[str]:
        try:
            return set(self.client.scheduler_info().get("workers", {}))
        except (OSError, TimeoutError):  # the scheduler itself is unreachable: no worker we can use
            return set()

    def _watch(self, pending: dict[Any, Any], task_of: dict[Any, Task]) -> None:
        """Say which workers left (and the chunks they held); stop once none is left for
        :attr:`worker_timeout` seconds."""
        now = self._workers()
        try:
            for w, keys in self.client.processing().items():
                self._holding[w] = {k for k in keys if k in pending}
        except (OSError, TimeoutError):
            pass
        for w in sorted(self._known - now):
            chunks = sorted(task_of[k].chunk for k in self._holding.pop(w, set()) if k in pending)
            self.events.append({"event": "worker-lost", "worker": w, "chunks_retried": chunks,
                                "after_s": round(time.monotonic() - self._t0, 1), "workers_left": len(now)})
            warnings.warn(WorkerLost(w, chunks, len(now)), stacklevel=2)
        for w in sorted(now - self._known):
            if self.events:  # a worker joining is news only after one was lost (a nanny's restart, say)
                self.events.append({"event": "worker-joined", "worker": w,
                                    "after_s": round(time.monotonic() - self._t0, 1)})
        self._known = now
        if now:
            self._alone_since = None
            return
        if self._alone_since is None:
            self._alone_since = time.monotonic()
        elif time.monotonic() - self._alone_since >= self.worker_timeout:
            first = min(pending, key=lambda k: task_of[k].chunk)
            t = task_of[first]
            raise ChunkFailed(t.spec.name, t.chunk, t.offset, t.offset + t.n - 1,
                              f"no Dask worker left for {self.worker_timeout:g} s (all were lost); "
                              f"{self._left} chunk(s) could not be run", kind="workers-lost")

    def close(self, abort: bool = False) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            if abort:
                self.client.cancel(list(self.client.futures.values()) if hasattr(self.client, "futures") else [])
        finally:
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()


def choose_workers(workers: int | None, runs: int, months: int, chunks: int, *, backend: str = "auto",
                   oversubscribe: bool = False) -> int:
    """How many local worker processes to use.

    The request if given (at most the cores available unless ``oversubscribe``, with a
    :class:`WorkersCapped` warning when it is cut), else all cores for ``processes`` and
    ``dask``, and for ``auto`` all cores only when the run is big enough to pay for
    starting processes. Never more workers than chunks.
    """
    cores = available_cores()
    if backend == "local":
        return 1
    if workers is not None:
        n = workers
        if n > cores and not oversubscribe:
            n = cores
            warnings.warn(WorkersCapped(workers, min(n, chunks), cores), stacklevel=3)
    elif backend == "auto" and runs * months < POOL_MIN_WORK:
        n = 1
    else:
        n = cores
    return max(1, min(n, chunks))


LEVER_PREFIX = "lever:"
"""Key prefix of a switched lever's per-replicate on/off values in ``fixed``."""


@dataclass(frozen=True)
class PerSet:
    """Per-replicate values laid out by parameter set, without materialising them.

    Replicate ``i`` gets ``values[(i // runs_per_set) % len(values)]``: set ``s`` holds
    replicates ``s*R .. s*R+R-1``, and the layout repeats every ``S*R`` replicates
    (rounds of an adaptive sweep).
    """

    values: np.ndarray
    runs_per_set: int

    def take(self, offset: int, n: int) -> np.ndarray:
        idx = (np.arange(offset, offset + n) // self.runs_per_set) % len(self.values)
        return np.asarray(self.values, dtype=float)[idx]


def _slice_fixed(fixed: dict | None, offset: int, n: int) -> dict | None:
    if not fixed:
        return None
    return {p: (v.take(offset, n) if isinstance(v, PerSet) else np.asarray(v, dtype=float)[offset: offset + n])
            for p, v in fixed.items()}


def make_tasks(spec: RunSpec, runs: int, chunk_size: int) -> Tasks:
    """Chunk tasks; each carries its own slice of the spec's per-replicate values
    (the spec they share holds none, so pickling a task stays small)."""
    return Tasks(spec, runs, chunk_size)


class Tasks(Sequence):
    """A run's chunk tasks, each made when it is asked for.

    A billion runs are half a million chunks: a list of their tasks took seconds and
    hundreds of MB before the first chunk ran. This sequence holds only the spec, so a
    run starts at once at any size and memory does not grow with ``runs``.

    With ``spec.block`` the runs are blocks of that many replicates, each cut into chunks
    of its own (the last chunk of a block may be shorter), whose replicates draw the
    random numbers of their place in the block (:attr:`Task.first`).
    """

    def __init__(self, spec: RunSpec, runs: int, chunk_size: int):
        import dataclasses

        self.fixed = spec.fixed
        self.shared = dataclasses.replace(spec, fixed=None) if spec.fixed else spec
        self.runs, self.chunk_size = int(runs), int(chunk_size)
        self.block = int(spec.block or 0)
        if self.block and self.runs % self.block:
            raise ValueError(f"{self.runs} runs are not whole blocks of {self.block}")
        self.per_block = -(-self.block // self.chunk_size) if self.block else 0

    def __len__(self) -> int:
        if self.block:
            return (self.runs // self.block) * self.per_block
        return -(-self.runs // self.chunk_size)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n_tasks = len(self)
        if i < 0:
            i += n_tasks
        if not 0 <= i < n_tasks:
            raise IndexError(i)
        if self.block:
            b, j = divmod(i, self.per_block)
            off = b * self.block + j * self.chunk_size
            n = min(self.chunk_size, self.block - j * self.chunk_size)
            return Task(self.shared, i, n, off, _slice_fixed(self.fixed, off, n), stream=j)
        off = i * self.chunk_size
        n = min(self.chunk_size, self.runs - off)
        return Task(self.shared, i, n, off, _slice_fixed(self.fixed, off, n))


def execute(
    tasks: list[Task],
    backend: Backend,
    merge: Callable[[Any], None],
    progress: Callable[[int, int], None] | None = None,
    enough: Callable[[], bool] | None = None,
    fn: Callable[[Task], Any] | None = None,
) -> int:
    """Run tasks on a backend, merging results strictly in chunk order.

    Returns the number of replicates merged. Each chunk is merged whole: SIGINT and
    SIGTERM are held back while it is (:class:`SignalDeferral`). On KeyboardInterrupt,
    :class:`~sim.interrupts.Terminated` or a failed chunk the chunks already merged are kept, the
    backend is stopped at once, and the exception is re-raised. A backend that ends
    with chunks missing raises :class:`IncompleteRun` (a bug, never a quiet short run).

    ``fn`` computes a chunk (a module-level function, so that worker processes can import
    it; default :func:`simulate_chunk`). ``enough()``, if given, is asked after each chunk merged (in order): when it says
    True the run ends there (adaptive precision), the chunks still in flight are
    dropped, and the result is the same on every backend.
    """
    total = tasks.runs if isinstance(tasks, Tasks) else sum(t.n for t in tasks)
    buffer: dict[int, Any] = {}
    nxt = 0
    done = 0
    ok = False
    try:
        with SignalDeferral() as deferral:
            for res in backend.run(fn or simulate_chunk, tasks):
                buffer[res.chunk] = res
                stop = False
                while nxt in buffer and not stop:
                    with deferral.hold():
                        r = buffer.pop(nxt)
                        merge(r)
                        done += r.n
                        nxt += 1
                        stop = enough is not None and enough()
                if progress:
                    progress(done, total)
                if stop:
                    backend.close(abort=True)
                    return done
        if nxt != len(tasks):
            raise IncompleteRun(
                f"internal error: the {backend.name} backend returned {nxt} of {len(tasks)} chunks "
                f"({done:,} of {total:,} runs) and nothing stopped the run; please report this"
            )
        ok = True
    finally:
        backend.close(abort=not ok)
    return done
