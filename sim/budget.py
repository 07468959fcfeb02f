"""What a large run would cost, said before it starts: time, memory and disk.

``sim run --runs 10000000000`` would take weeks; before, it ran silently while it cut
the run into five million chunk tasks (a minute and ~1 GB), and stopping it left
nothing. Now tasks are made as they are needed (:class:`sim.runner.Tasks`), and a run
of more than :data:`CALIBRATE_ABOVE` replicate-months is estimated first:

* **time**: a calibration run of :data:`CALIBRATION_CHUNKS` chunks of the run's own
  size (at most 2,000 replicates) of the same scenario, horizon, precision and levers,
  in this process, times each chunk (the kernels are compiled before the chunks start,
  so compiling is not counted); the replicate-months per second of its median chunk,
  times the workers the run will use, gives the time. Workers rarely scale perfectly,
  and a busy machine is slower, so this is a floor, not a promise.
* **memory**: a run's memory does not grow with its runs (results are accumulated
  chunk by chunk; only a bounded sample of runs is kept): it is what this process
  holds after the calibration (each worker process holds about as much), plus
  :data:`BYTES_PER_CHUNK` of bookkeeping per chunk;
* **disk** (``--replicates``, ``--trajectories``): the calibration writes its rows to
  Parquet files too; their size per run, times the runs.

A run estimated to take more than :data:`REFUSE_S` on this machine (or whose rows would
not fit on the disk) is refused with the figures; one above :data:`WARN_S` is started
with the figures on a line of its own. A run on a Dask cluster (``--scheduler``) is only
warned about: its size is the cluster's.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import montecarlo
from .runner import DEFAULT_CHUNK, InProcess, available_cores, peak_rss_mb
from .scenario.errors import option_error

CALIBRATE_ABOVE = 100_000_000
"""Replicate-months (runs x months) above which a run is estimated before it starts."""
CALIBRATION_CHUNKS = 2
"""Chunks of the calibration run (of the run's chunk size, at most 2,000 runs each)."""
WARN_S = 600.0
"""A run estimated to take longer than this (10 minutes) is started with its estimate."""
REFUSE_S = 7 * 86_400.0
"""A run estimated to take longer than this (a week) on this machine is refused."""
BYTES_PER_CHUNK = 40
"""Memory a run keeps per chunk (its duration, in a list): 5 million chunks are 200 MB."""


@dataclass(frozen=True)
class Estimate:
    """What a run would take.

    Attributes:
        runs, months, workers: The run.
        rate: Replicate-months per second per worker, measured.
        calibrated_on: Runs of the calibration.
        seconds: Estimated wall time (a floor: workers rarely scale perfectly).
        memory_mb: Estimated memory of the main process (each worker: about as much).
        disk_bytes: Estimated size of replicates.parquet and trajectories.parquet (None without
            ``--replicates`` or ``--trajectories``).
        disk_free: Free bytes where they would be written (None without them).
        files: The Parquet files the run writes (``replicates.parquet``...).
    """

    runs: int
    months: int
    workers: int
    rate: float
    seconds: float
    memory_mb: float
    disk_bytes: float | None = None
    disk_free: float | None = None
    calibrated_on: int = 0
    files: tuple[str, ...] = ("replicates.parquet",)

    def words(self) -> str:
        cores = f"{self.workers} worker{'s' if self.workers != 1 else ''}"
        text = (f"{self.runs:,} runs x {self.months} months would take about {duration(self.seconds)} with {cores} "
                f"(measured just now: {self.rate:,.0f} replicate-months a second per worker, on "
                f"{self.calibrated_on:,} runs of this scenario) and about {self.memory_mb:,.0f} MB of memory per process")
        if self.disk_bytes is not None:
            text += f"; {' and '.join(self.files)} would be about {size(self.disk_bytes)}"
            if self.disk_free is not None:
                text += f" ({size(self.disk_free)} free)"
        return text


def duration(seconds: float) -> str:
    """``3 minutes``, ``4.2 hours``, ``15 days``."""
    if seconds < 90:
        return f"{seconds:.0f} seconds"
    if seconds < 5400:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 2 * 86_400:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86_400:,.0f} days"


def size(n: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n / 1e3:,.0f} kB"


