"""What the compiled kernels cost a user: the first run after an install, later runs, and
repeated runs in one process.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_firstrun.py                                   # this tree
    .venv/bin/python benchmarks/bench_firstrun.py --before /tmp/base --after .      # two trees, side by side

Each tree is a checkout with its own venv (``TREE/.venv``, ``pip install -e TREE``); ``--before``
is typically main's code at the start of a change (``git worktree add /tmp/base <sha>``). The
trees are measured one after the other, repeat by repeat, in this one run (the machine is
shared: ``uptime`` is printed before each section). Prints, for each tree:

1. the first run after an install: ``sim run scenarios/karabakh.yaml --runs N`` in a fresh
   process with an empty kernel cache (a new temporary ``NUMBA_CACHE_DIR``), wall time and
   the manifest's split (start-up, set-up, simulation, figures and report) and the kernels
   it loaded and compiled (loaded: a background compile did it); where the tree compiles
   ahead (sim/ahead.py) as it decides (by default: when two cores are idle), and also with
   ``SIM_COMPILE_AHEAD=1`` (always) and ``=0`` (never: the run compiles them, as before), both
   without the shipped kernels (``SIM_SHIPPED_KERNELS=0``; by default a tree that ships them
   copies them in);
   and the first run when it comes later than the import (a notebook, ``sim --help`` first):
   ``import sim``, the background compile to its end, then ``sim run``;
2. the next run, the cache filled, in a fresh process (medians of ``--repeats``);
3. two runs in one process (``sim.run`` twice from Python, in-process as ``sim run`` does
   for N runs, then twice with two worker processes), and a Sobol sweep after them
   (``sim.sweep``, two workers): each one's wall time, set-up and the kernels it loaded;
4. what one process pays once, in its first run: importing sim and Mesa, the first run's
   set-up, and the time numba spends loading the kernels from its cache (the first load
   includes numba's own start).

Figures only: nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

IN_ONE_PROCESS = r"""
import json, sys, time
import sim

def main():
    runs = int(sys.argv[1])
    scn = sim.load_scenario("karabakh")
    out = []
    for label, kw in (("run 1, in-process", {}), ("run 2, in-process", {}),
                      ("run 3, 2 workers", {"workers": 2, "backend": "processes"}),
                      ("run 4, 2 workers", {"workers": 2, "backend": "processes"})):
        t0 = time.perf_counter()
        res = sim.run(scn, runs=runs, seed=7, **kw)
        out.append({"label": label, "wall": time.perf_counter() - t0, "setup": res.manifest["timings_s"]["setup"],
                    "simulation": res.manifest["timings_s"]["simulation"], "kernels": res.manifest.get("kernels")})
    unc = scn.uncertainties()[:4]
    t0 = time.perf_counter()
    sw = sim.sweep(scn, "sobol", samples=8, runs=200, params={u.path: tuple(u.dist.args) for u in unc}, seed=3,
                   workers=2, backend="processes")
    m = sw.manifest if hasattr(sw, "manifest") else {}
    out.append({"label": "sweep after them, 2 workers", "wall": time.perf_counter() - t0,
                "setup": (m.get("timings_s") or {}).get("setup"), "simulation": (m.get("timings_s") or {}).get("simulation"),
                "kernels": m.get("kernels")})
    print(json.dumps(out))

if __name__ == "__main__":
    main()
"""


ONCE = r"""
import json, sys, time
t0 = time.perf_counter()
import sim
t1 = time.perf_counter()
import mesa  # what the first chunk's world needs (scipy.spatial, pandas come with it)
t2 = time.perf_counter()
from numba.core.caching import Cache
spent = []
load = Cache.load_overload
def timed(self, sig, ctx):
    a = time.perf_counter()
    try:
        return load(self, sig, ctx)
    finally:
        spent.append(time.perf_counter() - a)
