"""Where the first run's compile time goes: each kernel's compile, numba's passes, and the rest.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_compile.py [--runs 1000] [--scenario karabakh]

Runs, in a fresh process with an empty numba cache (a new temporary ``NUMBA_CACHE_DIR``) and
no compile ahead (``SIM_COMPILE_AHEAD=0``: the run compiles every kernel itself, one after
the other) and no shipped kernels (``SIM_SHIPPED_KERNELS=0``), ``import sim`` and ``sim.run(scenario, runs)``, and prints:

1. the wall and CPU time of the import, of the run, and the run's own split;
2. every kernel compiled, in the order the run compiled it: wall and CPU seconds (numba's
   first compile in a process also pays numba's own set-up), and numba's split of it into
   the compiler as a whole and LLVM (``llvm_lock``);
3. numba's passes summed over the kernels (type inference, lowering: its own and LLVM's).

Figures only: nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import collections, json, sys, time
w0, c0 = time.perf_counter(), time.process_time()
from numba.core.dispatcher import Dispatcher
orig = Dispatcher.compile
depth = [0]
rows = []
def timed(self, sig):
    depth[0] += 1
    w, c = time.perf_counter(), time.process_time()
    try:
        return orig(self, sig)
    finally:
        depth[0] -= 1
        if depth[0] == 0:
            rows.append({"kernel": f"{self.py_func.__module__}.{self.py_func.__name__}", "sig": str(sig)[:60],
                         "wall": time.perf_counter() - w, "cpu": time.process_time() - c, "disp": self, "key": sig})
Dispatcher.compile = timed
import sim
w1, c1 = time.perf_counter(), time.process_time()
res = sim.run(sim.load_scenario(sys.argv[1]), runs=int(sys.argv[2]), seed=1)
w2, c2 = time.perf_counter(), time.process_time()
passes = collections.defaultdict(float)
for r in rows:
    ov = r["disp"].overloads.get(tuple(r["key"])) if isinstance(r["key"], tuple) else None
    md = ov.metadata if ov is not None else {}
    r["timers"] = md.get("timers", {})
    for times in md.get("pipeline_times", {}).values():
        for k, v in times.items():
            passes[k.split("_", 1)[-1] if k[0].isdigit() else k] += v.init + v.run + v.finalize
    del r["disp"], r["key"]
print(json.dumps({"import": [w1 - w0, c1 - c0], "run": [w2 - w1, c2 - c1], "timings": res.manifest["timings_s"],
                  "kernels": rows, "passes": passes}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--scenario", default="karabakh")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "SIM_COMPILE_AHEAD": "0", "SIM_SHIPPED_KERNELS": "0"}
        env.pop("SIM_PRECOMPILING", None)
        p = subprocess.run([sys.executable, "-c", CHILD, a.scenario, str(a.runs)], capture_output=True, text=True,
                           env=env, cwd=ROOT)
    if p.returncode != 0:
        raise SystemExit(p.stderr)
    d = json.loads(p.stdout.strip().splitlines()[-1])
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; {a.scenario}, {a.runs:,} runs, "
          "an empty numba cache, SIM_COMPILE_AHEAD=0, SIM_SHIPPED_KERNELS=0")
    print(f"\n1. import sim: {d['import'][0]:.2f} s wall, {d['import'][1]:.2f} s CPU; sim.run: {d['run'][0]:.2f} s wall, "
          f"{d['run'][1]:.2f} s CPU; the run's split: "
          + ", ".join(f"{k} {v:.2f} s" for k, v in d["timings"].items()))
    ks = d["kernels"]
    print(f"\n2. {len(ks)} compiles (kernel, argument types), in the order the run made them:")
    print(f"   {'wall':>6s} {'CPU':>6s} {'numba':>6s} {'LLVM':>6s}  kernel")
    for r in ks:
        t = r["timers"]
        print(f"   {r['wall']:6.2f} {r['cpu']:6.2f} {t.get('compiler_lock', float('nan')):6.2f} "
              f"{t.get('llvm_lock', float('nan')):6.2f}  {r['kernel']}  {r['sig']}")
    tot = {k: sum(r[k] for r in ks) for k in ("wall", "cpu")}
    llvm = sum(r["timers"].get("llvm_lock", 0.0) for r in ks)
    numba = sum(r["timers"].get("compiler_lock", 0.0) for r in ks)
    print(f"   {tot['wall']:6.2f} {tot['cpu']:6.2f} {numba:6.2f} {llvm:6.2f}  all ({tot['wall'] / d['run'][0]:.0%} of the run's "
          "wall time)")
    ps = d["passes"]
    total = sum(ps.values()) or 1.0
    print("\n3. numba's passes over those compiles (seconds, share):")
    for k, v in sorted(ps.items(), key=lambda kv: -kv[1])[:8]:
        print(f"   {v:6.2f} {v / total:5.0%}  {k}")


if __name__ == "__main__":
    main()
