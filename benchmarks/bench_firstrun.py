"""What the compiled kernels cost a user: the first run after an install, later runs, and
repeated runs in one process.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_firstrun.py                                   # this tree
    .venv/bin/python benchmarks/bench_firstrun.py --before /tmp/base --after .      # two trees, side by side
    .venv/bin/python benchmarks/bench_firstrun.py --before /tmp/base --sections 2,5 --repeats 7   # the warm run only

Each tree is a checkout with its own venv (``TREE/.venv``, ``pip install -e TREE``), or without one:
it is then run with the interpreter running this script as ``python -m sim.cli`` in the tree's
folder, which imports the tree's code first; ``--python PY`` runs every tree so, with PY (two
trees measured the same way, with the same packages). ``--before``
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
2. the next run, the cache filled, in a fresh process (medians of ``--repeats``; the backend it ran on);
3. two runs in one process (``sim.run`` twice from Python, as ``sim run`` does for N runs --
   in-process, or forked workers after the first chunk where two cores are idle -- then twice
   with two spawned worker processes), and a Sobol sweep after them
   (``sim.sweep``, two workers): each one's wall time, set-up and the kernels it loaded;
4. what one process pays once, in its first run: importing sim and the world (Mesa's model
   and agent: sim.world.mesacore), the first run's set-up, and the time numba spends loading
   the kernels from its cache (the first load includes numba's own start);
5. ``import sim`` alone (``python -X importtime -c "import sim"``: the package's cumulative
   import time, and the process's wall time), medians of ``--repeats``.

``--sections 2,5`` runs only those (by default all); section 2 without section 1 first fills
each tree's kernel cache with one run. Section 2 is the figure of issue 25's end-to-end target
(``sim run scenarios/karabakh.yaml --runs 10000``, the cache filled, <= 2.5 s).

Figures only: nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
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
    for label, kw in (("run 1, as sim run", {}), ("run 2, as sim run", {}),
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
import sim.world.model  # what the first chunk's world needs (Mesa's model and agent)
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
print(json.dumps({"import sim": t1 - t0, "import the world": t2 - t1, "set-up of the first run": res.manifest["timings_s"]["setup"],
                  "kernels loaded": len(spent), "loading them (the first: numba's start)": sum(spent),
                  "the first load": spent[0] if spent else 0.0}))
"""


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return f"load average {os.getloadavg()}"


