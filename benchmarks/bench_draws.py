"""The cost of one karabakh month's random numbers: numpy's Generator (the code before
counter-based draws) against :class:`sim.seeding.Stream`, on the same calls.

Records every draw (kind and shape) a world of ``--runs`` replicates makes over the
scenario's months, then repeats them ``--repeat`` times each way, timing CPU time.

    .venv/bin/python benchmarks/bench_draws.py [--runs 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import sim
from sim import seeding
from sim.world.compile import compile_plan
from sim.world.opening import open_world

OLD = {"uniform": "random", "normal": "standard_normal"}  # exponentials are drawn as uniforms (-log(1 - u))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario", nargs="?", default="karabakh")
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    scn = sim.load_scenario(a.scenario)
    plan = compile_plan(scn.spec, scn.rules, scn.spec.meta.horizon_months, [])
    calls: list[tuple[str, str, tuple]] = []
    orig = seeding.Stream._draw

    def spy(self, kind, shape, rows, dtype=np.float64):
        calls.append((kind, tuple(np.atleast_1d(shape)), rows))
        return orig(self, kind, shape, rows, dtype)

    seeding.Stream._draw = spy
    w = open_world(plan, a.runs, seeding.root_sequence(1))
    while w.elapsed < plan.horizon:
        w.step()
    seeding.Stream._draw = orig
    months = w.elapsed
    ids = seeding.replicate_ids(0, a.runs)
    s = seeding.Stream(1, ids, lambda: 0)
    g = np.random.Generator(np.random.PCG64(1))

    def old() -> None:
        for kind, shape, _ in calls:
            if kind == "bits16":
                n = int(np.prod(shape))
                g.bit_generator.random_raw((n + 3) // 4).astype("<u8", copy=False).view("<u2")[:n]
            else:
                getattr(g, OLD[kind])(shape)

    def new() -> None:
        for kind, shape, rows in calls:
            {"uniform": s.random, "normal": s.standard_normal,
             "bits16": s.bits16}[kind](shape, rows)

    new()
    t = {"numpy Generator": [], "counter-based": []}
    for _ in range(a.repeat):
        for name, f in (("numpy Generator", old), ("counter-based", new)):
            c0 = time.process_time()
            f()
            t[name].append(time.process_time() - c0)
    n = sum(int(np.prod(sh)) for _, sh, _ in calls)
    print(f"{a.scenario}: {len(calls)} draws of {n:,} numbers over {months} months x {a.runs:,} replicates "
          f"({len(calls) / months:.0f} calls a month)")
    for name, v in t.items():
        med = statistics.median(v)
        print(f"  {name:16s} {1e3 * med / months:6.3f} ms/month  ({1e9 * med / n:5.2f} ns a number, "
              f"median of {a.repeat}: {', '.join(f'{x:.3f}' for x in v)} s)")


if __name__ == "__main__":
    main()