def estimate(scn: Any, runs: int, *, months: int | None = None, workers: int = 1, dtype: str = "float32",
             levers: list[str] | None = None, chunk_size: int | None = None, replicates: bool = False,
             where: Path | None = None, trajectories: bool = False) -> Estimate:
    """Estimate a run of ``runs`` replicates by timing a small one of the same scenario."""
    horizon = scn.spec.meta.horizon_months if months is None else int(months)
    consumers: list[Any] = []
    files = tuple(f"{name}.parquet" for name, on in (("replicates", replicates), ("trajectories", trajectories)) if on)
    tmp = Path(tempfile.mkdtemp(prefix="sim-estimate-")) if files else None
    if replicates and tmp is not None:
        from .replicates import ReplicateTable

        consumers.append(ReplicateTable(tmp / "replicates.parquet"))
    if trajectories and tmp is not None:
        from .trajectories import TrajectoryTable

        consumers.append(TrajectoryTable(tmp / "trajectories.parquet"))
    try:
        chunk = min(int(chunk_size or DEFAULT_CHUNK), DEFAULT_CHUNK)
        job = montecarlo.prepare(scn, runs=CALIBRATION_CHUNKS * chunk, months=horizon, dtype=dtype, levers=levers,
                                 chunk_size=chunk, keep_trajectories=0, per_replicate=bool(consumers),
                                 trajectories=trajectories)
        res = montecarlo.execute(job, InProcess(), 1, consumers=consumers)
        per_chunk = [chunk * horizon / max(s, 1e-9) for s in res.chunk_seconds] or [1.0]
        rate = statistics.median(per_chunk)
        disk = free = None
        if files and tmp is not None:
            disk = sum((tmp / f).stat().st_size for f in files) / (CALIBRATION_CHUNKS * chunk) * runs
            target = where if where is not None else Path.cwd()
            while not target.exists():
                target = target.parent
            free = float(shutil.disk_usage(target).free)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    chunks = -(-runs // int(chunk_size or DEFAULT_CHUNK))
    memory = peak_rss_mb() + chunks * BYTES_PER_CHUNK / 1e6
    return Estimate(runs, horizon, max(1, workers), rate, runs * horizon / (rate * max(1, workers)), memory, disk, free,
                    CALIBRATION_CHUNKS * chunk, files or ("replicates.parquet",))


def check_size(scn: Any, runs: int | None, *, months: int | None = None, workers: int | None = None,
               dtype: str = "float32", levers: list[str] | None = None, chunk_size: int | None = None,
               replicates: bool = False, where: Path | None = None, scheduler: str | None = None,
               adaptive: bool = False, oversubscribe: bool = False, trajectories: bool = False) -> str | None:
    """Refuse a run too large for this machine (:class:`~sim.scenario.errors.InputError` on
    ``--runs``, with the figures), or return a line to show before a large one (or None)."""
    n = scn.spec.meta.runs if runs is None else int(runs)
    horizon = scn.spec.meta.horizon_months if months is None else int(months)
    if n * horizon < CALIBRATE_ABOVE:
        return None
    cores = available_cores()
    used = min(workers or cores, cores) if not oversubscribe else (workers or cores)
    est = estimate(scn, n, months=horizon, workers=used, dtype=dtype, levers=levers, chunk_size=chunk_size,
                   replicates=replicates, where=where, trajectories=trajectories)
    head = est.words()
    if scheduler:
        return f"{head} on this machine; on the cluster it depends on its workers"
    if adaptive:
        return f"at most: {head} (--ci-halfwidth stops sooner once every interval is precise enough)"
    if est.disk_bytes is not None and est.disk_free is not None and est.disk_bytes > est.disk_free:
        flags = " and ".join(f"--{f.removesuffix('.parquet')}" for f in est.files)
        raise option_error("--runs", f"{head}: the rows would not fit on the disk; use fewer --runs, or leave out "
                                     f"{flags}")
    if est.seconds > REFUSE_S:
        raise option_error("--runs", f"{head}: that is not a run that finishes here; use fewer --runs, "
                                     "--ci-halfwidth H to stop once every interval is within +/- H, or a Dask cluster "
                                     "(--scheduler tcp://HOST:8786)")
    if est.seconds > WARN_S:
        return f"{head}; Ctrl-C stops it and keeps the runs finished"
    return None
