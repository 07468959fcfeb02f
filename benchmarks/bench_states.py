"""How a month's cost grows with the number of states: synthetic worlds of 4 and 32 states.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_states.py [--states 4 32] [--runs 10000] [--repeats 3]

Prints, for each synthetic world of ``benchmarks/run.py`` (S states, one flashpoint):

1. one-core throughput of ``sim.run`` (replicate-months per second of the simulation
   part, as run.py's section 5, and per CPU second of this process: less sensitive to
   other jobs on a shared machine), and the ratio of the largest world's to the smallest's;
2. each compiled kernel of the rules alone, called with the arguments the rule handed it in
   month 12 of a chunk of 2,000 replicates (median of 7 calls on copies of them);
3. the recorder's month (``Recorder.observe``, chunks after the first: no sampled
   trajectories) and a chunk's set-up (``open_world`` and the recorder), medians.

Medians over ``--repeats``; numpy's BLAS held to one thread as the runner holds it.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import sim  # noqa: E402
from benchmarks.run import synthetic  # noqa: E402

KERNELS = ("alignment_kernel.drift", "common_kernel.deter", "common_kernel.respond", "patronage_kernel.judge",
           "procurement_kernel.procure", "alliance_kernel.respond", "alliance_kernel.transitions")
"""The rules' kernels whose work may grow with the number of states (module.function under sim.rules)."""


def throughput(scn, runs: int, repeats: int) -> tuple[float, float]:
    """Median replicate-months per second of the simulation part, and per CPU second."""
    sim.run(scn, runs=200, seed=0, workers=1, backend="local")
    wall, cpu = [], []
    for r in range(repeats):
        c0 = time.process_time()
        res = sim.run(scn, runs=runs, seed=100 + r, workers=1, backend="local")
        cpu.append(res.runs * res.horizon / (time.process_time() - c0))
        wall.append(res.runs * res.horizon / res.manifest["timings_s"]["simulation"])
    return statistics.median(wall), statistics.median(cpu)


def _world(plan, c: int, n: int = 2000):
    from sim import seeding
    from sim.outcomes import Recorder, compile_outcomes
    from sim.rules import build_pipeline
    from sim.world.opening import open_world

    w = open_world(plan, n, seeding.root_sequence(1), first=c * n, dtype=np.dtype("float32"), pipeline=build_pipeline(plan))
    return w, Recorder(w, compile_outcomes(plan), c, c * n)


def kernel_times(plan, month: int = 12) -> dict[str, float]:
    """Seconds of each kernel of :data:`KERNELS`, alone, on the arguments of ``month``."""
    captured: dict[str, tuple] = {}
    originals = {}
    box: list = []

    def wrap(name, fn):
        def call(*a, **k):
            if box and box[0].elapsed == month - 1 and name not in captured:
                captured[name] = (a, {x: v.copy() if isinstance(v, np.ndarray) else v for x, v in k.items()})
            return fn(*a, **k)
        return call

    for name in KERNELS:
        mod, fn = name.split(".")
        m = importlib.import_module(f"sim.rules.{mod}")
        originals[name] = (m, fn, getattr(m, fn))
        setattr(m, fn, wrap(name, getattr(m, fn)))
    try:
        w, _ = _world(plan, 0)
        box.append(w)
        while w.elapsed < month:
            w.step()
        w.release()
    finally:
        for m, fn, f in originals.values():
            setattr(m, fn, f)
    out = {}
    for name, (a, k) in captured.items():
        f = originals[name][2]
        ts = []
        for _ in range(7):
            kk = {x: v.copy() if isinstance(v, np.ndarray) else v for x, v in k.items()}
            t = time.perf_counter()
            f(*a, **kk)
            ts.append(time.perf_counter() - t)
        out[name] = statistics.median(ts)
    return out


def recorder_and_setup(plan, chunks: int = 3) -> tuple[float, float]:
    """Median seconds of the recorder's month (chunks after the first) and of a chunk's set-up."""
    months, setups = [], []
    for c in range(chunks + 1):
        t = time.perf_counter()
        w, rec = _world(plan, c)
        setups.append(time.perf_counter() - t)
        w.observers.remove(rec.observe)
        while w.elapsed < plan.horizon:
            w.step()
            t = time.perf_counter()
            rec.observe(w)
            if c:
                months.append(time.perf_counter() - t)
        rec.result()
        w.release()
    return statistics.median(months), statistics.median(setups)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--states", type=int, nargs="+", default=[4, 32])
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    import os

    from threadpoolctl import threadpool_limits

    from sim.world.compile import compile_plan

    blas = threadpool_limits(limits=1, user_api="blas")
    print(f"sim {sim.__version__}; load average {os.getloadavg()[0]:.1f}; medians of {a.repeats}", flush=True)
    rows = {}
    for S in a.states:
        scn = sim.load_scenario(synthetic(S, 1))
        plan = compile_plan(scn.spec, scn.rules, scn.spec.meta.horizon_months, [])
        wall, cpu = throughput(scn, a.runs, a.repeats)
        rec, setup = recorder_and_setup(plan)
        rows[S] = (wall, cpu, kernel_times(plan), rec, setup)
    lo, hi = min(a.states), max(a.states)
    print(f"\n1. one core, {a.runs:,} runs (replicate-months per second)")
    for S, (wall, cpu, *_) in rows.items():
        print(f"  S={S:3d}: {wall:>10,.0f} (simulation part)  {cpu:>10,.0f} (per CPU second)")
    print(f"  S={hi} / S={lo}: {rows[hi][0] / rows[lo][0]:.2f} (simulation part), {rows[hi][1] / rows[lo][1]:.2f} (CPU)")
    print("\n2. each kernel alone, month 12 of 2,000 replicates (ms)")
    print("  " + f"{'kernel':32s}" + "".join(f"{'S=' + str(S):>10s}" for S in rows))
    for name in KERNELS:
        print("  " + f"{name:32s}" + "".join(f"{1e3 * r[2].get(name, float('nan')):10.3f}" for r in rows.values()))
    print("\n3. the recorder's month and a chunk's set-up, 2,000 replicates (ms)")
    for S, r in rows.items():
        print(f"  S={S:3d}: recorder {1e3 * r[3]:.3f} a month, set-up {1e3 * r[4]:.1f} a chunk")
    blas.restore_original_limits()


if __name__ == "__main__":
    main()
