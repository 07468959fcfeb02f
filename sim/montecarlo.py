"""A Monte Carlo run, step by step: prepare the job, choose the backend, execute, record.

:func:`sim.run` is these three calls; a notebook or a study can call them itself (to
reuse a prepared job, say). Nothing here parses options for people: :mod:`sim.api`
checks arguments and names them in its errors; the CLI translates to its flags.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import parts, seeding
from .evidence.sources import provenance_rows
from .inputs import parse_levers  # noqa: F401 - checked there (below the loader); callers find it here too
from .interrupts import Terminated
from .outcomes import compile_outcomes
from .parts import SECTIONS, registry
from .provenance import git_commit, versions
from .results import OutcomeInfo, Results
from .runner import (
    DEFAULT_CHUNK,
    FORK_MIN_CHUNKS,
    FORK_MIN_WORK,
    LEVER_PREFIX,
    ChunkFailed,
    DaskBackend,
    Forked,
    IncompleteRun,
    InProcess,
    PerSet,
    ProcessPool,
    RunSpec,
    available_cores,
    can_fork,
    choose_workers,
    empty_result,
    make_tasks,
    peak_rss_mb,
    remember_plan,
)
from .runner import execute as run_chunks
from .world.compile import compile_plan


@dataclass
class Job:
    """A run ready to execute: the compiled plan, its outcomes, the chunk tasks."""

    scn: Any  # LoadedScenario
    plan: Any
    detectors: list
    spec: Any  # runner.RunSpec
    tasks: list
    runs: int
    seed: int
    horizon: int
    chunk: int
    dtype: str
    levers: list[tuple[str, str]] = field(default_factory=list)
    custom: list[dict[str, str]] = field(default_factory=list)
    t0: float = 0.0
    switched: list[tuple[str, str]] = field(default_factory=list)


def prepare(
    scn: Any,
    *,
    runs: int | None = None,
    seed: int | np.random.SeedSequence | None = None,
    months: int | None = None,
    chunk_size: int | None = None,
    dtype: str = "float32",
    levers: list[str] | None = None,
    keep_trajectories: int = 300,
    fixed: dict[str, Any] | None = None,
    switch: dict[str, Any] | None = None,
    per_replicate: bool = False,
    start: dict | None = None,
    start_replicate: int = 0,
    block: int = 0,
    trajectories: bool = False,
    month_effects: tuple = (),
) -> Job:
    """Compile the plan once and cut the run into chunk tasks.

    ``fixed``: per-replicate values of some parameters over the whole run (a study's
    parameter sets): ``{path: array (runs,)}`` or :class:`sim.runner.PerSet`;
    ``switch``: levers on in some replicates only, ``{"actor.lever": values}`` (>= 0.5
    means on; the lever's effect is applied to those replicates at the start);
    ``per_replicate``: chunks return per-replicate data (first-hit months, final
    values, event counts and the values of every sampled parameter) for
    :class:`~sim.results.Results` consumers; ``start``: a world snapshot whose
    replicate ``start_replicate`` every replicate continues from (a played game's
    continuations); ``block``: replicates per block of a run made of blocks of the same
    layout (a policy search's policies), every block drawing the same random numbers
    (:attr:`sim.runner.RunSpec.block`); ``trajectories``: the per-replicate data also holds every
    replicate's monthly values of the recorded states (:mod:`sim.trajectories`; implies
    ``per_replicate``); ``month_effects``: effects applied at the start of a month, before
    its rules (a game's injects still to come, :attr:`sim.runner.RunSpec.month_effects`).
    """
    t0 = time.perf_counter()
    meta = scn.spec.meta
    runs = meta.runs if runs is None else int(runs)
    root = seeding.root_sequence(meta.seed if seed is None else seed)
    horizon = meta.horizon_months if months is None else int(months)
    chunk = int(chunk_size or DEFAULT_CHUNK)
    pulled = parse_levers(scn, levers)
    switched = parse_levers(scn, list(switch or {}), "switch")
    plan = compile_plan(scn.spec, scn.rules, horizon, pulled)
    per_rep = {p: (v if isinstance(v, PerSet) else np.asarray(v, dtype=float)) for p, v in (fixed or {}).items()}
    for (actor, lever), values in zip(switched, (switch or {}).values(), strict=True):
        per_rep[f"{LEVER_PREFIX}{actor}.{lever}"] = values if isinstance(values, PerSet) else np.asarray(values, dtype=float)
    record = None
    if per_replicate or trajectories:
        from .scenario.values import Dist

        drawn = [e.path for e in plan.entries if isinstance(e.param.value, Dist)]
        record = tuple(dict.fromkeys([*(u.path for u in scn.uncertainties()), *(fixed or {}), *drawn]))
    detectors = compile_outcomes(plan)
    blob = parts.ship()
    data = scn.resolved()
    key = hashlib.sha256(
        f"{scn.sha256()}:{horizon}:{dtype}:{pulled}:{hashlib.sha256(blob or b'').hexdigest()}".encode()
    ).hexdigest()
    spec = RunSpec(
        key=key, name=scn.name, scenario=data, horizon=horizon, dtype=dtype, levers=tuple(pulled), parts=blob,
        seed_entropy=seeding.seed_value(root), seed_key=tuple(root.spawn_key),
        fixed=per_rep or None, switch=tuple(switched), record=record,
        start=start, start_replicate=start_replicate, keep_final=10_000, keep_traj=keep_trajectories, block=block,
        series=bool(trajectories), month_effects=tuple(month_effects),
    )
    remember_plan(key, plan)  # in-process chunks reuse it; workers compile their own once
    return Job(scn, plan, detectors, spec, make_tasks(spec, runs, chunk), runs, seeding.seed_value(root), horizon,
               chunk, dtype, pulled, parts.describe_custom(), t0, switched)


def backend_for(job: Job, *, workers: int | None = None, backend: str = "auto", scheduler: str | None = None,
                oversubscribe: bool = False, worker_timeout: float | None = None) -> tuple[Any, int]:
    """The backend that will run the job's chunks, and its number of workers
    (``worker_timeout``: how long a Dask run waits with no worker left before it stops)."""
    return make_backend(job.runs, job.horizon, len(job.tasks), workers=workers, backend=backend,
                        scheduler=scheduler, oversubscribe=oversubscribe, worker_timeout=worker_timeout)


def make_backend(runs: int, months: int, n_tasks: int, *, workers: int | None = None, backend: str = "auto",
                 scheduler: str | None = None, oversubscribe: bool = False,
                 worker_timeout: float | None = None) -> tuple[Any, int]:
    """The backend for ``n_tasks`` chunks of ``runs`` replicates over ``months``, and its workers
    (``worker_timeout``: how long a Dask run waits with no worker left before it stops)."""
    if scheduler:
        backend = "dask"
    n = 0 if scheduler else choose_workers(workers, runs, months, n_tasks, backend=backend,
                                          oversubscribe=oversubscribe)
    if (backend == "dask" and not scheduler) or backend == "processes" or n > 1:
        from .mainguard import check_main_guard

        check_main_guard()  # spawned workers re-import the main script
    if backend == "dask":
        b = DaskBackend(n or None, scheduler, worker_timeout)  # connects now: a dead scheduler is an InputError
        return b, b.workers
    if backend == "processes" or n > 1:
        return ProcessPool(n), n  # processes start with the first chunk
    forks = forked_workers(runs, months, n_tasks) if backend == "auto" and workers is None else 0
    if forks > 1:
        return Forked(forks), forks  # forked once the run is set up, where a core is free and no other thread runs
    return InProcess(), 1


def forked_workers(runs: int, months: int, n_tasks: int) -> int:
    """How many workers an ``auto`` run too small for spawned workers forks after its first
    chunk (:class:`sim.runner.Forked`): one per core, at most one per chunk left, where the run
    has :data:`~sim.runner.FORK_MIN_WORK` replicate-months and
    :data:`~sim.runner.FORK_MIN_CHUNKS` chunks and the platform forks; else 0 (in-process)."""
    if runs * months < FORK_MIN_WORK or n_tasks < FORK_MIN_CHUNKS or not can_fork():
        return 0
    return min(available_cores(), n_tasks - 1)


def new_results(job: Job) -> Any:
    """Empty :class:`~sim.results.Results` for the job (shapes from a zero-replicate chunk)."""
    plan, scn, meta = job.plan, job.scn, job.scn.spec.meta
    res = Results(
        scenario=scn.name,
        title=meta.title,
        start=plan.start,
        horizon=job.horizon,
        seed=job.seed,
        runs_requested=job.runs,
        outcomes=[OutcomeInfo(d.name, d.kind, d.description, d.value_label) for d in job.detectors],
        names={sect: list(plan.section(sect)) for sect in SECTIONS},
        labels={k: getattr(a, "name", "") or k for sect in SECTIONS for k, a in getattr(scn.spec, sect).items()},
        shows=registry().shows(),
        structure={
            "sides": plan.sides.tolist(),
            "leaders": plan.leader.tolist(),
            "alliance_kind": list(plan.alliance_kind),
            "buyers": [i for i, s in enumerate(plan.states) if scn.spec.states[s].procurement_budget_usd.mean() > 0],
            "supplier_state": plan.supplier_state.tolist(),
        },
        resolved_yaml=scn.resolved_yaml(),
        inputs=provenance_rows(scn),
        description=meta.description,
        questions=list(meta.questions),
        caveats=list(meta.caveats),
        levers=[f"{a}.{lv}" for a, lv in job.levers],
    )
    try:  # the shapes come from a chunk of no replicates: a rule that fails to build or step fails here
        res.merge(empty_result(job.tasks[0]))
    except Exception as exc:  # noqa: BLE001 - reported as chunk 0's failure, before any chunk finished
        from .runner import chunk_failure

        failure = chunk_failure(job.tasks[0], exc)
        failure.partial = None  # type: ignore[attr-defined]  # nothing finished, nothing to save
        raise failure from None
    res.chunk_seconds.clear()
    res.provenance = provenance(job)
    return res


def execute(job: Job, backend: Any, n_workers: int, progress: Callable[[int, int], None] | None = None,
            *, workers_requested: int | None = None, oversubscribe: bool = False,
            consumers: list[Any] | None = None, enough: Callable[[Any], bool] | None = None,
            ci_halfwidth: float | None = None) -> Any:
    """Run the job's chunks on the backend and return the merged :class:`~sim.results.Results`.

    On Ctrl-C or SIGTERM the finished chunks are kept (``complete`` False, ``stopped_by``
    says why); a failed chunk raises :class:`~sim.runner.ChunkFailed` with the part
    merged before as its ``partial``.

    ``consumers`` take each chunk's per-replicate data (``prepare(per_replicate=True)``);
    ``enough(results)``, asked after each chunk merged in order, ends the run early
    when it says True (adaptive precision: :func:`sim.results.precise_enough` with
    ``ci_halfwidth``); the run is then complete with fewer runs than requested.
    """
    from .rules.kernels import counts as kernel_counts

    k0 = kernel_counts()
    res = new_results(job)  # a chunk of no replicates, in this process: the rules built, their kernels loaded
    kernels = {k: v - k0[k] for k, v in kernel_counts().items()}
    res.consumers = list(consumers or [])
    if enough is None and ci_halfwidth is not None:
        from .results import precise_enough

        enough = lambda r: precise_enough(r, ci_halfwidth)  # noqa: E731
    t_setup = time.perf_counter()
    stopped_by: str | None = None
    failure: ChunkFailed | None = None
    worker_rss: list[float] = [0.0]  # the largest so far (one number: a run may have millions of chunks)

    def merge(r: Any) -> None:
        res.merge(r)
        worker_rss[0] = max(worker_rss[0], r.peak_rss_mb)
        for k, v in (getattr(r, "kernels", None) or {}).items():
            kernels[k] = kernels.get(k, 0) + v

    try:
        run_chunks(job.tasks, backend, merge, progress, (lambda: enough(res)) if enough is not None else None)
    except KeyboardInterrupt:
        stopped_by = "interrupt"
    except Terminated:
        stopped_by = "SIGTERM"
    except ChunkFailed as exc:
        failure = exc
        stopped_by = exc.kind
    t_sim = time.perf_counter()
    if isinstance(backend, Forked):
        n_workers = backend.workers  # 1 where it did not fork (its chunks all ran here)
    for c in res.consumers:
        if hasattr(c, "close"):
            c.close()
    if stopped_by is None and res.runs != job.runs and enough is None:
        raise IncompleteRun(f"internal error: {res.runs:,} of {job.runs:,} runs came back and nothing stopped the run; "
                            "please report this")
    res.complete = stopped_by is None
    res.stopped_by = stopped_by
    res.manifest = manifest(job, backend, n_workers, res, t_setup, t_sim, worker_rss, stopped_by,
                            workers_requested, oversubscribe)
    res.manifest["kernels"] = kernels
    if isinstance(backend, Forked) and backend.why_not is not None and res.runs > 0:
        res.manifest["not_forked"] = backend.why_not  # a run that would have forked its workers: why it did not
    if ci_halfwidth is not None:
        from .results import precise_enough

        res.manifest["ci_halfwidth"] = ci_halfwidth
        res.manifest["ci_target_reached"] = bool(res.runs and precise_enough(res, ci_halfwidth))
    if job.switched:
        res.manifest["levers_switched"] = [f"{a}.{lv}" for a, lv in job.switched]
    if hasattr(backend, "worker_timeout"):  # a Dask cluster: what happened to its workers
        res.manifest["worker_timeout_s"] = backend.worker_timeout
        lost = [e for e in backend.events if e["event"] == "worker-lost"]
        res.manifest["workers_lost"] = lost
        res.manifest["chunks_retried"] = sorted({c for e in lost for c in e["chunks_retried"]})
        if backend.events:
            res.manifest["worker_events"] = list(backend.events)
    if failure is not None:
        res.manifest["stopped"] = str(failure)
        failure.partial = res  # type: ignore[attr-defined]
        raise failure
    if res.complete:
        from .ahead import after_run

        after_run()  # kernels copied from the shipped zip: compiled for this processor now, for the next runs
    return res


def provenance(job: Job) -> dict[str, Any]:
    """Where a run's numbers come from: the scenario (its resolved SHA-256, file, overrides,
    levers), the seed, runs, horizon, chunking and precision (with which the results are
    reproduced exactly), the parts from outside the package, and the versions of this
    package and its dependencies with the git commit. The manifest starts from it; files
    streamed during the run (``replicates.parquet``, ``trajectories.parquet``) carry it in
    their metadata, since they are written before the manifest is."""
    scn = job.scn
    return {
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "scenario": scn.name,
        "scenario_file": str(scn.path),
        "scenario_sha256": scn.sha256(),
        "overrides": dict(scn.overrides),
        "levers": [f"{a}.{lv}" for a, lv in job.levers],
        "levers_switched": [f"{a}.{lv}" for a, lv in job.switched],
        "custom_parts": job.custom,
        "seed": job.seed,
        "runs_requested": job.runs,
        "horizon_months": job.horizon,
        "chunk_size": job.chunk,
        "dtype": job.dtype,
        "versions": versions(),
        "git_commit": git_commit(),
    }


def manifest(job: Job, backend: Any, n_workers: int, res: Any, t_setup: float, t_sim: float,
             worker_rss: list[float], stopped_by: str | None, workers_requested: int | None,
             oversubscribe: bool) -> dict[str, Any]:
    """What a run was and how it went (written as manifest.json)."""
    prov = res.provenance or provenance(job)
    m: dict[str, Any] = {
        "started": job.t0,  # perf_counter at the start; becomes wall_s in the written manifest
        "created": prov["created"],
        "scenario": prov["scenario"],
        "scenario_file": prov["scenario_file"],
        "scenario_sha256": prov["scenario_sha256"],
        "overrides": prov["overrides"],
        "levers": prov["levers"],
        "custom_parts": prov["custom_parts"],
        "seed": prov["seed"],
        "runs_requested": prov["runs_requested"],
        "horizon_months": prov["horizon_months"],
        "chunk_size": prov["chunk_size"],
        "chunks": len(job.tasks),
        "workers": n_workers,
        "workers_requested": workers_requested,
        "oversubscribe": oversubscribe,
        "backend": backend.name,
        "scheduler": getattr(backend, "scheduler", None),
        "dtype": prov["dtype"],
        "versions": prov["versions"],
        "platform": platform.platform(),
        "git_commit": prov["git_commit"],
        "command": sys.argv if sys.argv and sys.argv[0].endswith("sim") else None,
        "timings_s": {"setup": t_setup - job.t0, "simulation": t_sim - t_setup},
        "replicate_months_per_s": (res.runs * job.horizon) / max(t_sim - t_setup, 1e-9),
        "peak_rss_mb": {"main": peak_rss_mb(), "workers_max": max(worker_rss, default=0.0) if n_workers > 1 else None},
        "stopped_by": stopped_by,
    }
    if stopped_by == "interrupt":
        m["stopped"] = "interrupted (Ctrl-C); chunks finished before it are kept"
    elif stopped_by == "SIGTERM":
        m["stopped"] = "stopped by SIGTERM; chunks finished before it are kept"
    return m
