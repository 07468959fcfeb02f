"""Sweep throughput: parameter sets inside one vectorized Monte Carlo, and against EMA Workbench.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_sweep.py           # the full figures (an idle machine: tens of minutes)
    .venv/bin/python benchmarks/bench_sweep.py --quick   # small sizes: a smoke test

Prints:

1. a Sobol sweep of ``karabakh`` over its four uncertainties at N=256 (2,560 parameter
   sets, second-order sample) x 1,000 runs = 2.56 million runs, 36 months each: wall
   time, simulation time, replicate-months per second, parameter sets per second, and
   the peak memory of the main process;
2. side by side in this one run, 64 parameter sets x 1,000 runs (Latin hypercube) through
   ``sim.sweep`` (one vectorized Monte Carlo) and through EMA Workbench's
   ``perform_experiments`` with :func:`sim.ema.model` (one Monte Carlo per set, in
   process, the way EMA's sequential evaluator runs a Python model): medians over
   ``--repeats``, and the ratio.

``--quick`` uses N=8 (80 sets) x 100 runs for (1) and 8 sets x 200 runs for (2). Both
paths use one core unless ``--workers`` says otherwise (the ratio is the point: the
machine is shared and noisy, so compare figures measured in the same run).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sim  # noqa: E402


def sobol_sweep(scn, n: int, runs: int, workers: int | None, params: dict | None = None) -> dict:
    """One Sobol sweep (second-order sample) over ``params`` (default: the scenario's
    uncertainties), with its analysis; wall and simulation seconds, throughput, memory."""
    from sim.runner import peak_rss_mb

    t0 = time.perf_counter()
    sw = sim.sweep(scn, "sobol", n, runs, params=params, seed=1, workers=workers, second_order=True,  # issue 15's design
                   backend="local" if workers in (None, 1) else "processes")
    sw.indices()  # the analysis is part of the job
    wall = time.perf_counter() - t0
    m = sw.results.manifest
    return {"sets": sw.sets, "runs": sw.results.runs, "wall_s": wall, "simulation_s": m["timings_s"]["simulation"],
            "rm_per_s": m["replicate_months_per_s"], "sets_per_s": sw.sets / wall, "peak_rss_mb": peak_rss_mb(),
            "workers": m["workers"]}


def via_sweep(scn, sets: int, runs: int, workers: int | None) -> float:
    t0 = time.perf_counter()
    sim.sweep(scn, "lhs", sets, runs, seed=2, workers=workers, backend="local" if workers in (None, 1) else "processes")
    return time.perf_counter() - t0


def via_ema(scn, sets: int, runs: int) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import logging

        from ema_workbench import perform_experiments

        import sim.ema

        logging.getLogger("EMA").setLevel(logging.ERROR)
        model = sim.ema.model(scn, runs=runs, seed=2)
        t0 = time.perf_counter()
        perform_experiments(model, sets)
        return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    ap.add_argument("--repeats", type=int, default=3, help="repeats of the side-by-side comparison (median)")
    ap.add_argument("--workers", type=int, default=None, help="worker processes for the sim sweeps (default: one core)")
    ap.add_argument("--skip-sobol", action="store_true", help="only the side-by-side comparison")
    a = ap.parse_args()
    scn = sim.load_scenario("karabakh")
    n, runs = (8, 100) if a.quick else (256, 1000)
    sets2, runs2 = (8, 200) if a.quick else (64, 1000)
    print(f"karabakh: {len(scn.uncertainties())} uncertainties, {scn.spec.meta.horizon_months} months per run")
    if not a.skip_sobol:
        r = sobol_sweep(scn, n, runs, a.workers)
        print(f"1. Sobol sweep N={n}: {r['sets']:,} parameter sets x {runs:,} runs = {r['runs']:,} runs "
              f"on {r['workers']} worker(s)")
        print(f"   wall {r['wall_s']:.1f} s (simulation {r['simulation_s']:.1f} s); {r['rm_per_s']:,.0f} replicate-months/s; "
              f"{r['sets_per_s']:.1f} parameter sets/s; main process peak memory {r['peak_rss_mb']:.0f} MB")
    sweep_s, ema_s = [], []
    for _ in range(a.repeats):
        sweep_s.append(via_sweep(scn, sets2, runs2, a.workers))
        ema_s.append(via_ema(scn, sets2, runs2))
    ms, me = statistics.median(sweep_s), statistics.median(ema_s)
    print(f"2. {sets2} parameter sets x {runs2:,} runs (median of {a.repeats}):")
    print(f"   sim sweep (one vectorized Monte Carlo)            {ms:8.1f} s   {sets2 / ms:6.2f} sets/s")
    print(f"   EMA perform_experiments (one Monte Carlo per set) {me:8.1f} s   {sets2 / me:6.2f} sets/s")
    print(f"   ratio EMA / sweep: {me / ms:.2f}x")


if __name__ == "__main__":
    main()