Cache.load_overload = timed
scn = sim.load_scenario("karabakh")
res = sim.run(scn, runs=int(sys.argv[1]), seed=7)
print(json.dumps({"import sim": t1 - t0, "import mesa": t2 - t1, "set-up of the first run": res.manifest["timings_s"]["setup"],
                  "kernels loaded": len(spent), "loading them (the first: numba's start)": sum(spent),
                  "the first load": spent[0] if spent else 0.0}))
"""


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return f"load average {os.getloadavg()}"


class Tree:
    def __init__(self, label: str, root: Path):
        self.label, self.root = label, root.resolve()
        self.python = self.root / ".venv" / "bin" / "python"
        self.sim = self.root / ".venv" / "bin" / "sim"
        if not self.sim.exists():
            raise SystemExit(f"{self.sim}: no venv there (python3 -m venv .venv && .venv/bin/pip install -e .)")
        self.ahead = (self.root / "sim" / "ahead.py").exists()
        try:
            self.commit = subprocess.run(["git", "-C", str(self.root), "rev-parse", "--short", "HEAD"],
                                         capture_output=True, text=True).stdout.strip()
        except OSError:
            self.commit = "?"

    def __str__(self) -> str:
        return f"{self.label} ({self.root}, {self.commit})"

    def sim_run(self, cache: str, runs: int, out: Path, **env: str) -> dict:
        e = {**os.environ, "NUMBA_CACHE_DIR": cache, **env}
        e.pop("SIM_PRECOMPILING", None)
        t0 = time.perf_counter()
        p = subprocess.run([str(self.sim), "run", "scenarios/karabakh.yaml", "--runs", str(runs), "--seed", "1",
                            "--out", str(out)], cwd=self.root, capture_output=True, text=True, env=e)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            raise RuntimeError(f"{self}: sim run failed:\n{p.stderr}")
        m = json.loads((out / "manifest.json").read_text())
        return {"wall": wall, **m["timings_s"], "kernels": m.get("kernels")}

    def in_one_process(self, cache: str, runs: int, code: str = IN_ONE_PROCESS) -> list[dict]:
        e = {**os.environ, "NUMBA_CACHE_DIR": cache}
        with tempfile.TemporaryDirectory() as d:
            script = Path(d) / "twice.py"
            script.write_text(code)
            p = subprocess.run([str(self.python), str(script), str(runs)], cwd=d, capture_output=True, text=True,
                               env=e)
        if p.returncode != 0:
            raise RuntimeError(f"{self}: {p.stderr}")
        return json.loads(p.stdout.strip().splitlines()[-1])


def median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def show_runs(label: str, rows: list[dict]) -> None:
    k = rows[-1].get("kernels")
    kern = f"   kernels: loaded {k['loaded']}, compiled {k['compiled']}" if k else ""
    each = ", ".join(f"{r['wall']:.1f}" for r in rows)
    print(f"  {label:44s} {median(rows, 'wall'):6.2f} s  (each: {each})   start-up {median(rows, 'startup'):.2f}, "
          f"set-up {median(rows, 'setup'):.2f}, simulation {median(rows, 'simulation'):.2f}, "
          f"figures and report {median(rows, 'outputs'):.2f}{kern}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, default=None, help="a tree with the code before (its own .venv)")
    ap.add_argument("--after", type=Path, default=ROOT, help="a tree with the code after (default: this one)")
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3, help="repeats of each measure (medians)")
    a = ap.parse_args()
    trees = ([Tree("before", a.before)] if a.before else []) + [Tree("after", a.after)]
    print(f"{len(trees)} tree(s): " + "; ".join(map(str, trees)))
    print(f"{os.cpu_count()} cores; sim run scenarios/karabakh.yaml --runs {a.runs:,}; medians of {a.repeats}")

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        print(f"\n1. The first run after an install: an empty kernel cache, a fresh process\n   {uptime()}")
        cold: dict[str, list[dict]] = {}
        warm_cache: dict[str, str] = {}
        for r in range(a.repeats):
            print(f"   repeat {r + 1}: {uptime()}", flush=True)
            for t in trees:
                modes = [("", {})] + ([(" (SIM_COMPILE_AHEAD=1)", {"SIM_COMPILE_AHEAD": "1", "SIM_SHIPPED_KERNELS": "0"}),
                                       (" (SIM_COMPILE_AHEAD=0)", {"SIM_COMPILE_AHEAD": "0", "SIM_SHIPPED_KERNELS": "0"})]
                                      if t.ahead else [])
                for suffix, env in modes:
                    cache = tempfile.mkdtemp(dir=tmp, prefix="numba-")
                    row = t.sim_run(cache, a.runs, tmp_path / f"cold-{t.label}-{r}{suffix.strip()}", **env)
                    cold.setdefault(t.label + suffix, []).append(row)
                    warm_cache.setdefault(t.label, cache)
        for label, rows in cold.items():
            show_runs(label, rows)
        for t in [t for t in trees if t.ahead]:  # a notebook, or `sim --help` first: the run comes later
            rows, took = [], []
            for r in range(a.repeats):
                cache = tempfile.mkdtemp(dir=tmp, prefix="numba-")
                env = {**os.environ, "NUMBA_CACHE_DIR": cache, "SIM_COMPILE_AHEAD": "1", "SIM_SHIPPED_KERNELS": "0"}
                env.pop("SIM_PRECOMPILING", None)
                subprocess.run([str(t.python), "-c", "import sim"], env=env, check=True)
                marks = Path(cache) / "sim-ahead"
                while not list(marks.glob("kernels-*.json")):
                    time.sleep(0.2)
                mark = json.loads(next(marks.glob("kernels-*.json")).read_text())
                took.append(mark["seconds"])
                rows.append(t.sim_run(cache, a.runs, tmp_path / f"later-{t.label}-{r}"))
            print(f"  {t.label}: import sim, then (SIM_COMPILE_AHEAD=1) the background compile took "
                  f"{statistics.median(took):.1f} s (each: {', '.join(f'{x:.1f}' for x in took)}; "
                  f"{mark['processes']} process(es)); the first sim run after it:")
            show_runs("  then sim run", rows)

        print(f"\n2. The next run: the cache filled, a fresh process\n   {uptime()}")
        warm: dict[str, list[dict]] = {}
        for r in range(a.repeats):
            for t in trees:
                warm.setdefault(t.label, []).append(t.sim_run(warm_cache[t.label], a.runs, tmp_path / f"warm-{t.label}-{r}"))
        for label, rows in warm.items():
            show_runs(label, rows)

        print(f"\n3. Runs in one process (the cache filled): sim.run twice in-process, twice with 2 workers, "
              f"then a sweep (8 x 200 runs, 2 workers)\n   {uptime()}")
        for t in trees:
            rows = t.in_one_process(warm_cache[t.label], a.runs)
            print(f"  {t.label}:")
            for row in rows:
                k = row.get("kernels")
                kern = f"   kernels: loaded {k['loaded']}, compiled {k['compiled']}" if k else ""
                setup = f"   set-up {row['setup']:.2f} s" if row.get("setup") is not None else ""
                print(f"    {row['label']:34s} {row['wall']:6.2f} s{setup}{kern}", flush=True)
        print(f"\n4. What one process pays once (the cache filled; sim.run in-process, as sim run)\n   {uptime()}")
        for t in trees:
            rows = [t.in_one_process(warm_cache[t.label], a.runs, ONCE) for _ in range(a.repeats)]
            print(f"  {t.label}: " + ", ".join(f"{k} {statistics.median(r[k] for r in rows):.2f}"
                                              + ("" if k == "kernels loaded" else " s") for k in rows[0]), flush=True)
    print(f"\n{uptime()}")


if __name__ == "__main__":
    main()
