"""Where a month's time goes: each rule's and the recorder's share, and a cProfile.

Usage (from the repository root)::

    .venv/bin/python benchmarks/profile_rules.py [scenario | synthetic:S:F] [--runs 2000] [--chunks 2] [--cprofile 25]

Runs ``--chunks`` chunks of ``--runs`` replicates (the default chunk size) in this
process, timing every rule of the pipeline and the recorder month by month in CPU time
of this process (less sensitive than wall time to other processes on a shared machine),
with numpy's BLAS held to one thread as the runner holds it (``sim.runner._simulate``: extra
BLAS threads spin on a shared machine and their CPU time would count), and prints milliseconds per month and the share of each; ``--cprofile N`` also prints the N
functions with the most time of their own under cProfile (a separate pass).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import sim  # noqa: E402


def timed_chunks(scn, runs: int, chunks: int, seed: int = 1) -> tuple[dict[str, float], int]:
    """Seconds spent in each rule and in the recorder over ``chunks`` chunks."""
    from sim import seeding
    from sim.outcomes import Recorder, compile_outcomes
    from sim.rules import build_pipeline
    from sim.world.compile import compile_plan
    from sim.world.opening import open_world

    plan = compile_plan(scn.spec, scn.rules, scn.spec.meta.horizon_months, [])
    spent: dict[str, float] = defaultdict(float)
    months = 0
    root = seeding.root_sequence(seed)
    for c in range(chunks):
        pipe = build_pipeline(plan)
        timed = []
        for kind, rule in pipe:
            def wrap(w, rule=rule, kind=kind):
                t0 = time.process_time()
                rule(w)
                spent[kind] += time.process_time() - t0
            timed.append((kind, wrap))
        w = open_world(plan, runs, root, first=c * runs, dtype=np.dtype("float32"), pipeline=timed)
        rec = Recorder(w, compile_outcomes(plan), c, c * runs)
        obs = w.observers[-1]

        def observe(world, obs=obs):
            t0 = time.process_time()
            obs(world)
            spent["(recorder)"] += time.process_time() - t0
        w.observers[-1] = observe
        while w.elapsed < plan.horizon:
            w.step()
            months += 1
        t0 = time.process_time()
        rec.result()
        spent["(recorder)"] += time.process_time() - t0
        w.release()
    return dict(spent), months


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario", nargs="?", default="karabakh",
                    help="a scenario, or synthetic:S:F (S states, F flashpoints, as in run.py)")
    ap.add_argument("--runs", type=int, default=2000, help="replicates per chunk")
    ap.add_argument("--chunks", type=int, default=2)
    ap.add_argument("--cprofile", type=int, default=0, help="also print the top N functions under cProfile")
    a = ap.parse_args()
    import os

    if a.scenario.startswith("synthetic:"):  # synthetic:S:F, the worlds of run.py's scaling figures
        from benchmarks.run import synthetic

        S, F = (int(x) for x in a.scenario.split(":")[1:3])
        scn = sim.load_scenario(synthetic(S, F))
    else:
        scn = sim.load_scenario(a.scenario)
    from threadpoolctl import threadpool_limits

    sim.run(scn, runs=200, seed=0, workers=1, backend="local")  # imports, caches
    blas = threadpool_limits(limits=1, user_api="blas")  # as sim.runner._simulate runs a chunk
    t0, c0 = time.perf_counter(), time.process_time()
    spent, months = timed_chunks(scn, a.runs, a.chunks)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    total = sum(spent.values())
    print(f"{a.scenario}: {a.chunks} chunk(s) x {a.runs:,} replicates x {months // a.chunks} months; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"  {a.runs * months / cpu:,.0f} replicate-months per CPU second ({a.runs * months / wall:,.0f} per wall "
          f"second; CPU {cpu:.2f} s, wall {wall:.2f} s, rules and recorder {total:.2f} s of CPU)")
    for k, v in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {k:14s} {1e3 * v / months:8.2f} ms/month  {100 * v / total:5.1f}%")
    if a.cprofile:
        pr = cProfile.Profile()
        pr.enable()
        timed_chunks(scn, a.runs, a.chunks)
        pr.disable()
        s = io.StringIO()
        pstats.Stats(pr, stream=s).sort_stats("tottime").print_stats(a.cprofile)
        print(s.getvalue())
    blas.restore_original_limits()


if __name__ == "__main__":
    main()
