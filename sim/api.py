"""The Python API notebooks and the command line share: load a scenario, run it, save it.

::

    import sim
    scn = sim.load_scenario("karabakh", overrides={"flashpoints.lachin.level": 3})
    res = sim.run(scn, runs=5000, seed=1)
    res.probabilities()

This is the facade: :func:`run` and :func:`save` are its own; loading scenarios and
plug-ins is :mod:`sim.loading`'s, what made a run (versions, git commit) is
:mod:`sim.provenance`'s, the checks of a run's options are :mod:`sim.arguments`'s and
output folders :mod:`sim.outputs`'s -- all importable from here as before. Studies
(:func:`sim.sweep`, :func:`sim.compare`, :func:`sim.backtest`) sit above it, in
:mod:`sim.analysis`; what the command line and the dashboard do with a run (its
uncertainty headline, its stories, its folder) is :mod:`sim.workflows`'.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import arguments as A
from . import montecarlo
from .arguments import (
    ADAPTIVE_MAX_RUNS,
    BACKENDS,
    DTYPES,
    SEED_MAX,
    check_run_options,
    run_option_problems,
)
from .loading import (
    LoadedScenario,
    Uncertainty,
    _plain,
    find_scenario,
    list_scenarios,
    load_plugins,
    load_scenario,
    load_tree,
    replaced_by,
)
from .outputs import (
    check_out,
    check_writable,
    default_output_dir,
    new_folder,
    out_or_new,
    prepare_out,
)
from .provenance import DEPENDENCIES, git_commit, versions
from .replicates import ReplicateTable
from .report import write_report
from .results import Results
from .scenario.errors import InputError
from .trajectories import TrajectoryTable

__all__ = [
    "ADAPTIVE_MAX_RUNS", "BACKENDS", "DEPENDENCIES", "DTYPES", "SEED_MAX", "LoadedScenario", "Uncertainty", "_plain",
    "check_out", "check_run_options", "check_writable", "default_output_dir", "find_scenario", "git_commit",
    "kernels_to_compile", "list_scenarios", "load_plugins", "load_scenario", "load_tree", "new_folder", "out_or_new",
    "prepare_out", "replaced_by", "run", "run_option_problems", "save", "versions",
]


def run(
    scenario: LoadedScenario | str | Path,
    runs: int | None = None,
    seed: int | Any | None = None,
    *,
    months: int | None = None,
    workers: int | None = None,
    chunk_size: int | None = None,
    dtype: str = "float32",
    progress: Callable[[int, int], None] | None = None,
    keep_trajectories: int = 300,
    backend: str = "auto",
    scheduler: str | None = None,
    oversubscribe: bool = False,
    levers: list[str] | None = None,
    replicates: bool | str | Path = False,
    ci_halfwidth: float | None = None,
    trajectories: bool | str | Path = False,
    worker_timeout: float | None = None,
):
    """Run a scenario's Monte Carlo and return :class:`~sim.results.Results`.

    Args:
        scenario: A loaded scenario, or a path / shipped name to load.
        runs: Replicates (default: the scenario's ``meta.runs``).
        seed: Random seed, 0 to 2**63 - 1, or a ``numpy.random.SeedSequence``
            (default: the scenario's ``meta.seed``).
        months: Horizon in months (default: the scenario's); events after it are ignored.
        workers: Local worker processes (default: 1 for small runs, all cores for large
            ones; in between, the first chunk in this process and the others on workers
            forked from it after it, where two cores are idle and no other thread runs:
            :class:`sim.runner.Forked`). At most the cores available (a :class:`~sim.runner.WorkersCapped`
            warning says so) unless ``oversubscribe``; never more than the chunks.
        chunk_size: Replicates per chunk (recorded). Per-replicate results and outcome
            counts do not depend on it; means over replicates only to rounding.
        dtype: Floating-point precision of the world's arrays: ``float32`` (default;
            results agree with ``float64`` within Monte Carlo error, ~25% faster) or
            ``float64``.
        progress: Called with (replicates done, total) as chunks finish.
        backend: ``auto`` (in-process for small runs, forked for middling, processes for large), ``local``
            (in-process), ``processes``, or ``dask`` (a LocalCluster, or the cluster at
            ``scheduler``, e.g. ``tcp://host:8786``). Results do not depend on it.
        oversubscribe: Allow more workers than cores.
        levers: Levers pulled from the start, ``["armenia.freeze_csto", ...]`` (the
            scenario's ``levers:``).
        replicates: Keep one row per replicate for :meth:`Results.replicates`:
            ``True`` in memory, or a path to stream a Parquet file to, chunk by chunk
            (needs pyarrow, ``sim[research]``). Off by default.
        ci_halfwidth: Adaptive precision: stop adding chunks once every outcome's 95%
            interval is narrower than +/- this (0.01 = one percentage point); ``runs``
            is then the most runs to do (default 1,000,000). Results are the same on
            every backend (chunks are merged and checked in order).
        trajectories: Keep every replicate's monthly values of the recorded states for
            :meth:`Results.trajectories`: ``True`` in memory, or a path to stream a
            Parquet file to, chunk by chunk (:mod:`sim.trajectories` gives its schema;
            needs pyarrow, ``sim[research]``). Off by default: it holds
            chunk size x months x recorded elements values per chunk.
        worker_timeout: Dask: seconds to wait with no worker left (all lost) before the
            run stops with ``workers-lost`` (default :data:`sim.runner.WORKER_TIMEOUT_S`,
            60). A worker lost on the way is said (a :class:`sim.runner.WorkerLost`
            warning) and recorded in the manifest (``workers_lost``, ``chunks_retried``);
            the scheduler runs its chunks elsewhere and the results do not change.

    Every option is checked before anything runs (:class:`InputError` naming the
    argument; a scheduler that does not answer is one too). On Ctrl-C (or
    :class:`sim.interrupts.Terminated`, which the CLI raises on SIGTERM) the run stops at
    once and returns the chunks finished so far, with ``complete`` False and
    ``stopped_by`` saying what stopped it. If a chunk fails or a worker dies,
    :class:`sim.runner.ChunkFailed` is raised, naming the chunk and the scenario (and a rule
    that raised, with its module); its ``partial`` holds the results merged before (None
    when it failed before any chunk finished).
    """
    wrong = A.problems(scenario=(A.scenario, scenario), levers=(A.levers, levers), replicates=(A.replicates, replicates),
                       trajectories=(A.replicates, trajectories), progress=(A.callback, progress), keep_trajectories=(A.count(0), keep_trajectories),
                       oversubscribe=(A.flag, oversubscribe))
    wrong += run_option_problems(runs, workers, months, chunk_size, seed=seed, dtype=dtype, backend=backend,
                                 scheduler=scheduler, ci_halfwidth=ci_halfwidth, worker_timeout=worker_timeout)
    if wrong:
        raise InputError(wrong)
    scn = scenario if isinstance(scenario, LoadedScenario) else load_scenario(scenario)
    if ci_halfwidth is not None and runs is None:
        runs = ADAPTIVE_MAX_RUNS
    consumers = []
    if replicates is not False and replicates is not None:
        consumers.append(ReplicateTable(None if replicates is True else replicates))
    if trajectories is not False and trajectories is not None:
        consumers.append(TrajectoryTable(None if trajectories is True else trajectories))
    job = montecarlo.prepare(scn, runs=runs, seed=seed, months=months, chunk_size=chunk_size, dtype=dtype,
                             levers=levers, keep_trajectories=keep_trajectories, per_replicate=bool(consumers),
                             trajectories=trajectories is not False and trajectories is not None)
    engine, n_workers = montecarlo.backend_for(job, workers=workers, backend=backend, scheduler=scheduler,
                                              oversubscribe=oversubscribe, worker_timeout=worker_timeout)
    return montecarlo.execute(job, engine, n_workers, progress, workers_requested=workers, oversubscribe=oversubscribe,
                              consumers=consumers, ci_halfwidth=ci_halfwidth)


def save(res: Any, folder: str | Path | None = None, *, report: bool = True) -> Path:
    """Write a run folder: data files, and figures with report.html unless ``report=False``.

    ``folder`` must be new or empty (default: a new folder under ``outputs/<scenario>/``).
    """
    A.check(res=(lambda v: None if isinstance(v, Results) else f"expected the results of sim.run, got {A.what(v)}", res),
            folder=(lambda v: None if v is None else A.path(v) and f"expected a folder path (a string or a Path), got {A.what(v)}",
                    folder), report=(A.flag, report))
    target = prepare_out(folder) if folder is not None else default_output_dir(res)
    return res.save(target, report=write_report if report else None)


def kernels_to_compile(scn: LoadedScenario) -> list[str]:
    """The compiled kernels a run of ``scn`` will compile first (the first run on a machine,
    or after an upgrade: seconds); empty once numba's disk cache holds them all. The shipped
    kernels are copied into the cache first (:func:`sim.ahead.seed`, as the run would):
    those are not compiled."""
    from .ahead import in_progress, seed
    from .rules.kernels import uncached  # lazy: the kernels import numba

    if not in_progress():
        seed()
    return uncached(scn.compiled())
