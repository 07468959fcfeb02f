"""How long `sim optimize`'s default budget takes on karabakh.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_optimize.py            # the default budget (minutes)
    .venv/bin/python benchmarks/bench_optimize.py --quick    # a small budget: a smoke test

Runs ``sim.optimize("karabakh", minimize=["new_war"], maximize=["peace_agreement"])`` over
all fourteen of karabakh's levers (2**14 combinations: NSGA-II) with the default budget
(``--worlds``, ``--runs``, ``--population``, ``--generations`` override it) and prints the
wall time, the simulation time, the runs, the distinct policies evaluated, the Monte Carlo
batches (one per generation), replicate-months per second and the final hypervolume. The
machine is shared: compare figures measured in the same session.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from sim.analysis import optimize as O  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--worlds", type=int, default=None)
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--population", type=int, default=None)
    ap.add_argument("--generations", type=int, default=None)
    ap.add_argument("--workers", type=int, default=None)
    a = ap.parse_args()
    quick = dict(worlds=4, runs=20, population=8, generations=2) if a.quick else {}
    budget = {k: getattr(a, k) or quick.get(k) or getattr(O, f"DEFAULT_{k.upper()}")
              for k in ("worlds", "runs", "population", "generations")}
    scn = sim.load_scenario("karabakh")
    t0 = time.perf_counter()
    opt = sim.optimize(scn, minimize=["new_war"], maximize=["peace_agreement"], workers=a.workers, **budget)
    wall = time.perf_counter() - t0
    m = opt.results.manifest
    runs = m["optimize"]["runs_total"]
    sim_s = m["timings_s"]["simulation"]
    print(f"sim optimize karabakh, {len(opt.genes)} levers, budget {budget}")
    print(f"  wall {wall:.1f} s ({wall / 60:.1f} min); simulation {sim_s:.1f} s; {runs:,} runs in "
          f"{m['optimize']['batches']} batches; {len(opt.X):,} distinct policies; "
          f"{runs * opt.results.horizon / max(sim_s, 1e-9):,.0f} replicate-months/s; workers {m['workers']} "
          f"({m['backend']})")
    print(f"  hypervolume by generation: {[round(c['hypervolume'], 4) for c in opt.convergence]}")
    print(f"  Pareto front: {len(opt.pareto(distinct=True))} distinct policies")


if __name__ == "__main__":
    main()
