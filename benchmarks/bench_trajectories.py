"""What `--trajectories` costs: every run's months of the recorded states, to Parquet.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_trajectories.py            # karabakh, 10,000 runs
    .venv/bin/python benchmarks/bench_trajectories.py --quick    # 1,000 runs: a smoke test

Prints, for the same run in this process (one core) with and without trajectories: the
wall time of ``sim.run``, the peak memory of the process, the size of
``trajectories.parquet`` (and per run), its columns, and how long
:func:`sim.trajectories.aggregate` takes to recompute the run's series from it.
Medians over ``--repeats``; figures, not assertions.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sim  # noqa: E402
from sim.runner import peak_rss_mb  # noqa: E402
from sim.trajectories import aggregate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="karabakh")
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    runs = 1000 if a.quick else a.runs
    scn = sim.load_scenario(a.scenario)
    sim.run(scn, runs=200, seed=1, backend="local")  # compiled kernels loaded, caches warm
    plain, with_traj = [], []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trajectories.parquet"
        for _ in range(a.repeats):
            t = time.perf_counter()
            sim.run(scn, runs=runs, seed=1, backend="local")
            plain.append(time.perf_counter() - t)
            path.unlink(missing_ok=True)
            t = time.perf_counter()
            res = sim.run(scn, runs=runs, seed=1, backend="local", trajectories=path)
            with_traj.append(time.perf_counter() - t)
        size = path.stat().st_size
        import pyarrow.parquet as pq

        cols = len(pq.read_schema(path).names)
        peak = peak_rss_mb()
        t = time.perf_counter()
        aggregate(path)
        agg = time.perf_counter() - t
    p, w = statistics.median(plain), statistics.median(with_traj)
    months = res.horizon
    print(f"{a.scenario}: {runs:,} runs x {months} months, in-process, median of {a.repeats}")
    print(f"  sim.run without trajectories   {p:8.1f} s")
    print(f"  sim.run with trajectories      {w:8.1f} s   ({w / p:.1f}x)")
    print(f"  trajectories.parquet           {size / 1e6:8.0f} MB  ({size / runs / 1e3:.1f} kB per run, {cols} columns)")
    print(f"  aggregate() from the file      {agg:8.1f} s")
    print(f"  peak memory of this process    {peak:8.0f} MB  (the runs, before aggregate() read the file)")


if __name__ == "__main__":
    main()
