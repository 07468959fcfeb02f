"""``python -m sim.precompile``: compile the stock kernels into numba's disk cache now.

What the first ``import sim`` starts in the background (:mod:`sim.ahead`), and what an image
build or an install script can run itself after ``pip install`` so that no run compiles::

    python -m sim.precompile              # as many processes as idle cores (up to one per kernel module)
    python -m sim.precompile --parts 1    # in this process only

It runs one replicate for one month of each shipped scenario (``karabakh`` first) until
every stock kernel has been called once, in the default precision (float32): numba compiles
each kernel for exactly the argument types a run gives it, and caches it as a run's first
call would. With several processes the kernels are shared out between them by their
estimated compile time (:func:`estimate`: the largest first, each to the process that would
finish first), and in each process the kernels of the other shares run as plain Python (one
replicate: milliseconds), so each kernel is compiled once, by one process. It holds the lock
of :func:`sim.ahead.lock_path` while it runs (a run that needs a kernel meanwhile waits for
that kernel, then loads it) and leaves :func:`sim.ahead.mark_path`: what it compiled, loaded
or did not reach, and how long it took.

A run that finds its kernels not compiled, and no compile under way, compiles them the same
way in the foreground (:func:`sim.ahead.settle` calls :func:`foreground`): its own process
takes the first share, helper processes the others."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

from .ahead import INSIDE, fingerprint, idle_cores, kernel_sources, lock_path, mark_path, state_dir

FIRST = "karabakh"
"""The shipped scenario run first (the README's first command); the others follow by name."""


def stock_kernels() -> dict[str, list[tuple[str, Any]]]:
    """The stock kernels by module: ``{"sim.rules.spells_kernel": [("finish", dispatcher), ("month", ...)], ...,
    "sim.seeding_kernel": [...], "sim.world.tally_kernel": [...]}``."""
    import importlib
    import pkgutil

    from . import rules
    from .rules.kernels import EVERY_RUN, disk_kernels

    out: dict[str, list[tuple[str, Any]]] = {}
    names = [f"{rules.__name__}.{info.name}" for info in sorted(pkgutil.iter_modules(rules.__path__), key=lambda m: m.name)
             if info.name.endswith("_kernel")]
    for name in [*names, *EVERY_RUN]:  # the rules' kernels, and those every run uses
        mod = importlib.import_module(name)
        found = [(obj.__name__, obj) for obj in disk_kernels(mod)]
        if found:
            out[mod.__name__] = found
    return out


def labelled(kernels: dict[str, list[tuple[str, Any]]]) -> dict[str, Any]:
    """``{"spells_kernel.month": dispatcher, ...}``: each stock kernel by the label the marks,
    :func:`sim.rules.kernels.uncached` and the reports use (its module's last name, its name)."""
    return {f"{m.rsplit('.', 1)[-1]}.{attr}": disp for m, found in kernels.items() for attr, disp in found}


PER_KERNEL_S = 0.08
"""A kernel's compile time beside its code (:func:`estimate`): numba's fixed cost of one
compile and its cache (measured: the smallest kernels take 0.08-0.1 s)."""
PER_INSTRUCTION_S = 0.002
"""A kernel's compile time per instruction of its Python bytecode (:func:`estimate`;
measured on the stock kernels: 0.5 s for 190 instructions, 1.8 s for 880)."""


def estimate(disp: Any) -> float:
    """A kernel's compile time, estimated from the size of its code (seconds of one core,
    roughly): numba's time goes into typing, lowering and optimizing each of its statements."""
    import dis

    return PER_KERNEL_S + PER_INSTRUCTION_S * sum(1 for _ in dis.get_instructions(disp.py_func))


def shares(costs: dict[str, float], n: int) -> list[list[str]]:
    """The kernels ``costs`` (label: estimated compile seconds) shared out between ``n``
    processes: the largest first, each to the process with the least so far. The same in
    every process: each computes its own share."""
    out: list[list[str]] = [[] for _ in range(max(1, n))]
    load = [0.0] * len(out)
    for label in sorted(costs, key=lambda k: (-costs[k], k)):
        i = min(range(len(out)), key=lambda j: (load[j], j))
        out[i].append(label)
        load[i] += costs[label]
    return out


def _costs(kernels: dict[str, Any]) -> dict[str, float]:
    """The estimated compile time of each kernel of ``kernels`` (labelled)."""
    return {k: estimate(d) for k, d in kernels.items()}


def scenario_order() -> list[str]:
    """The shipped scenarios to run, :data:`FIRST` first."""
    from .loading import list_scenarios

    names = [s["name"] for s in list_scenarios()]
    return sorted(names, key=lambda n: (n != FIRST, n))


def run_one(name: str) -> None:
    """One replicate, one month of shipped scenario ``name``, in this process: every kernel
    its rules call is compiled (or loaded) on the way."""
    from . import montecarlo, runner
    from .loading import load_scenario

    job = montecarlo.prepare(load_scenario(name), runs=1, seed=0, months=1)
    runner.simulate_chunk(job.tasks[0])


def compile_part(k: int, n: int) -> dict[str, list[str]]:
    """Compile (or load) the kernels of share ``k`` of ``n`` (:func:`shares`): ``{"compiled":
    [...], "loaded": [...], "not_reached": [...]}``, each ``module.kernel``."""
    kernels = stock_kernels()
    by_label = labelled(kernels)
    mine = set(shares(_costs(by_label), n)[k])
    swapped = []
    for mod_name, found in kernels.items():
        for attr, disp in found:
            if f"{mod_name.rsplit('.', 1)[-1]}.{attr}" in mine:
                continue
            setattr(sys.modules[mod_name], attr, disp.py_func)  # another process compiles it: Python here
            swapped.append((sys.modules[mod_name], attr, disp))
    targets = [(label, disp) for label, disp in by_label.items() if label in mine]
    try:
        for name in scenario_order():
            if all(disp.signatures for _, disp in targets):
                break
            run_one(name)
        if not all(disp.signatures for _, disp in targets):
            from .rules.kernels import every_draw

            every_draw()
    finally:
        for mod, attr, disp in swapped:
            setattr(mod, attr, disp)
    out: dict[str, list[str]] = {"compiled": [], "loaded": [], "not_reached": []}
    for label, disp in targets:
        stats = disp.stats
        key = ("compiled" if sum(stats.cache_misses.values()) else "loaded") if disp.signatures else "not_reached"
        out[key].append(label)
    return out


def _helpers(n: int) -> list[subprocess.Popen]:
    """Start the helper processes of shares 1..n-1 (each computes its own share)."""
    env = {**os.environ, INSIDE: "1"}
    return [subprocess.Popen([sys.executable, "-m", "sim.precompile", "--part", f"{k}/{n}"], env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
            for k in range(1, n)]


def coordinate(n: int | None = None) -> dict[str, Any]:
    """Compile every stock kernel over ``n`` processes (default: :func:`sim.ahead.idle_cores`,
    at least one, at most one per kernel module), this one among them: on a machine already
    busy, more processes only make each slower. The helpers start first, so that their
    start overlaps this process's imports. Write the mark and return it."""
    t0 = time.perf_counter()
    fp = fingerprint()
    n = max(1, min(n or idle_cores(), len(kernel_sources())))  # idle_cores() may be 0: then one
    helpers = _helpers(n)
    kernels = stock_kernels()
    result: dict[str, Any] = {"fingerprint": fp, "processes": n, "compiled": [], "loaded": [], "not_reached": [],
                              "failed": []}
    reports = []
    try:
        reports.append(compile_part(0, n))
    except Exception as exc:  # noqa: BLE001 - a run compiles what this did not; say what happened
        result["failed"].append(f"process 0: {type(exc).__name__}: {exc}")
    for k, h in enumerate(helpers, start=1):
        out, _ = h.communicate()
        try:
            reports.append(json.loads(out.strip().splitlines()[-1]))
        except (ValueError, IndexError):
            result["failed"].append(f"process {k}: exit status {h.returncode}")
    for r in reports:
        for key in ("compiled", "loaded", "not_reached"):
            result[key] += r.get(key, [])
    for key in ("compiled", "loaded", "not_reached"):
        result[key].sort()
    result["seconds"] = round(time.perf_counter() - t0, 2)
    result["estimated_s"] = {k: round(v, 2) for k, v in sorted(_costs(labelled(kernels)).items())}
    _write_mark(result, fp)
    return result


def _write_mark(mark: dict[str, Any], fp: str) -> None:
    """Write the mark atomically; remove the marks of other fingerprints beside it."""
    path = mark_path(fp)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(mark, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    for old in path.parent.glob("kernels-*.json"):
        if old != path:
            old.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.precompile", description=__doc__.splitlines()[0])
    ap.add_argument("--parts", type=int, default=None, help="processes (default: the idle cores, at most one "
                                                           "per kernel module)")
    ap.add_argument("--part", default=None, help=argparse.SUPPRESS)  # "k/n": one helper's share
    ap.add_argument("--lock-fd", type=int, default=None, help=argparse.SUPPRESS)  # inherited, already locked
    a = ap.parse_args(argv)
    os.environ[INSIDE] = "1"  # this process and its helpers wait for no compile and start none
    if a.part:
        k, n = (int(x) for x in a.part.split("/"))
        print(json.dumps(compile_part(k, n)), flush=True)
        return 0
    if a.lock_fd is not None:  # started by sim.ahead.start(), which took the lock
        mark = coordinate(a.parts)
    else:
        import fcntl

        lock = lock_path()
        state_dir().mkdir(parents=True, exist_ok=True)
        with open(lock, "a+b") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # a compile under way: wait for it, then look
            if mark_path().exists():
                print(f"sim.precompile: the kernels are compiled already ({mark_path()})")
                return 0
            mark = coordinate(a.parts)
    print(f"sim.precompile: {len(mark['compiled'])} kernel(s) compiled, {len(mark['loaded'])} loaded from the cache, "
          f"in {mark['processes']} process(es), {mark['seconds']:.1f} s"
          + (f"; not reached: {', '.join(mark['not_reached'])}" if mark["not_reached"] else "")
          + (f"; failed: {'; '.join(mark['failed'])}" if mark["failed"] else ""), flush=True)
    return 0 if not mark["failed"] else 1


if __name__ == "__main__":
    sys.exit(main())