class Tree:
    def __init__(self, label: str, root: Path, python: Path | None = None):
        self.label, self.root = label, root.resolve()
        self.python = self.root / ".venv" / "bin" / "python"
        self.sim: list[str] = [str(self.root / ".venv" / "bin" / "sim")]
        if python is not None or not self.python.exists():  # another's interpreter runs the tree's code
            self.python = Path(python or sys.executable)
            self.sim = [str(self.python), "-m", "sim.cli"]  # run in the tree's folder: its code comes first
        self.ahead = (self.root / "sim" / "ahead.py").exists()
        try:
            self.commit = subprocess.run(["git", "-C", str(self.root), "rev-parse", "--short", "HEAD"],
                                         capture_output=True, text=True).stdout.strip()
        except OSError:
            self.commit = "?"

    def __str__(self) -> str:
        return f"{self.label} ({self.root}, {self.commit})"

    def sim_run(self, cache: str, runs: int, out: Path, **env: str) -> dict:
        e = {**os.environ, "NUMBA_CACHE_DIR": cache, "SIM_TUNE_KERNELS": "0", **env}  # each run timed alone
        e.pop("SIM_PRECOMPILING", None)
        t0 = time.perf_counter()
        p = subprocess.run([*self.sim, "run", "scenarios/karabakh.yaml", "--runs", str(runs), "--seed", "1",
                            "--out", str(out)], cwd=self.root, capture_output=True, text=True, env=e)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            raise RuntimeError(f"{self}: sim run failed:\n{p.stderr}")
        m = json.loads((out / "manifest.json").read_text())
        return {"wall": wall, **m["timings_s"], "kernels": m.get("kernels"), "backend": f"{m['backend']} x{m['workers']}"}

    def env(self, cache: str) -> dict[str, str]:
        """This environment with the cache, and the tree's folder first on the import path."""
        path = os.pathsep.join(p for p in (str(self.root), os.environ.get("PYTHONPATH", "")) if p)
        return {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": path, "SIM_TUNE_KERNELS": "0"}

    def import_sim(self, cache: str) -> dict:
        """``python -X importtime -c "import sim"``: the package's cumulative import time (s) and the wall time."""
        t0 = time.perf_counter()
        p = subprocess.run([str(self.python), "-X", "importtime", "-c", "import sim"], cwd=self.root,
                           capture_output=True, text=True, env=self.env(cache))
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            raise RuntimeError(f"{self}: {p.stderr}")
        line = [ln for ln in p.stderr.splitlines() if ln.rstrip().endswith("| sim")][-1]
        return {"import": int(line.split("|")[1]) / 1e6, "wall": wall}

    def in_one_process(self, cache: str, runs: int, code: str = IN_ONE_PROCESS) -> list[dict]:
        e = self.env(cache)
        with tempfile.TemporaryDirectory() as d:
            script = Path(d) / "twice.py"
            script.write_text(code)
            p = subprocess.run([str(self.python), str(script), str(runs)], cwd=d, capture_output=True, text=True,
                               env=e)
        if p.returncode != 0:
            raise RuntimeError(f"{self}: {p.stderr}")
        return json.loads(p.stdout.strip().splitlines()[-1])


def idle_share(seconds: float = 1.0) -> float:
    """The share of the machine's CPU time idle over the next ``seconds`` (``/proc/stat``)."""
    def ticks() -> list[float]:
        with open("/proc/stat") as f:
            return [float(x) for x in f.readline().split()[1:9]]

    a = ticks()
    time.sleep(seconds)
    b = ticks()
    d = [y - x for x, y in zip(a, b, strict=True)]
    return (d[3] + d[4]) / max(sum(d), 1.0)


def wait_idle(cap: float, share: float = 0.9) -> float:
    """Wait until a second passes with the cores ``share`` idle, at most ``cap`` seconds; the last share seen."""
    end = time.monotonic() + cap
    while True:
        seen = idle_share()
        if seen >= share or time.monotonic() >= end:
            return seen


def median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def show_runs(label: str, rows: list[dict]) -> None:
    k = rows[-1].get("kernels")
    kern = f"   kernels: loaded {k['loaded']}, compiled {k['compiled']}" if k else ""
    each = ", ".join(f"{r['wall']:.1f}" for r in rows)
    sims = ", ".join(f"{r['simulation']:.2f}" for r in rows)
    backends = sorted({r["backend"] for r in rows if r.get("backend")})
    ran = f"   ran: {', '.join(backends)}" if backends else ""
    print(f"  {label:44s} {median(rows, 'wall'):6.2f} s  (each: {each})   start-up {median(rows, 'startup'):.2f}, "
          f"set-up {median(rows, 'setup'):.2f}, simulation {median(rows, 'simulation'):.2f} (each: {sims}), "
          f"figures and report {median(rows, 'outputs'):.2f}{kern}{ran}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, default=None, help="a tree with the code before (its own .venv)")
    ap.add_argument("--after", type=Path, default=ROOT, help="a tree with the code after (default: this one)")
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3, help="repeats of each measure (medians)")
    ap.add_argument("--python", type=Path, default=None,
                    help="the interpreter for a tree without its own .venv (default: this one)")
    ap.add_argument("--sections", default="1,2,3,4,5", help="which sections to run, e.g. 2,5")
    ap.add_argument("--wait-idle", type=float, default=0.0, metavar="SECONDS",
                    help="section 2: before each run, wait up to SECONDS for a second in which the "
                         "machine's cores were 90%% idle (a shared machine); says how idle it was")
    a = ap.parse_args()
    sections = {int(x) for x in a.sections.split(",") if x.strip()}
    trees = ([Tree("before", a.before, a.python)] if a.before else []) + [Tree("after", a.after, a.python)]
    print(f"{len(trees)} tree(s): " + "; ".join(map(str, trees)))
    print(f"{os.cpu_count()} cores; sim run scenarios/karabakh.yaml --runs {a.runs:,}; medians of {a.repeats}")

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        cold: dict[str, list[dict]] = {}
        warm_cache: dict[str, str] = {}
        if 1 not in sections:  # each tree's cache filled by one run (the shipped kernels copied in, or compiled)
            for t in trees:
                warm_cache[t.label] = tempfile.mkdtemp(dir=tmp, prefix="numba-")
                t.sim_run(warm_cache[t.label], 1000, tmp_path / f"fill-{t.label}")
        else:
            print(f"\n1. The first run after an install: an empty kernel cache, a fresh process\n   {uptime()}")
        for r in range(a.repeats if 1 in sections else 0):
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
        for t in [t for t in trees if t.ahead and 1 in sections]:  # a notebook, or `sim --help` first: the run comes later
            rows, took = [], []
            for r in range(a.repeats):
                cache = tempfile.mkdtemp(dir=tmp, prefix="numba-")
                env = {**os.environ, "NUMBA_CACHE_DIR": cache, "SIM_COMPILE_AHEAD": "1", "SIM_SHIPPED_KERNELS": "0"}
                env.pop("SIM_PRECOMPILING", None)
                subprocess.run([str(t.python), "-c", "import sim"], cwd=t.root, env=env, check=True)
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

        if 2 in sections:
            print(f"\n2. The next run: the cache filled, a fresh process (issue 25's end-to-end figure: <= 2.5 s)\n   {uptime()}")
        warm: dict[str, list[dict]] = {}
        for r in range(a.repeats if 2 in sections else 0):
            for t in trees:
                idle = wait_idle(a.wait_idle) if a.wait_idle else None
                row = t.sim_run(warm_cache[t.label], a.runs, tmp_path / f"warm-{t.label}-{r}")
                if idle is not None:
                    row["idle"] = idle
                    print(f"   {t.label} run {r + 1}: the cores {idle:.0%} idle the second before; "
                          f"simulation {row['simulation']:.2f} s on {row['backend']}", flush=True)
                warm.setdefault(t.label, []).append(row)
        for label, rows in warm.items():
            show_runs(label, rows)

        if 3 in sections:
            print(f"\n3. Runs in one process (the cache filled): sim.run twice as sim run, twice with 2 workers, "
              f"then a sweep (8 x 200 runs, 2 workers)\n   {uptime()}")
        for t in trees if 3 in sections else []:
            rows = t.in_one_process(warm_cache[t.label], a.runs)
            print(f"  {t.label}:")
            for row in rows:
                k = row.get("kernels")
                kern = f"   kernels: loaded {k['loaded']}, compiled {k['compiled']}" if k else ""
                setup = f"   set-up {row['setup']:.2f} s" if row.get("setup") is not None else ""
                print(f"    {row['label']:34s} {row['wall']:6.2f} s{setup}{kern}", flush=True)
        if 4 in sections:
            print(f"\n4. What one process pays once (the cache filled; sim.run as sim run)\n   {uptime()}")
        for t in trees if 4 in sections else []:
            rows = [t.in_one_process(warm_cache[t.label], a.runs, ONCE) for _ in range(a.repeats)]
            print(f"  {t.label}: " + ", ".join(f"{k} {statistics.median(r[k] for r in rows):.2f}"
                                              + ("" if k == "kernels loaded" else " s") for k in rows[0]), flush=True)
        if 5 in sections:
            print(f"\n5. import sim (python -X importtime -c 'import sim'), interleaved\n   {uptime()}")
            imports: dict[str, list[dict]] = {}
            for _ in range(a.repeats):
                for t in trees:
                    imports.setdefault(t.label, []).append(t.import_sim(warm_cache[t.label]))
            for label, rows in imports.items():
                each = ", ".join(f"{r['import']:.2f}" for r in rows)
                print(f"  {label:44s} import sim {median(rows, 'import'):.3f} s (each: {each}); "
                      f"the process {median(rows, 'wall'):.2f} s", flush=True)
    print(f"\n{uptime()}")


if __name__ == "__main__":
    main()
